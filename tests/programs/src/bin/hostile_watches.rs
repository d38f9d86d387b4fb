//! Change watches must not let one guest take the user's inotify instances
//! (128 by default on Linux) from every other process.
//! - `hog FILE N`: maps FILE N times read-only and arms `wait-for-change` on
//!   each map; a failure must be a typed error (counted). Prints
//!   `armed A failed F`, then holds every map until stdin ends; prints `ok`.
//! - `watch FILE`: maps FILE, arms `wait-for-change` (prints `armed`, or
//!   `arm failed: ...`), then waits up to 10 s for a change: `changed` or
//!   `timeout`.

use std::io::Read;
use std::time::Duration;
use wasm_mmap_guest::{Access, Mmap, MmapOptions, open_file};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let read = MmapOptions::new().access(Access::Read);
    match a.as_slice() {
        ["hog", file, n] => {
            let f = open_file(file, false).unwrap();
            let mut maps = Vec::new();
            let (mut armed, mut failed) = (0, 0);
            for _ in 0..n.parse::<usize>().unwrap() {
                let m = Mmap::map(&f, 0, read).unwrap();
                match m.wait_for_change(Duration::ZERO) {
                    Ok(changed) => {
                        assert!(changed, "the first call arms and says true");
                        armed += 1;
                    }
                    Err(e) => {
                        // Typed, by construction; say what it was once.
                        if failed == 0 {
                            eprintln!("hostile_watches hog: {e}");
                        }
                        failed += 1;
                    }
                }
                maps.push(m);
            }
            println!("armed {armed} failed {failed}");
            let mut rest = Vec::new();
            std::io::stdin().read_to_end(&mut rest).unwrap();
            drop(maps);
            println!("ok");
        }
        ["watch", file] => {
            let f = open_file(file, false).unwrap();
            let m = Mmap::map(&f, 0, read).unwrap();
            match m.wait_for_change(Duration::ZERO) {
                Ok(true) => println!("armed"),
                Ok(false) => println!("arm failed: the first call said false"),
                Err(e) => {
                    println!("arm failed: {e}");
                    return;
                }
            }
            if m.wait_for_change(Duration::from_secs(10)).unwrap() {
                println!("changed");
            } else {
                println!("timeout");
            }
        }
        _ => panic!("usage: hostile_watches hog FILE N | watch FILE"),
    }
}
