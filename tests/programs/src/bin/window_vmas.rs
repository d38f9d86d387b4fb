//! `window_vmas FILE load|copy`: FILE holds 256 pages. Places one window
//! over all of it, prints `placed`, waits for a stdin line (meanwhile the
//! test shortens FILE to nothing), then touches every other page, by wasm
//! loads or by `memory.copy` (host code), prints `touched` and waits again
//! while the test counts the host's kernel mappings: a truncation must
//! cost a window at most one more mapping, never one per page. Then it
//! makes a wasm-mmap call (under `trap` after `copy`, that call traps) and
//! prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};

const PAGE: usize = 4096;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let w = Window::whole(&m).unwrap();
    assert_eq!(w.len(), 256 * PAGE);
    println!("placed");
    std::io::stdin().read_line(&mut String::new()).unwrap();
    // A length the compiler cannot see, so the copy is a `memory.copy`
    // (run by the runtime in host code), not inlined wasm loads.
    let mut buf = vec![1u8; std::hint::black_box(16)];
    let mut sum = 0u32;
    for p in (0..256).step_by(2) {
        if a[2] == "load" {
            sum += u32::from(w.get(p * PAGE + 7).unwrap());
        } else {
            let n = std::hint::black_box(buf.len());
            w.read_into(p * PAGE + 7, &mut buf[..n]).unwrap();
            sum += buf.iter().map(|&b| u32::from(b)).sum::<u32>();
        }
    }
    assert_eq!(sum, 0, "the vanished pages read as zeros");
    println!("touched");
    std::io::stdin().read_line(&mut String::new()).unwrap();
    assert!(m.len().unwrap() > 0);
    println!("ok");
}
