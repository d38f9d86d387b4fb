//! The differential test against CPython's own `mmap` (python3 runs
//! `tests/differential/diff.py`): 2,000 seeded sequences, and every
//! divergence ever found, replayed.

use std::process::Command;
use wasm_mmap_tests::*;

foreach_diff!(assert_test_exists);

fn diff(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/diff.py");
    let cli = cli();
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .args(["--cli", cli.to_str().unwrap(), "--guest", DIFF_RUNNER])
        .output()
        .expect("python3 runs the differential test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "divergences from CPython:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn diff_runner() {
    let out = diff(&["--sequences", "2000", "--seed", "1"]);
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("2000 sequences, ") && last.ends_with(", 0 divergences"),
        "{out}"
    );
    let calls: u64 = last.split(' ').nth(2).unwrap().parse().unwrap();
    assert!(calls > 50_000, "too few calls to mean anything: {last}");
    println!("{last}");
}

#[test]
fn differential_regressions() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/regressions.txt");
    let out = diff(&["--replay", file]);
    assert!(out.trim_end().ends_with(" 0 divergences"), "{out}");
}
