//! The `mmap_*` test programs: every method and error of one guest's maps,
//! checked inside the guest, plus what reached the file, checked here.

use std::fs;
use wasm_mmap_tests::*;

foreach_mmap!(assert_test_exists);

#[test]
fn mmap_methods() {
    let d = tempfile::tempdir().unwrap();
    run_program_ok(MMAP_METHODS, d.path(), &[]);
    // Writes through the shared map reached the file; resize set its size.
    let data = fs::read(d.path().join("methods.bin")).unwrap();
    assert_eq!(data.len(), 100_000);
    assert_eq!(&data[..6], b"HELLO\0");
    assert_eq!(data[99_999], 7);
}

#[test]
fn mmap_construct() {
    let d = tempfile::tempdir().unwrap();
    run_program_ok(MMAP_CONSTRUCT, d.path(), &[]);
    let data = fs::read(d.path().join("c.bin")).unwrap();
    assert_eq!(data.len(), 8204);
    assert_eq!(&data[..6], b"SHARED");
    assert!(data[6..4096].iter().all(|&b| b == b'a'));
    assert!(data[4096..].iter().all(|&b| b == b'b'));
}

#[test]
fn mmap_anonymous() {
    let d = tempfile::tempdir().unwrap();
    run_program_ok(MMAP_ANONYMOUS, d.path(), &[]);
}

#[test]
fn mmap_access() {
    let d = tempfile::tempdir().unwrap();
    run_program_ok(MMAP_ACCESS, d.path(), &[]);
    let data = fs::read(d.path().join("access.bin")).unwrap();
    assert_eq!(&data[..7], b"written");
    assert_eq!(
        data[50], b'.',
        "the copy map's write never reached the file"
    );
}

#[test]
fn mmap_readonly() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("ro.bin"), b"read-only data").unwrap();
    let out = run(&["run", "--ro-dir", d.path().to_str().unwrap(), MMAP_READONLY]);
    assert_ok(&out);
    assert_eq!(
        fs::read(d.path().join("ro.bin")).unwrap(),
        b"read-only data"
    );
}
