//! Process 1 of the IPC demo (the article's writer): for each line typed on
//! stdin, store it as the whole content of the file: seek to 0, write the
//! line, truncate the file to that length, flush.
//!
//! Usage: `wasm-mmap run --dir D writer.wasm FILE` (FILE relative to D).

use std::io::BufRead;
use wasm_mmap_guest::create_file;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: writer FILE");
        std::process::exit(2);
    };
    let file = create_file(&path).unwrap_or_else(|e| {
        eprintln!("writer: cannot open {path}: {e}");
        std::process::exit(1);
    });
    for line in std::io::stdin().lock().lines() {
        let line = line.expect("stdin is readable");
        let data = line.as_bytes();
        // f.seek(0); f.write(line); f.truncate(); f.flush()
        let mut done = 0;
        while done < data.len() {
            done += file.write(&data[done..], done as u64).expect("write") as usize;
        }
        file.set_size(data.len() as u64).expect("truncate");
        file.sync_data().expect("flush");
    }
}
