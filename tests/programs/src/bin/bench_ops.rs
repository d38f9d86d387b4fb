//! The guest half of `cargo run --release --example bench` (timings taken
//! inside the guest with the WASI monotonic clock). Prints `name value`.
//! - `byte FILE N`: read_byte, m[i], m[i] = v: ns per operation.
//! - `rand4k FILE N`: random 4 KiB reads: seek+read on the map, and
//!   wasi:filesystem read on a descriptor: ns per read.
//! - `seq FILE ROUNDS`: 1 MiB sequential reads and writes: MB/s.
//! - `find FILE`: find of an absent needle over the whole map: MB/s.
//! - `ping FILE N spin|block first|second`: round trips over a shared word.

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Mmap, MmapOptions, Whence, open_file};

fn ns(t: Instant, n: u64) -> f64 {
    t.elapsed().as_nanos() as f64 / n as f64
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
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
            let t = Instant::now();
            let rounds = 5;
            for _ in 0..rounds {
                assert_eq!(r.find(b"needle-that-is-absent", Some(0), None).unwrap(), -1);
            }
            println!(
                "find_mb_s {:.0}",
                (rounds * len) as f64 / t.elapsed().as_secs_f64() / 1e6
            );
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
        other => panic!("unknown bench {other}"),
    }
}
