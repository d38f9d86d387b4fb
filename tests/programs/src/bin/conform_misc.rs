//! Run with `--max-maps 1`: dropping a map closes it (else the next map is
//! refused); double close; non-ASCII bytes through every byte API; write
//! returns the count; read with None and negative sizes.

use wasm_mmap_guest::{Mmap, MmapOptions, Whence, create_file};

fn main() {
    for _ in 0..3 {
        let m = Mmap::anonymous(10, MmapOptions::new()).unwrap();
        drop(m); // closes: the host allows one open map
    }
    let m = Mmap::anonymous(10, MmapOptions::new()).unwrap();
    m.close();
    m.close();
    assert!(m.closed());
    drop(m);

    let f = create_file("ascii.bin").unwrap();
    f.write(&[b'.'; 16], 0).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    for b in [129u8, 200, 255, 0, 0x80] {
        m.seek_to(0, Whence::Set).unwrap();
        m.write_byte(b).unwrap();
        assert_eq!(m.get(0).unwrap(), b);
        m.seek_to(0, Whence::Set).unwrap();
        assert_eq!(m.read_byte().unwrap(), b);
        m.set(1, b).unwrap();
        assert_eq!(m.slice(1..2).unwrap(), [b]);
    }
    m.seek_to(0, Whence::Set).unwrap();
    assert_eq!(m.write_bytes("ünï".as_bytes()).unwrap(), 5);
    assert_eq!(
        m.find("ï".as_bytes()),
        None,
        "find starts at the cursor (5)"
    );
    assert_eq!(m.find_in("ï".as_bytes(), Some(0), None).unwrap(), Some(3));
    m.seek_to(0, Whence::Set).unwrap();
    assert_eq!(m.raw().read(Some(-1)).unwrap().len(), 16);
    m.seek_to(2, Whence::Set).unwrap();
    assert_eq!(m.raw().read(None).unwrap().len(), 14);
    assert_eq!(m.raw().read(Some(i64::MIN)).unwrap(), b"");
    drop(m);
    assert_eq!(&f.read(5, 0).unwrap().0, "ünï".as_bytes());
    println!("ok");
}
