//! find/rfind with every start/end (None, negative, past either end), every
//! cursor position default, embedded NULs, and never past `end`; and long
//! needles (the host looks for a piece of them first) over several of the
//! host's search blocks, on periodic data and across block edges.

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
    checked += long_needles();
    println!("{checked} find/rfind calls ok");
}

/// Needles of 5,000 bytes (zeros ending in a one) in 300 KiB of zeros with
/// such needles at block edges (64 KiB) and in the middle: every prefix of
/// the data matches the needle's start, so the host's cap on comparisons
/// runs out and its whole-needle search takes over.
fn long_needles() -> usize {
    let n = 5000usize;
    let mut needle = vec![0u8; n];
    needle[n - 1] = 1;
    let mut data = vec![0u8; 300 << 10];
    let f = create_file("long.bin").unwrap();
    f.set_size(data.len() as u64).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let r = m.raw();
    let mut checked = 0;
    let l = data.len() as i64;
    let edge = 64 << 10;
    for at in [None, Some(edge - n / 2), Some(edge - n + 1), Some(150_000), Some(data.len() - n)] {
        if let Some(at) = at {
            data[at + n - 1] = 1;
            m.write_at(at as u64 + n as u64 - 1, &[1]).unwrap();
        }
        for (start, end) in [(0, l), (1, l - 1), (edge as i64, l), (0, 150_000 + n as i64)] {
            for reverse in [false, true] {
                let got = if reverse {
                    r.rfind(&needle, Some(start), Some(end))
                } else {
                    r.find(&needle, Some(start), Some(end))
                }
                .unwrap();
                let want = py_find(&data, &needle, start, end, reverse);
                assert_eq!(got, want, "long needle at {at:?} [{start}, {end}) rev={reverse}");
                checked += 1;
            }
        }
    }
    checked
}
