//! The CLI's own errors: one clear line each, never a backtrace. (Tests
//! with real guests are in the workspace's `tests/` crate, which runs the
//! binary this crate's integration tests make cargo build.)

use std::process::{Command, Output};

fn wasm_mmap(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wasm-mmap"))
        .args(args)
        .output()
        .unwrap()
}

fn one_error_line(out: &Output) -> String {
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr.clone()).unwrap();
    assert_eq!(err.lines().count(), 1, "exactly one line: {err:?}");
    err.trim_end().to_string()
}

#[test]
fn help_explains_run() {
    let out = wasm_mmap(&["--help"]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("run") && text.contains("mmap"), "{text}");
    let out = wasm_mmap(&["run", "--help"]);
    let text = String::from_utf8_lossy(&out.stdout);
    for flag in [
        "--dir",
        "--ro-dir",
        "--env",
        "--max-maps",
        "--max-mapped-bytes",
        "GUEST.wasm",
    ] {
        assert!(text.contains(flag), "run --help lacks {flag}: {text}");
    }
}

#[test]
fn missing_file_is_one_line() {
    let line = one_error_line(&wasm_mmap(&["run", "/nonexistent/guest.wasm"]));
    assert!(
        line.starts_with("error: cannot read /nonexistent/guest.wasm: "),
        "{line}"
    );
}

#[test]
fn non_wasm_and_core_modules_are_refused_clearly() {
    let d = tempfile::tempdir().unwrap();
    let text = d.path().join("text.wasm");
    std::fs::write(&text, "hello").unwrap();
    let line = one_error_line(&wasm_mmap(&["run", text.to_str().unwrap()]));
    assert!(line.ends_with("is not a WebAssembly file"), "{line}");

    let core = d.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let line = one_error_line(&wasm_mmap(&["run", core.to_str().unwrap()]));
    assert!(
        line.contains("is a core WebAssembly module, not a component"),
        "{line}"
    );

    let broken = d.path().join("broken.wasm");
    std::fs::write(&broken, b"\0asm\x0d\0\x01\0\xff\xff").unwrap();
    let line = one_error_line(&wasm_mmap(&["run", broken.to_str().unwrap()]));
    assert!(line.contains("is not a valid component"), "{line}");
}

#[test]
fn bad_dir_and_env_are_one_line() {
    let line = one_error_line(&wasm_mmap(&["run", "--env", "NOEQUALS", "/dev/null"]));
    assert!(
        line.contains("not a WebAssembly file") || line.contains("NAME=VALUE"),
        "{line}"
    );
}
