//! find/rfind with every start/end (None, negative, past either end), every
//! cursor position default, embedded NULs, and never past `end`.

use wasm_mmap_guest::{Mmap, MmapOptions, Whence, create_file};
use wasm_mmap_test_programs::py_find;

fn main() {
    let data = b"abcab\0cabc\nab\xff";
    let f = create_file("find.bin").unwrap();
    f.write(data, 0).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let r = m.raw();
    let l = data.len() as i64;
    let bounds: Vec<Option<i64>> = std::iter::once(None)
        .chain((-l - 2..=l + 2).map(Some))
        .collect();
    let needles: [&[u8]; 8] = [b"", b"a", b"ab", b"abc", b"\0c", b"zz", b"c\n", b"b\xff"];
    let mut checked = 0;
    for cursor in [0, 3, l] {
        m.seek_to(cursor, Whence::Set).unwrap();
        for sub in needles {
            for &start in &bounds {
                for &end in &bounds {
                    for reverse in [false, true] {
                        let got = if reverse {
                            r.rfind(sub, start, end)
                        } else {
                            r.find(sub, start, end)
                        }
                        .unwrap();
                        let want = py_find(
                            data,
                            sub,
                            start.unwrap_or(cursor),
                            end.unwrap_or(l),
                            reverse,
                        );
                        assert_eq!(
                            got, want,
                            "find({sub:?}, {start:?}, {end:?}) rev={reverse} cursor={cursor}"
                        );
                        checked += 1;
                    }
                }
            }
        }
    }
    assert_eq!(m.tell().unwrap(), l as u64, "find never moves the cursor");
    println!("{checked} find/rfind calls ok");
}
