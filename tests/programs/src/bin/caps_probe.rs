//! `caps_probe PATH...`: for each PATH, open it (read-only) in the
//! preopens and map one byte read-only; print `PATH\tOUTCOME\tMICROS`,
//! OUTCOME being `mapped` or the error.

use std::time::Instant;
use wasm_mmap_guest::{Access, Mmap, MmapOptions, open_file};

fn main() {
    for path in std::env::args().skip(1) {
        let t = Instant::now();
        let outcome = match open_file(&path, false) {
            Err(e) => format!("open refused: {e}"),
            Ok(f) => match Mmap::map(&f, 1, MmapOptions::new().access(Access::Read)) {
                Ok(_) => "mapped".to_string(),
                Err(e) => format!("map refused: {e}"),
            },
        };
        println!("{path}\t{outcome}\t{}", t.elapsed().as_micros());
    }
}
