//! `hostile_ram BYTES`: BYTES is the machine's total RAM. With the default
//! memory budget (derived from the machine), anonymous memory of that size
//! is refused with ENOMEM; a file map of that size is not memory and is
//! made (a sparse file). Prints `ok`.

use wasm_mmap_guest::{Access, Mmap, MmapOptions, create_file};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let ram: u64 = std::env::args().nth(1).unwrap().parse().unwrap();
    let file_len: u64 = std::env::args().nth(2).map_or(ram, |s| s.parse().unwrap());
    expect_err(Mmap::anonymous(ram, MmapOptions::new()), "OSError", "12");
    // A small map is still fine.
    let small = Mmap::anonymous(1 << 20, MmapOptions::new()).unwrap();
    small.set(0, 1).unwrap();
    let f = create_file("sparse.bin").unwrap();
    f.set_size(file_len).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new().access(Access::Read)).unwrap();
    assert_eq!(m.len().unwrap(), file_len);
    assert_eq!(m.get(-1).unwrap(), 0);
    println!("ok");
}
