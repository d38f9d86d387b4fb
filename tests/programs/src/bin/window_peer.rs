//! `window_peer FILE first|second N`: two guests in two processes play
//! ping-pong through a shared window's word 0 with plain volatile loads and
//! stores (no host call): `first` serves odd numbers, `second` answers
//! even ones. Word 1 says the partner is ready. `second` also checks that
//! its window and a call-path map of its own see the bytes `first` wrote
//! at 512.. (`hello from first`). Prints `ok` at the end.

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let first = a[2] == "first";
    let n: u32 = a[3].parse().unwrap();
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let w = Window::new(&m, 0, 4096).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let wait_for = |want: u32| {
        while w.load32(0).unwrap() != want {
            assert!(Instant::now() < deadline, "partner lost at {want}");
            std::hint::spin_loop();
        }
    };
    if first {
        w.write_from(512, b"hello from first").unwrap();
        while w.load32(4).unwrap() == 0 {
            assert!(Instant::now() < deadline, "partner never came");
        }
    } else {
        w.store32(4, 1).unwrap();
    }
    let t = Instant::now();
    for i in 0..n {
        let serve = 2 * i + if first { 1 } else { 2 };
        wait_for(serve - 1);
        w.store32(0, serve).unwrap();
    }
    if first {
        wait_for(2 * n);
        println!(
            "round_trip_ns {:.0}",
            t.elapsed().as_nanos() as f64 / f64::from(n)
        );
    } else {
        assert_eq!(w.read_vec(512, 16).unwrap(), b"hello from first");
        assert_eq!(m.read_at(512, 16).unwrap(), b"hello from first");
    }
    println!("ok");
}
