//! `ipc_change FILE`: maps FILE, arms wait-for-change, prints `armed`, then
//! waits (up to 20 s) and prints `changed after N ms` or `timeout`.

use std::time::{Duration, Instant};
use wasm_mmap_guest::{Access, Mmap, MmapOptions, open_file};

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, false).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new().access(Access::Read)).unwrap();
    assert!(
        m.wait_for_change(Duration::ZERO).unwrap(),
        "the first call arms and says true"
    );
    assert!(
        !m.wait_for_change(Duration::from_millis(20)).unwrap(),
        "nothing changed yet"
    );
    println!("armed");
    let t = Instant::now();
    if m.wait_for_change(Duration::from_secs(20)).unwrap() {
        println!("changed after {} ms", t.elapsed().as_millis());
    } else {
        println!("timeout");
    }
}
