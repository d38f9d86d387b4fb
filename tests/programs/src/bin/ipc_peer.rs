//! One side of a multi-process test. Commands (FILE relative to the preopen):
//! - `hold FILE TEXT N ACCESS`: map FILE (access write|copy), write TEXT at
//!   0 without flushing, print `ready`, wait for a line on stdin, then print
//!   the first N bytes of the map as this process sees them.
//! - `read FILE N`: map FILE read-only and print its first N bytes.
//! - `write FILE TEXT`: map FILE shared, write TEXT at 0, print `done`.

use std::io::{BufRead, Write};
use wasm_mmap_guest::{Access, Mmap, MmapOptions, open_file};

fn access(s: &str) -> Access {
    match s {
        "write" => Access::Write,
        "copy" => Access::Copy,
        "read" => Access::Read,
        other => panic!("unknown access {other}"),
    }
}

fn show(m: &Mmap, n: usize) {
    let data = m.slice(..n).unwrap();
    println!("{}", String::from_utf8_lossy(&data));
    std::io::stdout().flush().unwrap();
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let a: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    match a.as_slice() {
        ["hold", file, text, n, acc] => {
            let f = open_file(file, *acc != "copy").unwrap();
            let m = Mmap::map(&f, 0, MmapOptions::new().access(access(acc))).unwrap();
            m.write_bytes(text.as_bytes()).unwrap();
            println!("ready");
            std::io::stdout().flush().unwrap();
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).unwrap();
            show(&m, n.parse().unwrap());
        }
        ["read", file, n] => {
            let f = open_file(file, false).unwrap();
            let m = Mmap::map(&f, 0, MmapOptions::new().access(Access::Read)).unwrap();
            show(&m, n.parse().unwrap());
        }
        ["write", file, text] => {
            let f = open_file(file, true).unwrap();
            let m = Mmap::map(&f, 0, MmapOptions::new().access(Access::Write)).unwrap();
            m.write_bytes(text.as_bytes()).unwrap();
            println!("done");
        }
        _ => panic!("usage: ipc_peer hold|read|write ..."),
    }
}
