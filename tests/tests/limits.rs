//! Host limits, from the CLI: count, total, single map, single read.

use wasm_mmap_tests::*;

foreach_limits!(assert_test_exists);

#[test]
fn limits_probe() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let small = [
        "--max-maps",
        "3",
        "--max-mapped-bytes",
        "300000",
        "--max-map-bytes",
        "200000",
        "--max-read-bytes",
        "1000",
    ];
    let mut args = vec!["run", "--dir", dir];
    args.extend(small);
    args.extend([LIMITS_PROBE, "small"]);
    assert_ok(&run(&args));

    // read() of a 100 GiB map must not make the host allocate 100 GiB.
    let huge = std::fs::File::create(d.path().join("huge.bin")).unwrap();
    huge.set_len(100 << 30).unwrap();
    let big = (200u64 << 30).to_string();
    let out = run(&[
        "run",
        "--dir",
        dir,
        "--max-mapped-bytes",
        &big,
        "--max-map-bytes",
        &big,
        LIMITS_PROBE,
        "huge",
    ]);
    assert_ok(&out);
}
