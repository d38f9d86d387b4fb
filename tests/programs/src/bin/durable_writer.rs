//! `durable_writer FILE`: maps FILE (shared) and forever writes record i
//! (64 bytes: "rec <i>" padded) at i*64, flushes the page holding it, and
//! only then prints `flushed <i>`. A test kills it with SIGKILL mid-stream.

use std::io::Write;
use wasm_mmap_guest::{Mmap, MmapOptions, open_file};

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let records = m.len().unwrap() / 64;
    let mut out = std::io::stdout();
    for i in 0.. {
        let slot = i % records;
        let mut rec = format!("rec {i}").into_bytes();
        rec.resize(64, b' ');
        m.set_slice(slot as usize * 64..(slot as usize + 1) * 64, &rec)
            .unwrap();
        let page = slot * 64 / 4096 * 4096;
        m.flush_range(page, 4096).unwrap();
        writeln!(out, "flushed {i}").unwrap();
        out.flush().unwrap();
    }
}
