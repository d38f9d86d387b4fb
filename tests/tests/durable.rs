//! kill -9 in the middle of writes + flushes: every record whose flush had
//! returned (the guest said so) is in the file.

use std::time::Duration;
use wasm_mmap_tests::*;

foreach_durable!(assert_test_exists);

const RECORDS: u64 = 4096; // 256 KiB: records never wrap in this test

#[test]
fn durable_writer() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("log.bin");
    std::fs::write(&path, vec![b'.'; (RECORDS * 64) as usize]).unwrap();
    let dir = d.path().to_str().unwrap();
    let writer = Proc::spawn(&["run", "--dir", dir, DURABLE_WRITER, "log.bin"]);
    let mut last = 0u64;
    while last < 1000 {
        let line = writer.line(STEP);
        last = line.strip_prefix("flushed ").unwrap().parse().unwrap();
    }
    drop(writer); // SIGKILL, then reap
    // Lines still in the pipe were flushed too, but `last` is enough.
    std::thread::sleep(Duration::from_millis(50));
    let data = std::fs::read(&path).unwrap();
    for i in 0..=last {
        let rec = &data[(i * 64) as usize..(i * 64 + 64) as usize];
        let want = format!("rec {i}");
        assert!(
            rec.starts_with(want.as_bytes()),
            "record {i} lost: {:?}",
            String::from_utf8_lossy(rec)
        );
    }
    println!(
        "killed after {last} acknowledged flushes; all {} records present",
        last + 1
    );
}
