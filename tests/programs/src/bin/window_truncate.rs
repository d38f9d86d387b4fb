//! `window_truncate FILE MODE`: FILE holds 3 pages (byte i = `i % 251 + 1`).
//! Places a shared window over all of it, prints `placed`, waits for a
//! stdin line (meanwhile the test shortens FILE to one page), then touches
//! page 2, which vanished, by MODE:
//! - `load`: a wasm load (under `trap`, the guest traps here);
//! - `copy`: `memory.copy` out of it, run in host code (under `trap`, it
//!   reads zeros and the next wasm-mmap call traps);
//! - `lift`: passes it as a call's list argument, lifted by the host
//!   (under `trap`, that call traps);
//! - `dropcopy`: `copy`, then drops the window (under `trap`, the drop
//!   traps: the owed trap is not forgotten with the window);
//! - `exitcopy`: `copy`, then exits 0 at once (under `trap`, the host
//!   reports the trap the guest is owed instead of a success).
//!
//! Under `zero` every mode reads zeros, `replaced` turns true, and the
//! guest prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};

const PAGE: usize = 4096;

fn byte(i: usize) -> u8 {
    (i % 251 + 1) as u8
}

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let w = Window::whole(&m).unwrap();
    assert_eq!(w.get(2 * PAGE + 1).unwrap(), byte(2 * PAGE + 1));
    println!("placed");
    std::io::stdin().read_line(&mut String::new()).unwrap();
    assert_eq!(w.get(1).unwrap(), byte(1), "page 0 still exists");
    match a[2].as_str() {
        "load" => assert_eq!(w.get(2 * PAGE + 1).unwrap(), 0),
        "copy" => {
            let mut buf = vec![9u8; PAGE];
            w.read_into(2 * PAGE, &mut buf).unwrap();
            assert!(buf.iter().all(|&b| b == 0));
            println!("copied");
        }
        "dropcopy" | "exitcopy" => {
            let mut buf = vec![9u8; PAGE];
            w.read_into(2 * PAGE, &mut buf).unwrap();
            assert!(buf.iter().all(|&b| b == 0));
            println!("copied");
            if a[2] == "exitcopy" {
                wasm_mmap_guest::exit(0);
            }
            drop(w);
            println!("ok");
            return;
        }
        "lift" => {
            // SAFETY: inside the window; passed by address to the host.
            let page = unsafe { std::slice::from_raw_parts(w.as_ptr().add(2 * PAGE), PAGE) };
            m.write_at(0, &page[..16]).unwrap();
            assert_eq!(m.read_at(0, 16).unwrap(), vec![0; 16]);
        }
        other => panic!("unknown mode {other}"),
    }
    assert!(w.replaced());
    // A store to the replaced page stays in the guest's memory.
    w.set(2 * PAGE + 3, 7).unwrap();
    assert_eq!(w.get(2 * PAGE + 3).unwrap(), 7);
    println!("ok");
}
