//! ACCESS_READ blocks every kind of write; ACCESS_WRITE writes through to
//! the file; ACCESS_COPY never touches the file and cannot resize.

use wasm_mmap_guest::{Access, Mmap, MmapOptions, Whence, create_file};
use wasm_mmap_test_programs::{NO_RESIZE, READONLY, expect_err};

fn main() {
    let f = create_file("access.bin").unwrap();
    f.write(&[b'.'; 100], 0).unwrap();

    let r = Mmap::map(&f, 0, MmapOptions::new().access(Access::Read)).unwrap();
    assert_eq!(
        r.repr(),
        "<mmap.mmap closed=False, access=ACCESS_READ, length=100, pos=0, offset=0>"
    );
    expect_err(r.write_bytes(b"a"), "TypeError", READONLY);
    expect_err(r.write_byte(1), "TypeError", READONLY);
    expect_err(r.set(0, 1), "TypeError", READONLY);
    expect_err(r.set(100, 1), "TypeError", READONLY); // checked before the index
    expect_err(r.set_slice(0..1, b"a"), "TypeError", READONLY);
    expect_err(
        r.set_slice_step(None, None, Some(0), b""),
        "TypeError",
        READONLY,
    );
    expect_err(r.set_slice(0..3, b"a"), "TypeError", READONLY);
    expect_err(r.move_within(0, 1, 1), "TypeError", READONLY);
    expect_err(
        r.raw().move_(-1, 0, 1).map_err(wasm_mmap_guest::Error),
        "TypeError",
        READONLY,
    );
    expect_err(r.resize(10), "TypeError", NO_RESIZE);
    expect_err(
        r.raw().resize(-1).map_err(wasm_mmap_guest::Error),
        "TypeError",
        NO_RESIZE,
    );
    r.seek_to(100, Whence::Set).unwrap();
    expect_err(r.write_byte(1), "TypeError", READONLY);
    r.flush().unwrap();
    assert_eq!(r.to_vec().unwrap(), vec![b'.'; 100]);

    let w = Mmap::map(&f, 0, MmapOptions::new().access(Access::Write)).unwrap();
    assert!(w.repr().contains("ACCESS_WRITE"));
    w.write_bytes(b"written").unwrap();
    assert_eq!(
        f.read(7, 0).unwrap().0,
        b"written",
        "shared writes reach the file"
    );
    assert_eq!(
        r.slice(0..7).unwrap(),
        b"written",
        "and every other shared map"
    );

    let c = Mmap::map(&f, 0, MmapOptions::new().access(Access::Copy)).unwrap();
    assert!(c.repr().contains("ACCESS_COPY"));
    assert_eq!(c.slice(0..7).unwrap(), b"written");
    c.write_bytes(b"PRIVATE").unwrap();
    c.set(50, b'!').unwrap();
    c.flush().unwrap();
    expect_err(c.resize(10), "TypeError", NO_RESIZE);
    assert_eq!(
        f.read(7, 0).unwrap().0,
        b"written",
        "copy writes never reach the file"
    );
    assert_eq!(w.slice(0..7).unwrap(), b"written");
    assert_eq!(c.slice(0..7).unwrap(), b"PRIVATE");
    println!("ok");
}
