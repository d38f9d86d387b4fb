//! A truncating process racing guests that read and write their maps of
//! the same file: no host dies, every faulted call is an EFAULT error.

use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_mmap_tests::*;

foreach_race!(assert_test_exists);

const BIG: usize = 64 * 1024;
const SMALL: usize = 4096 + 100;
const MILLIS: &str = "3000";

#[test]
fn race_reader() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("race.bin");
    std::fs::write(&path, vec![b'A'; BIG]).unwrap();
    let dir = d.path().to_str().unwrap();
    let readers: Vec<Proc> = (0..3)
        .map(|_| {
            Proc::spawn(&[
                "run",
                "--dir",
                dir,
                RACE_READER,
                "race.bin",
                MILLIS,
                &SMALL.to_string(),
            ])
        })
        .collect();

    let stop = Arc::new(AtomicBool::new(false));
    let truncator = {
        let stop = stop.clone();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        std::thread::spawn(move || {
            let tail = vec![b'A'; BIG - SMALL];
            let mut cycles = 0u64;
            while !stop.load(Ordering::Relaxed) {
                file.set_len(SMALL as u64).unwrap();
                file.write_all_at(&tail, SMALL as u64).unwrap();
                cycles += 1;
            }
            cycles
        })
    };
    let mut total = (0u64, 0u64);
    for mut r in readers {
        let line = r.line(STEP + STEP);
        println!("reader: {line}");
        assert!(r.alive() || r.finish().success(), "a reader's host died");
        let field = |k: &str| -> u64 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(k))
                .unwrap()
                .parse()
                .unwrap()
        };
        let (ok, efault) = (field("ok="), field("efault="));
        // Reads now have memory semantics (zeros in the last page), so a
        // run may see no wholly vanished page; the host must live either way.
        assert!(ok > 0, "the readers made no progress: {line}");
        total.0 += ok;
        total.1 += efault;
    }
    stop.store(true, Ordering::Relaxed);
    let cycles = truncator.join().unwrap();
    println!(
        "race: {MILLIS} ms, {cycles} truncate/regrow cycles, 3 guests: {} ok, {} EFAULT, 0 host deaths",
        total.0, total.1
    );
}
