//! The Windows host for real: cross-built for x86_64-pc-windows-gnu and
//! run under Debian's wine64 with the same wasm32-wasip2 guests, with the
//! toolchain `./setup.sh` installs (mingw-w64, wine64, the rustup target).
//! Without it the test says so and is skipped (under CI=true it fails).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use wasm_mmap_tests::*;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn sh(cmd: &str) {
    let ok = Command::new("sh")
        .args(["-c", cmd])
        .status()
        .unwrap()
        .success();
    assert!(ok, "failed: {cmd}");
}

const WINE: &str = "/usr/lib/wine/wine64";

/// What the cross build and wine need is there; else why not.
fn toolchain() -> Result<(), String> {
    if !have("x86_64-w64-mingw32-gcc") {
        return Err("mingw-w64 (x86_64-w64-mingw32-gcc) is missing".into());
    }
    if !Path::new(WINE).exists() {
        return Err(format!("wine64 ({WINE}) is missing"));
    }
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default();
    if !targets.lines().any(|t| t.trim() == "x86_64-pc-windows-gnu") {
        return Err("the rustup target x86_64-pc-windows-gnu is missing".into());
    }
    Ok(())
}

/// Cross-builds wasm-mmap.exe (own target dir: no wait on the outer
/// build's lock) and puts it with the ProcessPrng stub DLL in `dir`.
fn build_windows_host(dir: &Path) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target_dir = cli()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("windows-host");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .current_dir(root)
        .args([
            "build",
            // Lighter than release (see the profile in Cargo.toml).
            "--profile",
            "wine",
            "--target",
            "x86_64-pc-windows-gnu",
            "-p",
            "wasm-mmap",
            "--bin",
            "wasm-mmap",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    without_cargo_env(&mut cargo);
    cargo.env(
        "CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER",
        "x86_64-w64-mingw32-gcc",
    );
    assert!(cargo.status().unwrap().success(), "cross build failed");
    let exe = dir.join("wasm-mmap.exe");
    std::fs::copy(
        target_dir.join("x86_64-pc-windows-gnu/wine/wasm-mmap.exe"),
        &exe,
    )
    .unwrap();
    let stub = root.join("tests/windows/bcryptprimitives.c");
    sh(&format!(
        "x86_64-w64-mingw32-gcc -shared -O2 -o {} {}",
        dir.join("bcryptprimitives.dll").display(),
        stub.display()
    ));
    exe
}

struct Wine {
    exe: PathBuf,
    prefix: PathBuf,
}

impl Wine {
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(WINE);
        c.arg(&self.exe)
            .args(args)
            .env("WINEPREFIX", &self.prefix)
            .env("WINEDEBUG", "-all");
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).stdin(Stdio::null()).output().unwrap()
    }

    fn stdout(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }
}

#[test]
fn windows_host_under_wine() {
    if quick("windows_host_under_wine") {
        return;
    }
    if !(cfg!(target_os = "linux") && cfg!(target_arch = "x86_64")) {
        eprintln!("windows_host_under_wine: needs an x86_64 Linux host; not run");
        return;
    }
    if let Err(why) = toolchain() {
        toolchain_missing("windows_host_under_wine", &why);
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let exe = build_windows_host(dir.path());
    let wine = Wine {
        exe,
        prefix: dir.path().join("prefix"),
    };
    let _ = wine.run(&["--help"]); // creates the wine prefix
    assert!(wine.stdout(&["--help"]).contains("memory-mapped files"));

    // Named shared memory: the one-process rules where Windows differs.
    assert_eq!(
        wine.stdout(&["run", "--shm-namespace", "rules", SHM_PEER, "rules-windows"]),
        "ok"
    );

    // Two Windows processes with the same tagname share memory.
    let ns = ["run", "--shm-namespace", "two", SHM_PEER];
    fn with<'a>(ns: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
        [ns, extra].concat()
    }
    let mut holder = wine
        .cmd(&with(&ns, &["hold", "tag1", "hello", "16"]))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(holder.stdout.take().unwrap()));
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    assert_eq!(
        wine.stdout(&with(&ns, &["read", "tag1", "16"])),
        "hello..........."
    );
    assert_eq!(wine.stdout(&with(&ns, &["write", "tag1", "WORLD"])), "done");
    assert_eq!(
        wine.stdout(&[
            "run",
            "--shm-namespace",
            "other",
            SHM_PEER,
            "missing",
            "tag1"
        ]),
        "missing"
    );
    assert_eq!(wine.stdout(&with(&ns, &["missing", "tag2"])), "missing");
    std::io::Write::write_all(holder.stdin.as_mut().unwrap(), b"show\n").unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "WORLD...........");
    assert!(holder.wait().unwrap().success());
    // Windows lifetime: the name went with the last handle.
    assert_eq!(wine.stdout(&with(&ns, &["missing", "tag1"])), "missing");

    // A file shared through two Windows processes' maps.
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("shared.txt"), "................").unwrap();
    let d = files.path().to_str().unwrap();
    assert_eq!(
        wine.stdout(&[
            "run",
            "--dir",
            d,
            IPC_PEER,
            "write",
            "shared.txt",
            "WINDOWS"
        ]),
        "done"
    );
    assert_eq!(
        wine.stdout(&["run", "--dir", d, IPC_PEER, "read", "shared.txt", "16"]),
        "WINDOWS........."
    );
    assert_eq!(
        std::fs::read(files.path().join("shared.txt")).unwrap(),
        b"WINDOWS........."
    );
    // Zero-copy windows do not exist on Windows yet: placing one is a typed
    // EOPNOTSUPP, never a crash, and the map still works.
    assert_eq!(
        wine.stdout(&["run", "--dir", d, WINDOW_OFF, "shared.txt"]),
        "ok"
    );
    // A page-in error: the file is truncated from the Linux side (Windows'
    // own rules refuse to shrink a mapped file) while the Windows host maps
    // it. Wine maps the file with mmap(2), so the host's next access to a
    // vanished page is a SIGBUS that wine raises as an exception in the
    // Windows process: every path must answer EFAULT and the host live.
    let bytes: Vec<u8> = (0..12288u32).map(|i| (i % 251 + 1) as u8).collect();
    let victim = files.path().join("t.bin");
    std::fs::write(&victim, &bytes).unwrap();
    let mut guest = wine
        .cmd(&["run", "--dir", d, HOSTILE_TRUNCATE, "t.bin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(guest.stdout.take().unwrap()));
    assert_eq!(lines.next().unwrap().unwrap(), "mapped");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&victim)
        .unwrap()
        .set_len(5000)
        .unwrap();
    std::io::Write::write_all(guest.stdin.as_mut().unwrap(), b"go\n").unwrap();
    let last = lines.next().map(Result::unwrap);
    let out = guest.wait_with_output().unwrap();
    assert_eq!(
        last.as_deref(),
        Some("ok"),
        "the Windows host under a page-in error: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());

    // Stop this prefix's wineserver before its directory goes away.
    let _ = Command::new("/usr/lib/wine/wineserver")
        .arg("-k")
        .env("WINEPREFIX", &wine.prefix)
        .status();
    println!(
        "windows host under wine: rules, two-process tagname, lifetime, shared file, windows EOPNOTSUPP, page-in errors after a truncation: ok"
    );
}
