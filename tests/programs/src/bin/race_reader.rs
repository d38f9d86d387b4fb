//! `race_reader FILE MILLIS SMALL BIG`: for MILLIS ms, random reads and writes
//! all over a map of FILE while another process keeps shrinking FILE to
//! SMALL bytes and regrowing it to BIG. Every call must succeed or fail with
//! OSError EFAULT; bytes below SMALL (never truncated) must read as 'A'.
//! Prints `calls=N ok=N efault=N`.

use std::time::{Duration, Instant};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::mmap::ErrorCode;
use wasm_mmap_guest::{Mmap, MmapOptions, Whence, open_file};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = open_file(&args[1], true).unwrap();
    let millis: u64 = args[2].parse().unwrap();
    let small: usize = args[3].parse().unwrap();
    // The truncator is already running: map the file's full length (known
    // from before the race), retrying while it is momentarily shorter.
    let full = file.stat().unwrap().size.max(small as u64 + 1);
    let full = args.get(4).map_or(full, |s| s.parse().unwrap());
    let m = loop {
        match Mmap::map(&file, full, MmapOptions::new()) {
            Ok(m) => break m,
            Err(e) => assert_eq!(e.class(), "ValueError", "{e}"),
        }
    };
    let r = m.raw();
    let len = m.len().unwrap() as usize;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ now.as_nanos() as u64 | 1;
    let mut rnd = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let (mut calls, mut ok, mut efault) = (0u64, 0u64, 0u64);
    let end = Instant::now() + Duration::from_millis(millis);
    while Instant::now() < end {
        let a = rnd(len);
        let b = (a + 1 + rnd(9000)).min(len);
        let data: Result<Option<Vec<u8>>, ErrorCode> = match rnd(10) {
            0 => r
                .seek(a as i64, Whence::Set)
                .and_then(|_| r.read(None))
                .map(Some),
            1 => r.get(a as i64).map(|v| Some(vec![v])),
            2 => r.get_slice(Some(a as i64), Some(b as i64), None).map(Some),
            3 => r.find(b"B", Some(a as i64), Some(b as i64)).map(|_| None),
            4 => r
                .seek(a as i64, Whence::Set)
                .and_then(|_| r.readline())
                .map(Some),
            5 => r
                .seek(a as i64, Whence::Set)
                .and_then(|_| r.read_byte())
                .map(|v| Some(vec![v])),
            6 => r
                .seek(a as i64, Whence::Set)
                .and_then(|_| r.write(&vec![b'A'; b - a]))
                .map(|_| None),
            7 => r.set(a as i64, b'A').map(|_| None),
            8 => r
                .set_slice(
                    Some(a as i64),
                    Some(b as i64),
                    Some(3),
                    &vec![b'A'; (b - a).div_ceil(3)],
                )
                .map(|_| None),
            _ => r.move_(a as i64, a as i64, (b - a) as i64).map(|_| None),
        };
        calls += 1;
        match data {
            Ok(bytes) => {
                ok += 1;
                if let Some(bytes) = bytes {
                    let stable = small.saturating_sub(a).min(bytes.len());
                    assert!(
                        bytes[..stable].iter().all(|&x| x == b'A'),
                        "bytes below SMALL changed"
                    );
                }
            }
            Err(ErrorCode::OsError(e)) if e.errno == 14 => efault += 1,
            Err(e) => panic!("unexpected error {e:?}"),
        }
    }
    println!("calls={calls} ok={ok} efault={efault}");
}
