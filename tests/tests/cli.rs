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

/// Runs `wasm-mmap run --cache-dir DIR MMAP_ANONYMOUS` asking the cache to
/// say what it did; returns that stderr line.
fn cached_run(dir: &std::path::Path, extra: &[&str]) -> String {
    let out = cli_command()
        .env("WASM_MMAP_LOG", "cache")
        .args(["run", "--cache-dir"])
        .arg(dir)
        .args(extra)
        .arg(MMAP_ANONYMOUS)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8(out.stderr).unwrap()
}

/// The second start of a guest is served from the compile cache; a damaged
/// entry is compiled again and replaced, never loaded; `--no-cache` leaves
/// the cache alone.
#[test]
fn compile_cache_serves_the_second_start() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    assert!(cached_run(&cache, &[]).contains("cache miss, compiled and stored"));
    assert!(cached_run(&cache, &[]).contains("cache hit"));
    let entries: Vec<_> = std::fs::read_dir(&cache).unwrap().collect();
    assert_eq!(entries.len(), 1, "one entry, no temporary files left");
    let entry = entries[0].as_ref().unwrap().path();
    let mut bytes = std::fs::read(&entry).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(&entry, &bytes).unwrap();
    assert!(cached_run(&cache, &[]).contains("bad entry, compiled again and replaced"));
    assert!(cached_run(&cache, &[]).contains("cache hit"));
    // The checksum itself damaged (the entry's last byte).
    let mut bytes = std::fs::read(&entry).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&entry, &bytes).unwrap();
    assert!(cached_run(&cache, &[]).contains("bad entry"));
    std::fs::write(&entry, b"WMMCACH2 short").unwrap();
    assert!(cached_run(&cache, &[]).contains("bad entry"));
    // --no-cache: no cache line, the directory untouched.
    let before = std::fs::read(&entry).unwrap();
    let out = cli_command()
        .env("WASM_MMAP_LOG", "cache")
        .args(["run", "--no-cache", MMAP_ANONYMOUS])
        .output()
        .unwrap();
    assert_ok(&out);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&entry).unwrap(), before);
}

/// `wasm-mmap compile` + `run --allow-precompiled`, like wasmtime's; a
/// precompiled file is refused without the flag, and one compiled with
/// other settings is refused with one line, never loaded.
#[test]
fn precompiled_components() {
    let d = tempfile::tempdir().unwrap();
    let cwasm = d.path().join("g.cwasm");
    let c = cwasm.to_str().unwrap();
    assert!(run(&["compile", MMAP_ANONYMOUS, "-o", c]).status.success());
    let out = run(&["run", c]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.code() == Some(1)
            && err.lines().count() == 1
            && err.contains("--allow-precompiled"),
        "{err}"
    );
    assert_ok(&run(&["run", "--allow-precompiled", c]));
    let other = d.path().join("other.cwasm");
    let o = other.to_str().unwrap();
    assert!(
        run(&["compile", "--no-windows", MMAP_ANONYMOUS, "-o", o])
            .status
            .success()
    );
    let out = run(&["run", "--allow-precompiled", o]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.code() == Some(1)
            && err.lines().count() == 1
            && err.contains("compiled by another"),
        "{err}"
    );
    assert_ok(&run(&["run", "--allow-precompiled", "--no-windows", o]));
}

/// The cache stays within `WASM_MMAP_CACHE_MAX_BYTES`: storing a second
/// component evicts the one used least recently (here, with a bound of one
/// byte, every other one), never the entry just stored.
#[test]
fn compile_cache_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let cache = d.path().join("cache");
    let line = |program: &str| {
        let out = cli_command()
            .env("WASM_MMAP_LOG", "cache")
            .env("WASM_MMAP_CACHE_MAX_BYTES", "1")
            .args(["run", "--cache-dir"])
            .arg(&cache)
            .arg(program)
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        err.lines().next().unwrap_or_default().to_string()
    };
    assert!(line(MMAP_ANONYMOUS).contains("miss"));
    assert!(line(MMAP_ANONYMOUS).contains("hit"));
    assert!(line(CLI_EXIT).contains("miss"));
    assert_eq!(
        std::fs::read_dir(&cache).unwrap().count(),
        1,
        "one entry kept"
    );
    assert!(line(MMAP_ANONYMOUS).contains("miss"), "evicted");
}
