//! Named shared memory (Python's tagname) across OS processes, and the
//! host's naming policy.

use std::path::Path;
use wasm_mmap_tests::*;

foreach_shm!(assert_test_exists);

/// A namespace no other test run uses.
fn namespace(tag: &str) -> String {
    format!("test-{tag}-{}", std::process::id())
}

fn peer(ns: &str, args: &[&str]) -> String {
    let mut a = vec!["run", "--shm-namespace", ns, SHM_PEER];
    a.extend_from_slice(args);
    let out = run(&a);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .trim_end()
        .to_string()
}

#[test]
fn shm_peer() {
    let ns = namespace("peer");
    let os_name = format!("/dev/shm/wasm-mmap.{ns}.tag1");

    // Two processes with the same namespace and tagname share memory.
    let mut holder = Proc::spawn(&[
        "run",
        "--shm-namespace",
        &ns,
        SHM_PEER,
        "hold",
        "tag1",
        "hello",
        "16",
    ]);
    assert_eq!(holder.line(STEP), "ready");
    assert!(
        Path::new(&os_name).exists(),
        "the OS name carries the namespace prefix"
    );
    assert_eq!(peer(&ns, &["read", "tag1", "16"]), "hello...........");
    assert_eq!(peer(&ns, &["write", "tag1", "WORLD"]), "done");
    holder.send("show");
    assert_eq!(holder.line(STEP), "WORLD...........");
    assert!(holder.finish().success());

    // POSIX shared memory outlives its processes, until removed.
    assert_eq!(peer(&ns, &["read", "tag1", "5"]), "WORLD");
    // A different tagname is different memory; so is another namespace.
    assert_eq!(peer(&ns, &["missing", "tag2"]), "missing");
    assert_eq!(peer(&namespace("other"), &["missing", "tag1"]), "missing");
    // A guest cannot name anything outside its namespace.
    let out = run(&["run", "--shm-namespace", &ns, SHM_PEER, "read", "../x", "1"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("invalid shared memory name"));

    assert_eq!(peer(&ns, &["remove", "tag1"]), "removed");
    assert!(!Path::new(&os_name).exists());
    assert_eq!(peer(&ns, &["missing", "tag1"]), "missing");
}

#[test]
fn shm_rules_in_one_process() {
    assert_eq!(peer(&namespace("rules"), &["rules"]), "ok");
}

#[test]
fn shm_allow_list_shares_with_native_programs() {
    let name = format!("native-{}", std::process::id());
    let path = format!("/dev/shm/{name}");
    std::fs::write(&path, b"from a native program").unwrap();
    let out = run(&["run", "--shm-allow", &name, SHM_PEER, "read", &name, "21"]);
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "from a native program"
    );
    // Without the allow-list entry the same name is looked up in the
    // namespace, where it does not exist.
    assert_eq!(peer(&namespace("noallow"), &["missing", &name]), "missing");
}

#[test]
fn bad_namespace_is_one_line() {
    let out = run(&["run", "--shm-namespace", "a/b", SHM_PEER, "rules"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: --shm-namespace") && err.lines().count() == 1,
        "{err}"
    );
}
