//! move: every (dest, src, count) on a small map against Vec::copy_within,
//! and the bounds, as CPython's test_move does.

use wasm_mmap_guest::{Mmap, MmapOptions};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let data = b"0123456789";
    let n = data.len() as i64;
    let m = Mmap::anonymous(data.len() as u64, MmapOptions::new()).unwrap();
    let r = m.raw();
    let mut checked = 0;
    for dest in 0..n {
        for src in 0..n {
            for count in 0..=n - dest.max(src) {
                m.set_slice(.., data).unwrap();
                r.move_(dest, src, count).unwrap();
                let mut want = data.to_vec();
                want.copy_within(src as usize..(src + count) as usize, dest as usize);
                assert_eq!(m.to_vec().unwrap(), want, "move({dest}, {src}, {count})");
                checked += 1;
            }
        }
    }
    let bad = "source, destination, or count out of range";
    for (d, s, c) in [
        (-1, 0, 1),
        (0, -1, 1),
        (0, 0, -1),
        (n, 0, 1),
        (0, n, 1),
        (0, 0, n + 1),
        (1, 0, n),
        (0, 1, n),
        (n + 1, 0, 0),
        (i64::MAX, 0, 1),
        (0, 0, i64::MAX),
        (i64::MIN, 0, 0),
    ] {
        expect_err(r.move_(d, s, c), "ValueError", bad);
    }
    r.move_(n, n, 0).unwrap();
    println!("{checked} moves ok");
}
