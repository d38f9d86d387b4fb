//! `hostile_find`: find/rfind must be linear in the map's length. A 64 MiB
//! file of `a` and a 16 MiB needle of `a`s ending in `b`: a naive search
//! compares ~16 MiB at each of 48 Mi positions (minutes); a linear one is
//! done at once. Also checks that a 1 MiB needle is found at the right
//! index, straddling 64 KiB block boundaries at odd offsets. Prints `ok`.

use wasm_mmap_guest::{Mmap, MmapOptions, create_file};

const MIB: u64 = 1 << 20;

fn main() {
    let len = 64 * MIB;
    let f = create_file("hay.bin").unwrap();
    f.set_size(len).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let chunk = vec![b'a'; MIB as usize];
    for i in 0..64 {
        m.write_at(i * MIB, &chunk).unwrap();
    }

    // Correctness first: a pseudo-random 1 MiB needle, twice, plus a decoy
    // that differs only in its last byte.
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let needle: Vec<u8> = (0..MIB)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect();
    let mut decoy = needle.clone();
    *decoy.last_mut().unwrap() ^= 1;
    let first = 4 * 65536 - 501; // odd, across 64 KiB boundaries
    let decoy_at = 20 * MIB + 1;
    let last = 40 * MIB + 65536 - 777;
    m.write_at(first, &needle).unwrap();
    m.write_at(decoy_at, &decoy).unwrap();
    m.write_at(last, &needle).unwrap();
    let (first, last) = (first as usize, last as usize);
    assert_eq!(m.find_in(&needle, None, None).unwrap(), Some(first));
    assert_eq!(m.rfind_in(&needle, None, None).unwrap(), Some(last));
    assert_eq!(
        m.find_in(&needle, Some(first as i64 + 1), None).unwrap(),
        Some(last)
    );
    assert_eq!(
        m.rfind_in(&needle, None, Some((last + needle.len()) as i64 - 1))
            .unwrap(),
        Some(first)
    );
    assert_eq!(
        m.find_in(&decoy, None, None).unwrap(),
        Some(decoy_at as usize)
    );
    assert_eq!(
        m.rfind_in(&decoy, None, None).unwrap(),
        Some(decoy_at as usize)
    );
    println!("needles found");
    // Back to all `a`.
    m.write_at(first as u64, &chunk).unwrap();
    m.write_at(decoy_at, &chunk).unwrap();
    m.write_at(last as u64, &chunk).unwrap();

    // The adversarial needle: no match, and no quadratic time.
    let mut needle = vec![b'a'; (16 * MIB) as usize];
    *needle.last_mut().unwrap() = b'b';
    assert_eq!(m.find_in(&needle, None, None).unwrap(), None);
    assert_eq!(m.rfind_in(&needle, None, None).unwrap(), None);
    println!("ok");
}
