//! The benchmark guest runs (tiny counts: a smoke test, no timing asserted);
//! the figures come from `cargo run --release --example bench`.

use wasm_mmap_tests::*;

foreach_bench!(assert_test_exists);

#[test]
fn bench_ops() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    std::fs::write(d.path().join("f.bin"), vec![5u8; 2 << 20]).unwrap();
    for args in [
        &["byte", "f.bin", "100"][..],
        &["rand4k", "f.bin", "10"],
        &["seq", "f.bin", "1"],
        &["find", "f.bin"],
        &["find", "f.bin", "4096"],
        &["wbyte", "f.bin", "100"],
        &["wrand4k", "f.bin", "10"],
        &["wseq", "f.bin", "1"],
        &["nop"],
    ] {
        let mut a = vec!["run", "--dir", dir, BENCH_OPS];
        a.extend_from_slice(args);
        let out = run(&a);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(
            text.lines().all(|l| l
                .split(' ')
                .nth(1)
                .is_some_and(|v| v.parse::<f64>().is_ok())),
            "{text}"
        );
    }
}
