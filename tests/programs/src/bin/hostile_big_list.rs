//! `hostile_big_list`: one `write-at` of 200 MiB into a 256 MiB anonymous
//! map, and one `read-at` of it back. Big lists must be copied or refused
//! with a typed error, never trap the guest. Prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions};

fn main() {
    let n: u64 = 200 << 20;
    let m = Mmap::anonymous(256 << 20, MmapOptions::new()).unwrap();
    let data = vec![7u8; n as usize];
    let written = match m.write_at(0, &data) {
        Ok(w) => {
            assert_eq!(w, n);
            true
        }
        Err(e) => {
            println!("write refused: {e}");
            false
        }
    };
    drop(data);
    let back = m.read_at(0, n).unwrap();
    assert_eq!(back.len() as u64, n);
    if written {
        assert!(back.iter().all(|&b| b == 7), "the bytes written come back");
    }
    assert_eq!(m.get(n as i64).unwrap(), 0);
    println!("ok");
}
