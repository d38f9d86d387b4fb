//! `limits_probe small`: run with `--max-maps 3 --max-mapped-bytes 300000
//! --max-map-bytes 200000 --max-read-bytes 1000`; `limits_probe huge`: maps
//! the 100 GiB sparse `huge.bin` and reads it whole with the default read
//! limit. Each limit is an ENOMEM naming the limit (as the builder spells it).

use wasm_mmap_guest::{Mmap, MmapOptions, create_file, open_file};
use wasm_mmap_test_programs::expect_err;

#[track_caller]
fn over(r: Result<impl std::fmt::Debug, wasm_mmap_guest::Error>, flag: &str) {
    let e = r.expect_err("over a limit");
    assert_eq!(e.errno(), Some(12), "{e}");
    assert!(e.message().contains(&flag.replace('-', "_")), "{e}");
}

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("small") => {
            let a = Mmap::anonymous(100_000, MmapOptions::new()).unwrap();
            over(
                Mmap::anonymous(200_001, MmapOptions::new()),
                "max-map-bytes",
            );
            let b = Mmap::anonymous(150_000, MmapOptions::new()).unwrap();
            over(
                Mmap::anonymous(60_000, MmapOptions::new()),
                "max-mapped-bytes",
            );
            over(b.resize(200_001), "max-map-bytes");
            let c = Mmap::anonymous(10_000, MmapOptions::new()).unwrap();
            // 100_000 + 10_000 + 195_000 > 300_000
            over(b.resize(195_000), "max-mapped-bytes");
            assert_eq!(
                b.len().unwrap(),
                150_000,
                "a refused resize changes nothing"
            );
            over(Mmap::anonymous(1, MmapOptions::new()), "max-maps");
            // Closing gives the budget back.
            c.close();
            let d = Mmap::anonymous(1, MmapOptions::new()).unwrap();
            drop(d);
            drop(a);
            b.resize(200_000).unwrap();
            // One call copies out at most 1000 bytes; smaller pieces work.
            over(b.read_up_to(None), "max-read-bytes");
            over(b.slice(..), "max-read-bytes");
            over(b.slice_step(None, None, Some(2)), "max-read-bytes");
            assert_eq!(b.slice(..1000).unwrap().len(), 1000);
            assert_eq!(b.read_up_to(Some(1000)).unwrap().len(), 1000);
            assert_eq!(
                b.find(b"x"),
                None,
                "find searches in blocks, under any read limit"
            );
            // A whole-file map over the limit is refused once its size is known.
            let f = create_file("f.bin").unwrap();
            f.set_size(250_000).unwrap();
            over(Mmap::map(&f, 0, MmapOptions::new()), "max-map-bytes");
            // Python's own argument checks come before the host's limits.
            expect_err(
                Mmap::map(&f, 300_000, MmapOptions::new()),
                "ValueError",
                "mmap length is greater than file size",
            );
            println!("ok");
        }
        Some("huge") => {
            let f = open_file("huge.bin", false).unwrap();
            let m = Mmap::map(
                &f,
                0,
                MmapOptions::new().access(wasm_mmap_guest::Access::Read),
            )
            .unwrap();
            assert_eq!(m.len().unwrap(), 100 << 30);
            over(m.read_up_to(None), "max-read-bytes");
            over(m.slice(..), "max-read-bytes");
            assert_eq!(m.get(-1).unwrap(), 0);
            println!("ok");
        }
        _ => panic!("usage: limits_probe small|huge"),
    }
}
