//! Guests in other languages, built from the same WIT by
//! `guest/languages/build.sh` (which installs their toolchains), run under
//! `wasm-mmap run` with asserted output, and talking to the Rust guests.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use wasm_mmap_tests::*;

/// The built guests for `test`, or `None` (said on stderr) when the test
/// is skipped: quick mode, or a toolchain `./setup.sh` did not install.
fn guests_for(test: &str) -> Option<PathBuf> {
    if quick(test) {
        return None;
    }
    match language_guests() {
        Ok(dir) => Some(dir),
        Err(why) => {
            toolchain_missing(test, &why);
            None
        }
    }
}

fn py(guests: &Path, name: &str) -> String {
    guests
        .join("python")
        .join(format!("{name}.wasm"))
        .to_str()
        .unwrap()
        .to_string()
}

/// CPython's mmap API over wasm-mmap, inside a componentize-py component.
#[test]
fn python_checks() {
    let Some(g) = guests_for("python_checks") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = format!("{}::.", d.path().display());
    let out = run(&["run", "--dir", &dir, &py(&g, "checks")]);
    assert_ok(&out);
    assert_eq!(
        &std::fs::read(d.path().join("py.bin")).unwrap()[..6],
        b"hiLLO!"
    );
}

/// The article's Python watcher, only its import line changed, prints what
/// the Rust writer stores.
#[test]
fn python_seed_watcher_sees_rust_writer() {
    let Some(g) = guests_for("python_seed_watcher_sees_rust_writer") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("xxx"), "start").unwrap();
    let dir = format!("{}::.", d.path().display());
    let watcher = Proc::spawn(&["run", "--dir", &dir, &py(&g, "run_seed_watcher")]);
    // Its first look (at start-up) prints the file as it is.
    assert_eq!(watcher.line(STEP), "b'start'");
    let mut writer = Proc::spawn(&["run", "--dir", &dir, WRITER, "xxx"]);
    writer.send("hello from rust");
    // The seed polls every 5 seconds.
    assert_eq!(watcher.line(STEP), "b'hello from rust'");
    assert!(writer.finish().success());
}

/// The Python writer's lines reach the Rust watcher.
#[test]
fn rust_watcher_sees_python_writer() {
    let Some(g) = guests_for("rust_watcher_sees_python_writer") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("f.txt"), "x").unwrap();
    let dir = format!("{}::.", d.path().display());
    let watcher = Proc::spawn(&["run", "--dir", &dir, WATCHER, "f.txt"]);
    assert_eq!(watcher.line(STEP), "x");
    let mut writer = Proc::spawn(&["run", "--dir", &dir, &py(&g, "writer"), "f.txt"]);
    assert_eq!(writer.line(STEP), "ready");
    for line in ["hello from python", "a shorter one", "ünïcödé"] {
        writer.send(line);
        // The writer stores a line as write() then truncate(), which a
        // Python guest under load may do milliseconds apart: a watcher
        // looking in between rightly prints the new line over the old one's
        // tail first. Nothing else may appear.
        loop {
            let got = watcher.line(STEP);
            if got == line {
                break;
            }
            assert!(
                got.starts_with(line),
                "{got:?}: neither {line:?} nor it over the previous line"
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(writer.finish().success());
}

/// A componentize-js guest maps a file, writes, finds and reads.
#[test]
fn javascript_example() {
    let Some(g) = guests_for("javascript_example") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = format!("{}::.", d.path().display());
    let js = g.join("js/app.wasm");
    let out = run(&["run", "--dir", &dir, js.to_str().unwrap()]);
    assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.starts_with("HELLO from javascript, via a real map\n"),
        "{text}"
    );
    assert_eq!(
        std::fs::read(d.path().join("js.bin")).unwrap(),
        b"HELLO from javascript, via a real map"
    );
}

/// A C guest (wit-bindgen c, wasi-libc, the preview1 adapter) does the same.
#[test]
fn c_example() {
    let Some(g) = guests_for("c_example") else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let dir = format!("{}::.", d.path().display());
    let c = g.join("c/app.wasm");
    let out = run(&["run", "--dir", &dir, c.to_str().unwrap()]);
    assert_ok(&out);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "HELLO from c, through a real map\nwindow ok\nok\n"
    );
    assert_eq!(
        std::fs::read(d.path().join("c.bin")).unwrap(),
        b"HELLO from c, through a real map"
    );
    // Page 1 of cw.bin, written through the window's plain C pointer (16)
    // and through the map (64); page 0 and the rest stay zeros.
    let mut want = vec![0u8; 8192];
    want[4096 + 16..4096 + 33].copy_from_slice(b"through a pointer");
    want[4096 + 64..4096 + 76].copy_from_slice(b"from the map");
    assert_eq!(std::fs::read(d.path().join("cw.bin")).unwrap(), want);
}

/// The Python-level differential (`tests/differential/pydiff.py`): 2,000
/// generated sequences through `wasm_mmap.mmap` in a component against
/// CPython's `mmap` natively, bad argument types and values included.
#[test]
fn python_differential() {
    let Some(g) = guests_for("python_differential") else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/pydiff.py");
    let out = Command::new("python3")
        .arg(script)
        .args(["--sequences", "2000", "--seed", "1", "--cli"])
        .arg(cli())
        .arg("--guest")
        .arg(py(&g, "pydiff_guest"))
        .output()
        .expect("python3 runs the Python-level differential");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "divergences from CPython:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.contains(": 2000 sequences, ") && last.ends_with(", 0 divergences"),
        "{stdout}"
    );
    println!("{last}");
}

/// CPython's own Lib/test/test_mmap.py (the newest on the machine), adapted
/// in its import lines only, run in a componentize-py component on
/// `wasm_mmap`: every test that passes natively passes there, except the
/// listed ones (`tests/cpython/run_test_mmap.py` says why), and nothing traps.
#[test]
fn python_cpython_test_mmap() {
    if guests_for("python_cpython_test_mmap").is_none() {
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/cpython/run_test_mmap.py");
    let out_dir = cli()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("cpython-test-mmap");
    let out = Command::new("python3")
        .arg(script)
        .arg("--cli")
        .arg(cli())
        .arg("--out")
        .arg(&out_dir)
        .output()
        .expect("python3 runs tests/cpython/run_test_mmap.py");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if out.status.code() == Some(3) {
        toolchain_missing(
            "python_cpython_test_mmap",
            "no CPython with its test package (test.test_mmap)",
        );
        return;
    }
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains(", 0 failed; impossible"), "{stdout}");
    println!("{stdout}");
}
