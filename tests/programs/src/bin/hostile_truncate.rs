//! `hostile_truncate FILE`: FILE holds 3 pages (12288 bytes, byte i is
//! `i % 251 + 1`). Maps it shared, prints `mapped`, waits for a stdin line
//! (meanwhile the test truncates FILE to 5000 bytes), then checks memory
//! semantics: the page holding the new end still exists (reads zeros past
//! the end, as CPython sees), a page wholly past the end is EFAULT (where
//! CPython would die of SIGBUS) for every way the host touches mapped bytes
//! (plain and strided copies in and out, memmove, search, the atomics, a
//! wait). Prints `ok`. The wine test runs it with the Windows host, whose
//! page-in errors are the same fault.

use wasm_mmap_guest::{Mmap, MmapOptions, open_file, pagesize};
use wasm_mmap_test_programs::expect_err;

fn byte(i: u64) -> u8 {
    (i % 251 + 1) as u8
}

fn main() {
    assert_eq!(pagesize(), 4096, "the offsets below assume 4 KiB pages");
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    assert_eq!(m.len().unwrap(), 12288);
    assert_eq!(m.get(6000).unwrap(), byte(6000));
    println!("mapped");
    std::io::stdin().read_line(&mut String::new()).unwrap();
    assert_eq!(m.size().unwrap(), 5000, "the test truncated the file");
    assert_eq!(m.get(4999).unwrap(), byte(4999));
    assert_eq!(m.get(6000).unwrap(), 0, "past the end, in the last page");
    assert_eq!(m.get(8191).unwrap(), 0, "the last page's last byte");
    expect_err(m.get(9000), "OSError", "14");
    expect_err(m.get(8192), "OSError", "14");
    // The bytes below the end as they were, zeros after it.
    let want: Vec<u8> = (4096..5096)
        .map(|i| if i < 5000 { byte(i) } else { 0 })
        .collect();
    assert_eq!(m.read_at(4096, 1000).unwrap(), want);
    // Every guarded path on the vanished third page (8192..12288).
    expect_err(m.read_at(8000, 400), "OSError", "14");
    expect_err(m.write_at(9000, b"xy"), "OSError", "14");
    expect_err(m.set(10000, 1), "OSError", "14");
    expect_err(m.slice_step(Some(8000), Some(9000), Some(3)), "OSError", "14");
    expect_err(
        m.set_slice_step(Some(8100), Some(8400), Some(100), b"abc"),
        "OSError",
        "14",
    );
    expect_err(m.move_within(4096, 9000, 100), "OSError", "14");
    expect_err(m.move_within(9000, 4096, 100), "OSError", "14");
    expect_err(m.find_in(b"never", Some(4096), None), "OSError", "14");
    expect_err(m.rfind_in(b"never", None, None), "OSError", "14");
    expect_err(m.load32(8192), "OSError", "14");
    expect_err(m.store32(8196, 1), "OSError", "14");
    expect_err(m.cas32(8200, 0, 1), "OSError", "14");
    expect_err(m.add32(8204, 1), "OSError", "14");
    expect_err(m.load64(12280), "OSError", "14");
    expect_err(m.store64(9000 / 8 * 8, 1), "OSError", "14");
    expect_err(m.cas64(9600, 0, 1), "OSError", "14");
    expect_err(m.add64(10240, 1), "OSError", "14");
    expect_err(
        m.wait32(8192, 0, std::time::Duration::from_millis(1)),
        "OSError",
        "14",
    );
    // The map still works where its pages exist.
    m.set(100, 7).unwrap();
    assert_eq!(m.get(100).unwrap(), 7);
    assert_eq!(m.load32(4096).unwrap(), u32::from_le_bytes([1, 2, 3, 4].map(|k| byte(4095 + k))));
    println!("ok");
}
