//! Extended slices, get and set, with every start/stop/step around a small
//! map, compared with Python's slicing rules over a Rust vector.

use wasm_mmap_guest::{Mmap, MmapOptions};
use wasm_mmap_test_programs::{expect_err, py_slice};

fn main() {
    let len = 10usize;
    let m = Mmap::anonymous(len as u64, MmapOptions::new()).unwrap();
    let r = m.raw();
    let base: Vec<u8> = (0..len as u8).map(|b| b * 7 + 1).collect();
    let l = len as i64;
    let idx: Vec<Option<i64>> = std::iter::once(None)
        .chain((-l - 2..=l + 2).map(Some))
        .chain([Some(i64::MIN), Some(i64::MAX)])
        .collect();
    let steps: Vec<Option<i64>> = std::iter::once(None)
        .chain((-l - 1..=l + 1).filter(|&s| s != 0).map(Some))
        .chain([Some(i64::MIN + 1), Some(i64::MAX)])
        .collect();
    let mut checked = 0;
    for &start in &idx {
        for &stop in &idx {
            for &step in &steps {
                r.set_slice(None, None, None, &base).unwrap();
                let sel = py_slice(len, start, stop, step);
                let want: Vec<u8> = sel.iter().map(|&i| base[i]).collect();
                assert_eq!(
                    r.get_slice(start, stop, step).unwrap(),
                    want,
                    "m[{start:?}:{stop:?}:{step:?}]"
                );
                let new: Vec<u8> = (0..sel.len() as u8).map(|k| 200 + k).collect();
                r.set_slice(start, stop, step, &new).unwrap();
                let mut model = base.clone();
                for (k, &i) in sel.iter().enumerate() {
                    model[i] = new[k];
                }
                assert_eq!(
                    m.to_vec().unwrap(),
                    model,
                    "m[{start:?}:{stop:?}:{step:?}] = ..."
                );
                let wrong = vec![0u8; sel.len() + 1];
                expect_err(
                    r.set_slice(start, stop, step, &wrong),
                    "IndexError",
                    "mmap slice assignment is wrong size",
                );
                checked += 3;
            }
        }
        expect_err(
            r.get_slice(start, None, Some(0)),
            "ValueError",
            "slice step cannot be zero",
        );
    }
    println!("{checked} slice calls ok");
}
