//! Run with the file's directory preopened read-only (`--ro-dir`): no map
//! of it can be shared-writable, while read and copy maps work and copy
//! writes stay private.

use wasm_mmap_guest::{Access, Mmap, MmapOptions, open_file};
use wasm_mmap_test_programs::expect_err;

fn main() {
    assert!(
        open_file("ro.bin", true).is_err(),
        "the preopen refuses a writable descriptor"
    );
    let f = open_file("ro.bin", false).unwrap();
    expect_err(Mmap::map(&f, 0, MmapOptions::new()), "OSError", "13");
    expect_err(
        Mmap::map(&f, 0, MmapOptions::new().access(Access::Write)),
        "OSError",
        "13",
    );
    let r = Mmap::map(&f, 0, MmapOptions::new().access(Access::Read)).unwrap();
    assert_eq!(r.to_vec().unwrap(), b"read-only data");
    let c = Mmap::map(&f, 0, MmapOptions::new().access(Access::Copy)).unwrap();
    c.write_bytes(b"CHANGED").unwrap();
    assert_eq!(c.slice(0..7).unwrap(), b"CHANGED");
    assert_eq!(r.slice(0..7).unwrap(), b"read-on");
    println!("ok");
}
