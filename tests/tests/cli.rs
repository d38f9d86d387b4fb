//! The CLI with real guests: exit codes pass through, traps are one line.

use wasm_mmap_tests::*;

foreach_cli!(assert_test_exists);

#[test]
fn cli_exit() {
    let out = run(&["run", CLI_EXIT, "code", "7"]);
    assert_eq!(
        out.status.code(),
        Some(7),
        "the guest's exit code is the process's"
    );
    let out = run(&["run", CLI_EXIT, "code", "0"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["run", CLI_EXIT, "std-exit", "3"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "std's exit can only report failure"
    );
    let out = run(&["run", CLI_EXIT, "std-exit", "0"]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["run", "--env", "GREETING=hi", CLI_EXIT, "env", "GREETING"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "hi");
    let out = run(&["run", CLI_EXIT, "args", "-x", "--y", "z"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "cli_exit.wasm args -x --y z"
    );

    let out = run(&["run", CLI_EXIT, "panic"]);
    assert_eq!(out.status.code(), Some(134));
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap();
    assert_eq!(
        last,
        "error: guest trapped: wasm trap: wasm `unreachable` instruction executed"
    );
    assert!(
        !err.contains("wasm backtrace") && !err.contains("0x"),
        "no wasm backtrace from the host: {err}"
    );
}

#[test]
fn embedding_example_runs_a_guest() {
    let exe = cli()
        .parent()
        .unwrap()
        .join("examples")
        .join(format!("embed{}", std::env::consts::EXE_SUFFIX));
    let d = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(&exe)
        .arg(MMAP_ANONYMOUS)
        .arg(d.path())
        .output()
        .unwrap();
    assert_ok(&out);
    // Windows work through the embedding API's one call too.
    let bytes: Vec<u8> = (0..16384).map(|i| (i % 251) as u8).collect();
    std::fs::write(d.path().join("f.bin"), bytes).unwrap();
    let out = std::process::Command::new(&exe)
        .arg(WINDOW_BASIC)
        .arg(d.path())
        .arg("f.bin")
        .output()
        .unwrap();
    assert_ok(&out);
}
