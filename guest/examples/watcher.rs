//! Process 2 of the IPC demo (the article's watcher): maps FILE with length
//! 1, then regrows the map to the file's size and prints the whole content
//! (`m[:size]`) on its own line whenever it differs from what it printed
//! last. It does not poll: it sleeps in `wait_for_change` until anyone
//! modifies the file (the writer's plain `write()`s included), then lets the
//! burst settle for 0.3 ms, since the writer stores a line in two steps.
//!
//! The article regrows with `m.resize(m.size())`, but Python's `resize` also
//! truncates the file to the size it read a moment earlier: if the writer
//! stores a longer line in between, the watcher cuts it off. A watcher must
//! never write, so this one maps read-only and regrows by mapping again.
//!
//! Usage: `wasm-mmap run --dir D watcher.wasm FILE` (FILE relative to D,
//! existing, at least 1 byte).

use std::io::Write;
use std::time::Duration;
use wasm_mmap_guest::{Access, Descriptor, Mmap, MmapOptions, open_file};

/// One look at the file: its whole content now. Errors are transient here:
/// the writer may shrink the file between `size()` and the copy, which the
/// host reports as an error (EFAULT) instead of crashing; the next poll
/// sees the settled file.
fn snapshot(file: &Descriptor, m: &mut Mmap) -> wasm_mmap_guest::Result<Vec<u8>> {
    let size = m.size()?;
    if size == 0 {
        return Ok(Vec::new()); // An empty line: nothing to map.
    }
    if size > m.len()? {
        *m = Mmap::map(file, size, read_only())?;
    }
    m.slice(..size as usize)
}

fn read_only() -> MmapOptions {
    MmapOptions::new().access(Access::Read)
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: watcher FILE");
        std::process::exit(2);
    };
    let file = open_file(&path, false).unwrap_or_else(|e| {
        eprintln!("watcher: cannot open {path}: {e}");
        std::process::exit(1);
    });
    // m = mmap.mmap(os.open('xxx', os.O_RDONLY), 1, access=mmap.ACCESS_READ)
    let mut m = Mmap::map(&file, 1, read_only()).unwrap_or_else(|e| {
        eprintln!("watcher: cannot map {path}: {e}");
        std::process::exit(1);
    });
    // The 1-byte map stays as the file's watch: `m` is replaced on growth.
    let watch = Mmap::map(&file, 1, read_only()).unwrap();
    let mut last: Option<Vec<u8>> = None;
    let mut out = std::io::stdout();
    loop {
        if let Ok(data) = snapshot(&file, &mut m)
            && last.as_ref() != Some(&data)
        {
            let printed = out
                .write_all(&data)
                .and_then(|_| out.write_all(b"\n"))
                .and_then(|_| out.flush());
            if printed.is_err() {
                std::process::exit(0); // stdout closed: nobody is watching.
            }
            last = Some(data);
        }
        // Wakes as soon as the file changes; the timeout only bounds a wait
        // (a change racing the snapshot above is caught by the next look).
        match watch.wait_for_change(Duration::from_secs(1)) {
            // The writer stores a line as write() then truncate(), microseconds
            // apart: let such a burst settle (0.3 ms of quiet) so that only
            // whole lines print.
            Ok(true) => while let Ok(true) = watch.wait_for_change(Duration::from_micros(300)) {},
            Ok(false) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(50)),
        }
    }
}
