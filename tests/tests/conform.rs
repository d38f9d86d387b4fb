//! Conformance with CPython's own test_mmap.py, area by area (the
//! `conform_*` programs check inside the guest).

use wasm_mmap_tests::*;

foreach_conform!(assert_test_exists);

fn run_with(program: &str, extra: &[&str]) -> String {
    let d = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--dir", d.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(program);
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn conform_find() {
    let out = run_with(CONFORM_FIND, &[]);
    assert!(out.ends_with("find/rfind calls ok\n"), "{out}");
}

#[test]
fn conform_slices() {
    let out = run_with(CONFORM_SLICES, &[]);
    assert!(out.ends_with("slice calls ok\n"), "{out}");
}

#[test]
fn conform_move() {
    let out = run_with(CONFORM_MOVE, &[]);
    assert!(out.ends_with("moves ok\n"), "{out}");
}

#[test]
fn conform_misc() {
    let out = run_with(CONFORM_MISC, &["--max-maps", "1"]);
    assert_eq!(out, "ok\n");
}
