//! `window_spin FILE`: loads word 0 of a window once, prints `spinning`,
//! then spins on `load32` with no other call in the loop until the word
//! changes (the test writes the file natively). A runtime that reused the
//! first load would spin forever (the test's time limit fails it). Prints
//! `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let w = Window::new(&m, 0, 4096).unwrap();
    let first = w.load32(0).unwrap();
    println!("spinning");
    while w.load32(0).unwrap() == first {}
    println!("ok");
}
