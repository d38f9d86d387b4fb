//! A guest maps only regular files under its preopens: escapes, links out,
//! `/proc` magic links, directories, FIFOs, devices and sockets are each
//! refused with a clear error, quickly (a FIFO must not block).

use std::os::unix::fs::symlink;
use std::process::Command;
use std::time::Duration;
use wasm_mmap_tests::*;

foreach_caps!(assert_test_exists);

#[test]
fn caps_probe() {
    let root = tempfile::tempdir().unwrap();
    let outside = root.path().join("outside.txt");
    std::fs::write(&outside, "secret").unwrap();
    let d = root.path().join("pre");
    std::fs::create_dir(&d).unwrap();
    std::fs::write(d.join("ok.txt"), "fine").unwrap();
    std::fs::create_dir(d.join("subdir")).unwrap();
    symlink(&outside, d.join("abs-link")).unwrap();
    symlink("../outside.txt", d.join("rel-link")).unwrap();
    symlink("/proc/self/mem", d.join("proc-mem")).unwrap();
    symlink("/proc/self/root/etc/passwd", d.join("proc-root")).unwrap();
    symlink("/dev/zero", d.join("dev-zero")).unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(d.join("fifo"))
            .status()
            .unwrap()
            .success()
    );
    let _sock = std::os::unix::net::UnixListener::bind(d.join("sock")).unwrap();
    // A device node inside the preopen needs root to create.
    let have_dev = Command::new("mknod")
        .arg(d.join("null-dev"))
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());

    let mut paths = vec![
        "../outside.txt",
        "/etc/passwd",
        "abs-link",
        "rel-link",
        "proc-mem",
        "proc-root",
        "/proc/self/mem",
        "dev-zero",
        "subdir",
        ".",
        "fifo",
        "sock",
        "subdir/../../outside.txt",
    ];
    if have_dev {
        paths.push("null-dev");
    }
    paths.push("ok.txt");
    let mut args = vec!["run", "--dir", d.to_str().unwrap(), CAPS_PROBE];
    args.extend(&paths);
    let started = std::time::Instant::now();
    let out = run(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "a probe blocked"
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), paths.len(), "{text}");
    for (line, path) in lines.iter().zip(&paths) {
        let f: Vec<&str> = line.split('\t').collect();
        assert_eq!(f[0], *path);
        let micros: u64 = f[2].parse().unwrap();
        assert!(micros < 100_000, "{path} took {micros} us");
        if *path == "ok.txt" {
            assert_eq!(f[1], "mapped", "the control case maps");
        } else {
            assert!(f[1].contains("refused"), "{path} was not refused: {}", f[1]);
        }
        println!("{line}");
    }
}
