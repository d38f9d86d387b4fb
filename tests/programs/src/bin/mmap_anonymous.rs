//! Anonymous memory: zero-filled, every byte value, resize keeps contents,
//! the access rules, and its argument errors.

use wasm_mmap_guest::bindings::wasm_mmap::mmap::mmap::{MapOptions, Mmap as RawMmap};
use wasm_mmap_guest::{Access, MapFlags, Mmap, MmapOptions, Prot, Whence};
use wasm_mmap_test_programs::{NO_RESIZE, READONLY, expect_err};

fn main() {
    let anon = |len: i64, offset: i64| {
        let o = MapOptions {
            flags: MapFlags::SHARED,
            prot: Prot::READ | Prot::WRITE,
            access: Access::Default,
            offset,
        };
        RawMmap::anonymous(len, o).map_err(wasm_mmap_guest::Error)
    };
    expect_err(anon(0, 0), "OSError", "22");
    expect_err(
        anon(-5, 0),
        "OverflowError",
        "memory mapped length must be positive",
    );
    expect_err(anon(10, 1), "OSError", "22");
    assert!(
        anon(10, 4096)
            .unwrap()
            .repr()
            .ends_with("length=10, pos=0, offset=4096>")
    );

    let m = Mmap::anonymous(256, MmapOptions::new()).unwrap();
    assert_eq!(m.to_vec().unwrap(), vec![0u8; 256], "zero-filled");
    expect_err(m.size(), "OSError", "9");
    for v in 0..=255u8 {
        m.write_byte(v).unwrap();
    }
    m.seek_to(0, Whence::Set).unwrap();
    for v in 0..=255u8 {
        assert_eq!(m.read_byte().unwrap(), v);
    }
    let all: Vec<u8> = (0..=255).collect();
    assert_eq!(m.to_vec().unwrap(), all);
    assert_eq!(
        m.slice_step(None, None, Some(-1)).unwrap(),
        all.iter().rev().copied().collect::<Vec<_>>()
    );
    m.resize(300_000).unwrap();
    assert_eq!(m.slice(..256).unwrap(), all, "resize keeps contents");
    assert_eq!(m.get(299_999).unwrap(), 0);
    expect_err(
        m.raw().resize(0).map_err(wasm_mmap_guest::Error),
        "OSError",
        "22",
    );
    m.flush().unwrap();
    m.flush_range(0, 3).unwrap();

    // find/rfind across the host's 64 KiB search blocks
    for at in [65_530usize, 65_536 - 3, 131_070, 299_990] {
        m.set_slice(at..at + 6, b"NEEDLE").unwrap();
        assert_eq!(
            m.find_in(b"NEEDLE", Some(0), None).unwrap(),
            Some(at),
            "find at {at}"
        );
        assert_eq!(
            m.rfind_in(b"NEEDLE", Some(0), None).unwrap(),
            Some(at),
            "rfind at {at}"
        );
        assert_eq!(
            m.find_in(b"NEEDLE", Some(0), Some(at as i64 + 5)).unwrap(),
            None
        );
        assert_eq!(
            m.rfind_in(b"NEEDLE", Some(at as i64 + 1), None).unwrap(),
            None
        );
        m.set_slice(at..at + 6, &[0; 6]).unwrap();
    }
    m.set_slice(10..16, b"NEEDLE").unwrap();
    m.set_slice(200_000..200_006, b"NEEDLE").unwrap();
    assert_eq!(m.find_in(b"NEEDLE", Some(0), None).unwrap(), Some(10));
    assert_eq!(m.rfind_in(b"NEEDLE", Some(0), None).unwrap(), Some(200_000));
    assert_eq!(m.find_in(b"NEEDLE", Some(11), None).unwrap(), Some(200_000));
    assert_eq!(
        m.rfind_in(b"NEEDLE", None, Some(200_005)).unwrap(),
        None,
        "start defaults to the cursor (256)"
    );
    assert_eq!(
        m.rfind_in(b"NEEDLE", Some(0), Some(200_005)).unwrap(),
        Some(10)
    );

    // read-at / write-at: positional, clipped like slices, cursor untouched
    m.seek_to(7, Whence::Set).unwrap();
    assert_eq!(m.write_at(299_998, b"XY").unwrap(), 2);
    assert_eq!(
        m.read_at(299_998, 100).unwrap(),
        b"XY",
        "clipped at the end"
    );
    assert_eq!(m.read_at(300_000, 5).unwrap(), b"");
    assert_eq!(m.read_at(u64::MAX, u64::MAX).unwrap(), b"");
    expect_err(
        m.write_at(299_999, b"XY"),
        "ValueError",
        "data out of range",
    );
    expect_err(m.write_at(u64::MAX, b""), "ValueError", "data out of range");
    assert_eq!(
        m.read_at(299_998, 2).unwrap(),
        b"XY",
        "a failed write_at writes nothing"
    );
    assert_eq!(m.tell().unwrap(), 7);

    // read-only and copy anonymous maps
    let r = Mmap::anonymous(10, MmapOptions::new().prot(Prot::READ)).unwrap();
    expect_err(r.write_bytes(b"a"), "TypeError", READONLY);
    expect_err(r.resize(20), "TypeError", NO_RESIZE);
    expect_err(r.write_at(0, b"a"), "TypeError", READONLY);
    let c = Mmap::anonymous(10, MmapOptions::new().access(Access::Copy)).unwrap();
    assert_eq!(c.write_bytes(b"a").unwrap(), 1);
    expect_err(c.resize(20), "TypeError", NO_RESIZE);
    println!("ok");
}
