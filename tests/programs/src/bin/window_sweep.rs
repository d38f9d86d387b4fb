//! `window_sweep FILE MILLIS`: for MILLIS milliseconds, places a window
//! over FILE's 3 pages and reads all of it, by wasm loads and by
//! `memory.copy`, again and again, while the test shortens and restores
//! the file from outside. Under `--on-truncation zero` it lives through
//! every truncation and prints `replaced N` (windows that lost a page)
//! then `ok`; under `trap` it is expected to trap (exit 134) at the first
//! vanished page it touches.

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let until = Instant::now() + Duration::from_millis(a[2].parse().unwrap());
    let f = open_file(&a[1], true).unwrap();
    // The file may be short right now: map its full length once it is back.
    let give_up = Instant::now() + Duration::from_secs(60);
    let m = loop {
        match Mmap::map(&f, 12288, MmapOptions::new()) {
            Ok(m) => break m,
            Err(e) => assert!(Instant::now() < give_up, "the file never came back: {e}"),
        }
    };
    let mut buf = vec![0u8; 12288];
    let mut replaced = 0u64;
    let mut sum = 0u64;
    while Instant::now() < until {
        let w = Window::new(&m, 0, 12288).unwrap();
        for _ in 0..4 {
            for i in (0..12288).step_by(512) {
                sum += u64::from(w.get(i).unwrap());
            }
            w.read_into(0, &mut buf).unwrap();
            sum += u64::from(buf[12287]);
        }
        replaced += u64::from(w.replaced());
    }
    std::hint::black_box(sum);
    println!("replaced {replaced}");
    println!("ok");
}
