//! The IPC demo in one terminal: a watcher and a writer, two `wasm-mmap`
//! processes sharing one file. Type lines; each is stored by the writer and
//! printed by the watcher (marked `watcher saw:`). Ctrl-D ends it.
//!
//! `cargo build --release && cargo run --release --example demo [FILE]`

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn main() {
    let cli = wasm_mmap_tests::cli();
    let dir = tempfile::tempdir().unwrap();
    let file = "demo.txt";
    std::fs::write(
        dir.path().join(file),
        "(the watcher maps this file; type a line)",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();

    let mut watcher = Command::new(&cli)
        .args(["run", "--dir", d, wasm_mmap_tests::WATCHER, file])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = watcher.stdout.take().unwrap();
    let echo = std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("  watcher saw: {line}");
        }
    });

    println!("Two processes share {}/{file}:", d);
    println!(
        "  {} run --dir {d} {} {file}",
        cli.display(),
        wasm_mmap_tests::WATCHER
    );
    println!(
        "  {} run --dir {d} {} {file}",
        cli.display(),
        wasm_mmap_tests::WRITER
    );
    println!("Type lines for the writer (Ctrl-D to stop):");
    let status = Command::new(&cli)
        .args(["run", "--dir", d, wasm_mmap_tests::WRITER, file])
        .stdin(Stdio::inherit())
        .status()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(200));
    let _ = watcher.kill();
    let _ = watcher.wait();
    let _ = echo.join();
    println!("writer exited: {status}");
}
