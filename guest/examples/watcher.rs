//! Process 2 of the IPC demo (the article's watcher): maps FILE with length
//! 1, then every 50 ms grows the map to the file's size
//! (`m.resize(m.size())`) and prints the whole content (`m[:]`) on its own
//! line whenever it differs from what it printed last.
//!
//! Usage: `wasm-mmap run --dir D watcher.wasm FILE` (FILE relative to D,
//! existing, at least 1 byte).

use std::io::Write;
use std::time::Duration;
use wasm_mmap_guest::{Mmap, MmapOptions, open_file};

/// One look at the file: its whole content now. Errors are transient here:
/// the writer may shrink the file between `size()` and the copy, which the
/// host reports as an error (EFAULT) instead of crashing; the next poll
/// sees the settled file.
fn snapshot(m: &Mmap) -> wasm_mmap_guest::Result<Vec<u8>> {
    let size = m.size()?;
    if size == 0 {
        return Ok(Vec::new()); // An empty line: nothing to map.
    }
    if size != m.len()? {
        m.resize(size)?;
    }
    m.to_vec()
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: watcher FILE");
        std::process::exit(2);
    };
    let file = open_file(&path, true).unwrap_or_else(|e| {
        eprintln!("watcher: cannot open {path}: {e}");
        std::process::exit(1);
    });
    // m = mmap.mmap(os.open('xxx', os.O_RDWR), 1)
    let m = Mmap::map(&file, 1, MmapOptions::new()).unwrap_or_else(|e| {
        eprintln!("watcher: cannot map {path}: {e}");
        std::process::exit(1);
    });
    let mut last: Option<Vec<u8>> = None;
    let mut out = std::io::stdout();
    loop {
        if let Ok(data) = snapshot(&m) {
            if last.as_ref() != Some(&data) {
                out.write_all(&data).and_then(|_| out.write_all(b"\n")).and_then(|_| out.flush())
                    .unwrap_or_else(|_| std::process::exit(0)); // stdout closed: stop.
                last = Some(data);
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
