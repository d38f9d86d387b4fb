//! `window_limit FILE N`: places windows until refused; the host runs with
//! `--max-windows N`, so the refusal must be the N+1th, `OSError` ENOMEM,
//! and dropping one makes room again. Prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let a: Vec<String> = std::env::args().collect();
    let n: usize = a[2].parse().unwrap();
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let mut ws: Vec<Window> = (0..n).map(|_| Window::new(&m, 0, 4096).unwrap()).collect();
    expect_err(Window::new(&m, 0, 4096), "OSError", "12");
    ws.pop();
    ws.push(Window::new(&m, 0, 4096).unwrap());
    println!("ok");
}
