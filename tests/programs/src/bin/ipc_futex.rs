//! `ipc_futex wait FILE` waits (futex) until the u32 at 0 is non-zero and
//! prints `woken V`; `ipc_futex wake FILE V` stores V and notifies.
//! `ipc_futex errors` checks the argument errors and the timeout.

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Mmap, MmapOptions, WaitResult, open_file};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    match a[0].as_str() {
        "wait" => {
            let f = open_file(&a[1], true).unwrap();
            let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
            println!("waiting");
            let t = Instant::now();
            loop {
                let v = m.load32(0).unwrap();
                if v != 0 {
                    println!("woken {v} after {} ms", t.elapsed().as_millis());
                    break;
                }
                m.wait32(0, 0, Duration::from_secs(30)).unwrap();
            }
        }
        "wake" => {
            let f = open_file(&a[1], true).unwrap();
            let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
            m.store32(0, a[2].parse().unwrap()).unwrap();
            println!("woke {}", m.notify(0, u32::MAX).unwrap());
        }
        "errors" => {
            let m = Mmap::anonymous(4096, MmapOptions::new()).unwrap();
            expect_err(
                m.load32(2),
                "ValueError",
                "atomic offset must be a multiple of 4",
            );
            expect_err(
                m.load64(4),
                "ValueError",
                "atomic offset must be a multiple of 8",
            );
            expect_err(m.load32(4096), "IndexError", "atomic offset out of range");
            expect_err(
                m.store64(4096 - 4, 1),
                "ValueError",
                "atomic offset must be a multiple of 8",
            );
            expect_err(
                m.raw().atomic_load64(u64::MAX - 7),
                "IndexError",
                "atomic offset out of range",
            );
            expect_err(
                m.wait32(3, 0, Duration::ZERO),
                "ValueError",
                "atomic offset must be a multiple of 4",
            );
            assert_eq!(m.add32(8, 5).unwrap(), 0);
            assert_eq!(m.add32(8, u32::MAX).unwrap(), 5, "wrapping");
            assert_eq!(m.load32(8).unwrap(), 4);
            assert_eq!(m.cas32(8, 4, 9).unwrap(), 4);
            assert_eq!(
                m.cas32(8, 4, 10).unwrap(),
                9,
                "a failed exchange returns the value"
            );
            assert_eq!(m.cas64(16, 0, u64::MAX).unwrap(), 0);
            assert_eq!(m.add64(16, 2).unwrap(), u64::MAX);
            assert_eq!(m.load64(16).unwrap(), 1);
            assert_eq!(
                m.wait32(8, 1, Duration::from_secs(5)).unwrap(),
                WaitResult::Mismatch
            );
            let t = Instant::now();
            assert_eq!(
                m.wait32(8, 9, Duration::from_millis(50)).unwrap(),
                WaitResult::TimedOut
            );
            assert!(
                t.elapsed() >= Duration::from_millis(45) && t.elapsed() < Duration::from_secs(5)
            );
            let r = Mmap::anonymous(
                4096,
                MmapOptions::new().access(wasm_mmap_guest::Access::Read),
            )
            .unwrap();
            expect_err(
                r.store32(0, 1),
                "TypeError",
                "mmap can't modify a readonly memory map.",
            );
            assert_eq!(r.load32(0).unwrap(), 0);
            expect_err(m.wait_for_change(Duration::ZERO), "OSError", "9");
            m.close();
            expect_err(m.load32(0), "ValueError", "mmap closed or invalid");
            println!("ok");
        }
        _ => panic!("usage"),
    }
}
