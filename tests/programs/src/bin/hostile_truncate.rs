//! `hostile_truncate FILE`: FILE holds 3 pages (12288 bytes, byte i is
//! `i % 251 + 1`). Maps it shared, prints `mapped`, waits for a stdin line
//! (meanwhile the test truncates FILE to 5000 bytes), then checks memory
//! semantics: the page holding the new end still exists (reads zeros past
//! the end, as CPython sees), a page wholly past the end is EFAULT (where
//! CPython would die of SIGBUS). Prints `ok`.

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
    println!("ok");
}
