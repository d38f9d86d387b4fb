//! Zero-copy windows (issue G; the WIT's `windows` interface): a map's
//! pages placed in a guest's own memory. Real files, real guests, real
//! processes: what one window writes, the file, a call-path map, a native
//! reader and another process's window see; private windows never change
//! the file; truncation from outside follows the host's policy and never
//! kills the host. (`windows.rs` is the Windows OS suite, under wine.)

#![cfg(target_os = "linux")]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use wasm_mmap_tests::*;

foreach_window!(assert_test_exists);

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn pattern(n: usize, plus: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251 + plus) as u8).collect()
}

/// Everything a single guest can check about its windows (see the
/// program's doc), then the file, read natively, holds what was written
/// through a window and nothing a private window or a dropped one wrote.
#[test]
fn window_basic() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("f.bin"), pattern(16384, 0)).unwrap();
    let out = run_within(
        &[
            "run",
            "--dir",
            d.path().to_str().unwrap(),
            WINDOW_BASIC,
            "f.bin",
        ],
        HANG,
    );
    assert_ok(&out);
    let file = fs::read(d.path().join("f.bin")).unwrap();
    let mut want = pattern(16384, 0);
    want[100..105].copy_from_slice(b"wrote");
    want[4096 + 10] = 0xAA;
    want[4096 + 20] = 0xBB;
    want[4096 + 30] = 0xCC;
    want[4096 + 31] = 0xCD;
    want[4096 + 64..4096 + 68].copy_from_slice(&0x1234_5678u32.to_le_bytes());
    assert_eq!(file, want, "the file holds exactly the shared writes");
}

/// `--max-windows 3`: the fourth window is ENOMEM, dropping one makes room.
#[test]
fn window_limit() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("f.bin"), pattern(8192, 0)).unwrap();
    let dir = d.path().to_str().unwrap();
    let out = run_within(
        &[
            "run",
            "--max-windows",
            "3",
            "--dir",
            dir,
            WINDOW_LIMIT,
            "f.bin",
            "3",
        ],
        HANG,
    );
    assert_ok(&out);
}

/// `--no-windows`: placing is EOPNOTSUPP, maps work as ever.
#[test]
fn window_off() {
    let d = tempfile::tempdir().unwrap();
    fs::write(d.path().join("f.bin"), pattern(8192, 0)).unwrap();
    let dir = d.path().to_str().unwrap();
    let out = run_within(
        &["run", "--no-windows", "--dir", dir, WINDOW_OFF, "f.bin"],
        HANG,
    );
    assert_ok(&out);
}

/// Runs `window_truncate` under `policy`, shortening its file to one page
/// once the window is placed.
fn truncate_run(policy: &str, mode: &str) -> Output {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("t.bin");
    fs::write(&path, pattern(12288, 1)).unwrap();
    let mut child = cli_command()
        .args(["run", "--on-truncation", policy, "--dir"])
        .arg(d.path())
        .args([WINDOW_TRUNCATE, "t.bin", mode])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    lines.read_line(&mut first).unwrap();
    assert_eq!(first.trim(), "placed");
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(4096)
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "go").unwrap();
    let status = wait_within(&mut child, HANG);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut lines, &mut rest).unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    Output {
        status,
        stdout: format!("{first}{rest}").into_bytes(),
        stderr: err.into_bytes(),
    }
}

/// Both truncation policies, each with every kind of touch (see below).
#[test]
fn window_truncate() {
    truncate_trap();
    truncate_zero();
}

/// `trap`: whoever touches the vanished page — a wasm load, the runtime's
/// `memory.copy`, the host lifting a list — the guest traps (exit 134, at
/// once or at its next wasm-mmap call), the host lives and names the file.
fn truncate_trap() {
    for mode in ["load", "copy", "lift", "dropcopy", "exitcopy"] {
        let out = truncate_run("trap", mode);
        let (out_text, err) = (stdout(&out), stderr(&out));
        assert_eq!(
            out.status.code(),
            Some(134),
            "{mode}: the guest traps, the host exits cleanly\nstdout: {out_text}\nstderr: {err}"
        );
        assert!(
            err.contains("t.bin") && err.contains("vanished"),
            "{mode}: one line names the file: {err}"
        );
        assert!(!out_text.contains("ok"), "{mode}: the guest went on");
        if mode == "load" {
            // Trapped by wasmtime at the wasm load itself, not later.
            assert!(
                err.contains("out of bounds") && !err.contains("on the guest's behalf"),
                "{mode}: {err}"
            );
        } else if mode != "lift" {
            // The copy ran (in host code, reading zeros); the trap came after.
            assert!(out_text.contains("copied"), "{mode}: {out_text}");
            assert!(err.contains("on the guest's behalf"), "{mode}: {err}");
        }
    }
}

/// `zero`: every kind of touch reads zeros, the window says it was
/// replaced, and the guest goes on.
fn truncate_zero() {
    for mode in ["load", "copy", "lift", "dropcopy"] {
        let out = truncate_run("zero", mode);
        assert_ok(&out);
    }
    let out = truncate_run("zero", "exitcopy");
    assert!(
        out.status.success() && stdout(&out).contains("copied"),
        "exitcopy: {}\n{}",
        stdout(&out),
        stderr(&out)
    );
}

/// Two guests in two OS processes share one file through windows: a
/// ping-pong of plain atomic loads and stores, bytes written through one
/// window seen through the other's window and its call-path map, and by a
/// native reader of the file.
#[test]
fn window_peer() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("p.bin");
    fs::write(&path, [0u8; 4096]).unwrap();
    let dir = d.path().to_str().unwrap();
    let second = Captured::spawn(cli_command().args([
        "run",
        "--dir",
        dir,
        WINDOW_PEER,
        "p.bin",
        "second",
        "20000",
    ]));
    let first = run_within(
        &["run", "--dir", dir, WINDOW_PEER, "p.bin", "first", "20000"],
        HANG,
    );
    let second = second.wait_within(HANG);
    assert_ok(&first);
    assert_ok(&second);
    assert!(stdout(&first).contains("round_trip_ns"));
    let file = fs::read(&path).unwrap();
    assert_eq!(&file[512..528], b"hello from first");
    assert_eq!(
        u32::from_le_bytes(file[0..4].try_into().unwrap()),
        40_000,
        "the last ball, in the file"
    );
}

/// 10,000 truncations (and restorations, with the data written back) of a
/// file under the windows of 3 guest processes that keep reading it, under
/// both policies: no host ever dies of a signal. Under `trap` guests
/// trap (exit 134) and are restarted; under `zero` they live through it
/// and report replaced pages. At least one fault must be seen either way,
/// or the test proved nothing.
#[test]
fn window_sweep() {
    for policy in ["trap", "zero"] {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("s.bin");
        let data = pattern(12288, 1);
        fs::write(&path, &data).unwrap();
        let dir = d.path().to_str().unwrap().to_string();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let truncator = {
            let (path, stop) = (path.clone(), stop.clone());
            std::thread::spawn(move || {
                let f = fs::OpenOptions::new().write(true).open(&path).unwrap();
                for k in 0..10_000u32 {
                    f.set_len(4096).unwrap();
                    if k % 16 == 0 {
                        std::thread::sleep(Duration::from_micros(200));
                    }
                    f.set_len(12288).unwrap();
                    std::os::unix::fs::FileExt::write_all_at(&f, &data[4096..], 4096).unwrap();
                }
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        let run_guest = |dir: &str| {
            Captured::spawn(cli_command().args([
                "run",
                "--on-truncation",
                policy,
                "--dir",
                dir,
                WINDOW_SWEEP,
                "s.bin",
                "300",
            ]))
        };
        let deadline = Instant::now() + HANG;
        let (mut traps, mut replaced, mut runs) = (0u32, 0u64, 0u32);
        while !stop.load(std::sync::atomic::Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the truncator did not finish");
            let guests: Vec<Captured> = (0..3).map(|_| run_guest(&dir)).collect();
            for g in guests {
                let out = g.wait_within(HANG);
                runs += 1;
                match out.status.code() {
                    Some(0) => {
                        let text = stdout(&out);
                        if let Some(n) = text.lines().find_map(|l| l.strip_prefix("replaced ")) {
                            replaced += n.trim().parse::<u64>().unwrap();
                        }
                    }
                    Some(134) if policy == "trap" => {
                        assert!(stderr(&out).contains("vanished"), "{}", stderr(&out));
                        traps += 1;
                    }
                    _ => panic!(
                        "{policy}: the host died or failed: {}\nstdout: {}\nstderr: {}",
                        out.status,
                        stdout(&out),
                        stderr(&out)
                    ),
                }
            }
        }
        truncator.join().unwrap();
        eprintln!("{policy}: {runs} guest runs, {traps} traps, {replaced} windows replaced");
        if policy == "trap" {
            assert!(traps > 0, "no guest ever touched a vanished page");
        } else {
            assert!(replaced > 0, "no window ever lost a page");
        }
    }
}

/// The host's kernel mappings (lines of /proc/PID/maps): all of them, and
/// those of `file`.
fn mappings(pid: u32, file: &str) -> (usize, usize) {
    let maps = fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    (
        maps.lines().count(),
        maps.lines().filter(|l| l.ends_with(file)).count(),
    )
}

/// A 256-page window whose file is shortened to nothing, then touched on
/// every other page (wasm loads under `zero`, `memory.copy` under `trap`):
/// the window's file mapping is not cut into pieces (one replacement per
/// page would leave 128 pieces of it and 256 more mappings in all), so a
/// guest cannot exhaust the kernel's limit through faults. (The total
/// allows for the runtime's own threads, started by the stdin reads.)
#[test]
fn window_vmas() {
    for (policy, mode) in [("zero", "load"), ("trap", "copy")] {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("v.bin");
        fs::write(&path, pattern(256 * 4096, 1)).unwrap();
        let mut child = cli_command()
            .args(["run", "--on-truncation", policy, "--dir"])
            .arg(d.path())
            .args([WINDOW_VMAS, "v.bin", mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = child.id();
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        lines.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "placed");
        let (before, file_before) = mappings(pid, "v.bin");
        fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(0)
            .unwrap();
        writeln!(stdin, "go").unwrap();
        line.clear();
        lines.read_line(&mut line).unwrap();
        assert_eq!(line.trim(), "touched", "{policy}/{mode}");
        let (after, file_after) = mappings(pid, "v.bin");
        writeln!(stdin, "go").unwrap();
        let status = wait_within(&mut child, HANG);
        assert!(
            file_after <= file_before && after <= before + 64,
            "{policy}/{mode}: {before} mappings ({file_before} of the file) before, {after} \
             ({file_after}) after touching 128 vanished pages"
        );
        let want = if policy == "trap" { Some(134) } else { Some(0) };
        assert_eq!(status.code(), want, "{policy}/{mode}");
    }
}

/// A spin on a window word with no other call in the loop sees a native
/// process's store (no load is cached by the runtime's compiler).
#[test]
fn window_spin() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("s.bin");
    fs::write(&path, [0u8; 4096]).unwrap();
    let mut child = cli_command()
        .args(["run", "--dir"])
        .arg(d.path())
        .args([WINDOW_SPIN, "s.bin"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    lines.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "spinning");
    std::thread::sleep(Duration::from_millis(100));
    std::os::unix::fs::FileExt::write_all_at(
        &fs::OpenOptions::new().write(true).open(&path).unwrap(),
        &7u32.to_le_bytes(),
        0,
    )
    .unwrap();
    let status = wait_within(&mut child, HANG);
    line.clear();
    lines.read_line(&mut line).unwrap();
    assert!(status.success() && line.trim() == "ok", "{status}: {line}");
}
