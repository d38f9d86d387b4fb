//! The guest half of `cargo run --release --example bench` (timings taken
//! inside the guest with the WASI monotonic clock). Prints `name value`.
//! - `byte FILE N`: read_byte, m[i], m[i] = v, and the two floors of a
//!   call (a free function, a method): ns per operation.
//! - `rand4k FILE N`: random 4 KiB reads: seek+read on the map, and
//!   wasi:filesystem read on a descriptor: ns per read.
//! - `seq FILE ROUNDS`: 1 MiB sequential reads and writes: MB/s.
//! - `find FILE [NEEDLE_BYTES [periodic]]`: find of an absent needle (a
//!   short one, or NEEDLE_BYTES of a pattern absent from the file, or with
//!   `periodic` zeros ending in a one, for a file of zeros) over the whole
//!   map: ns per find.
//! - `ping FILE N spin|block first|second`: round trips over a shared word.
//! - `wbyte FILE N`: a window's single-byte loads and stores: ns per op.
//! - `wrand4k FILE N`: random 4 KiB copies out of a window: ns per read.
//! - `wseq FILE ROUNDS`: 1 MiB copies out of a window: MB/s.
//! - `wping FILE N first|second`: round trips over a window's word.
//! - `nop`: nothing (start-up time).

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Mmap, MmapOptions, Whence, Window, open_file};

fn ns(t: Instant, n: u64) -> f64 {
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a[0] == "nop" {
        return;
    }
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let r = m.raw();
    let len = m.len().unwrap();
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    match a[0].as_str() {
        "byte" => {
            let n: u64 = a[2].parse().unwrap();
            let t = Instant::now();
            for _ in 0..n {
                if r.read_byte().is_err() {
                    r.seek(0, Whence::Set).unwrap();
                }
            }
            println!("read_byte {:.1}", ns(t, n));
            let t = Instant::now();
            for i in 0..n {
                std::hint::black_box(r.get((i % len) as i64).unwrap());
            }
            println!("get {:.1}", ns(t, n));
            let t = Instant::now();
            for i in 0..n {
                r.set((i % len) as i64, i as u8).unwrap();
            }
            println!("set {:.1}", ns(t, n));
            // The floors of a call: a free function and a method on the
            // map, each with one flat result (no result<..> in memory).
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(wasm_mmap_guest::pagesize());
            }
            println!("floor_free {:.1}", ns(t, n));
            let t = Instant::now();
            for _ in 0..n {
                std::hint::black_box(r.closed());
            }
            println!("floor_method {:.1}", ns(t, n));
        }
        "rand4k" => {
            let n: u64 = a[2].parse().unwrap();
            let offs: Vec<u64> = (0..n).map(|_| rnd(len / 4096) * 4096).collect();
            let t = Instant::now();
            for &o in &offs {
                r.seek(o as i64, Whence::Set).unwrap();
                std::hint::black_box(r.read(Some(4096)).unwrap());
            }
            println!("map_seek_read_4k {:.1}", ns(t, n));
            let t = Instant::now();
            for &o in &offs {
                std::hint::black_box(r.read_at(o, 4096).unwrap());
            }
            println!("map_read_at_4k {:.1}", ns(t, n));
            let t = Instant::now();
            for &o in &offs {
                std::hint::black_box(f.read(4096, o).unwrap());
            }
            println!("wasi_read_4k {:.1}", ns(t, n));
        }
        "seq" => {
            let rounds: u64 = a[2].parse().unwrap();
            let mib = 1 << 20;
            let chunks = len / mib;
            let t = Instant::now();
            for k in 0..rounds * chunks {
                r.seek(((k % chunks) * mib) as i64, Whence::Set).unwrap();
                std::hint::black_box(r.read(Some(mib as i64)).unwrap());
            }
            println!(
                "read_1m_mb_s {:.0}",
                (rounds * chunks * mib) as f64 / t.elapsed().as_secs_f64() / 1e6
            );
            let buf = vec![7u8; mib as usize];
            let t = Instant::now();
            for k in 0..rounds * chunks {
                r.seek(((k % chunks) * mib) as i64, Whence::Set).unwrap();
                r.write(&buf).unwrap();
            }
            println!(
                "write_1m_mb_s {:.0}",
                (rounds * chunks * mib) as f64 / t.elapsed().as_secs_f64() / 1e6
            );
        }
        "find" => {
            // A needle absent from the file (whose bytes are i % 251): a
            // run of 0xFF, as long as asked, or a short word.
            let needle = match a.get(2) {
                Some(n) if a.get(3).map(String::as_str) == Some("periodic") => {
                    let mut v = vec![0u8; n.parse().unwrap()];
                    *v.last_mut().unwrap() = 1;
                    v
                }
                Some(n) => vec![0xFFu8; n.parse().unwrap()],
                None => b"needle-that-is-absent".to_vec(),
            };
            let rounds = 3;
            let t = Instant::now();
            for _ in 0..rounds {
                assert_eq!(r.find(&needle, Some(0), None).unwrap(), -1);
            }
            println!("find_ns {:.0}", ns(t, rounds));
        }
        "ping" => {
            // Word 0: the ball (a counter). `first` serves odd numbers and
            // waits for the even reply; `second` answers.
            let n: u32 = a[2].parse().unwrap();
            let spin = a[3] == "spin";
            let first = a[4] == "first";
            let wait_for = |want: u32| loop {
                let v = m.load32(0).unwrap();
                if v == want {
                    break;
                }
                if !spin {
                    m.wait32(0, v, Duration::from_secs(10)).unwrap();
                }
            };
            if first {
                while m.load32(4).unwrap() == 0 {} // the partner is ready
            } else {
                m.store32(4, 1).unwrap();
            }
            let t = Instant::now();
            for i in 0..n {
                let serve = 2 * i + if first { 1 } else { 2 };
                wait_for(serve - 1);
                m.store32(0, serve).unwrap();
                if !spin {
                    m.notify(0, 1).unwrap();
                }
            }
            if first {
                wait_for(2 * n);
                println!("round_trip_ns {:.0}", ns(t, u64::from(n)));
            }
        }
        "wbyte" => {
            let n: u64 = a[2].parse().unwrap();
            let w = Window::whole(&m).unwrap();
            let l = len as usize;
            let t = Instant::now();
            let mut sum = 0u32;
            for i in 0..n as usize {
                sum = sum.wrapping_add(u32::from(w.get(i % l).unwrap()));
            }
            std::hint::black_box(sum);
            println!("wread_byte {:.2}", ns(t, n));
            let t = Instant::now();
            for i in 0..n as usize {
                w.set(i % l, i as u8).unwrap();
            }
            println!("wwrite_byte {:.2}", ns(t, n));
        }
        "wrand4k" => {
            let n: u64 = a[2].parse().unwrap();
            let w = Window::whole(&m).unwrap();
            let offs: Vec<u64> = (0..n).map(|_| rnd(len / 4096) * 4096).collect();
            let mut buf = vec![0u8; 4096];
            let t = Instant::now();
            for &o in &offs {
                w.read_into(o as usize, &mut buf).unwrap();
                std::hint::black_box(&buf);
            }
            println!("wread_4k {:.1}", ns(t, n));
        }
        "wseq" => {
            let rounds: u64 = a[2].parse().unwrap();
            let w = Window::whole(&m).unwrap();
            let mib = 1usize << 20;
            let chunks = len as usize / mib;
            let mut buf = vec![0u8; mib];
            let t = Instant::now();
            for k in 0..rounds as usize * chunks {
                w.read_into((k % chunks) * mib, &mut buf).unwrap();
                std::hint::black_box(&buf);
            }
            println!(
                "wcopy_1m_mb_s {:.0}",
                (rounds as usize * chunks * mib) as f64 / t.elapsed().as_secs_f64() / 1e6
            );
        }
        "wping" => {
            let n: u32 = a[2].parse().unwrap();
            let first = a[3] == "first";
            let w = Window::new(&m, 0, 4096).unwrap();
            let wait_for = |want: u32| while w.load32(0).unwrap() != want {};
            if first {
                while w.load32(4).unwrap() == 0 {}
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
                println!("round_trip_ns {:.0}", ns(t, u64::from(n)));
            }
        }
        other => panic!("unknown bench {other}"),
    }
}
