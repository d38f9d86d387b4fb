//! `window_off FILE`: run with `--no-windows`: placing a window is
//! `OSError` EOPNOTSUPP, and the map works as ever. Prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, Window, open_file};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    expect_err(Window::new(&m, 0, 4096), "OSError", "95");
    m.set(0, 1).unwrap();
    assert_eq!(m.get(0).unwrap(), 1);
    println!("ok");
}
