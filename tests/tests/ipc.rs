//! Separate OS processes sharing one file through their maps: MAP_SHARED
//! writes are seen by another process's map and by plain reads, MAP_PRIVATE
//! writes by nobody; the writer/watcher demo delivers every line in order.

use std::fs;
use std::time::{Duration, Instant};
use wasm_mmap_tests::*;

foreach_ipc!(assert_test_exists);

/// `hold` in one process, then `read`/`write` in others, on shared and
/// private maps of the same file.
#[test]
fn ipc_peer() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("shared.txt"), "................").unwrap();
    fs::write(d.path().join("private.txt"), "................").unwrap();

    // MAP_SHARED: process 1 writes through its map without flushing.
    let mut holder = Proc::spawn(&[
        "run",
        "--dir",
        dir,
        IPC_PEER,
        "hold",
        "shared.txt",
        "hello",
        "16",
        "write",
    ]);
    assert_eq!(holder.line(STEP), "ready");
    // A plain read of the file sees it (same page cache).
    assert_eq!(
        fs::read(d.path().join("shared.txt")).unwrap(),
        b"hello..........."
    );
    // So does a second process's own map.
    let out = run(&["run", "--dir", dir, IPC_PEER, "read", "shared.txt", "16"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "hello..........."
    );
    // A third process writes; the first sees it in its map.
    let out = run(&[
        "run",
        "--dir",
        dir,
        IPC_PEER,
        "write",
        "shared.txt",
        "WORLD",
    ]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), "done");
    holder.send("show");
    assert_eq!(holder.line(STEP), "WORLD...........");
    assert!(holder.finish().success());

    // MAP_PRIVATE: the holder's write stays in its own copy.
    let mut holder = Proc::spawn(&[
        "run",
        "--dir",
        dir,
        IPC_PEER,
        "hold",
        "private.txt",
        "SECRET",
        "16",
        "copy",
    ]);
    assert_eq!(holder.line(STEP), "ready");
    assert_eq!(
        fs::read(d.path().join("private.txt")).unwrap(),
        b"................"
    );
    let out = run(&["run", "--dir", dir, IPC_PEER, "read", "private.txt", "16"]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim_end(),
        "................"
    );
    holder.send("show");
    assert_eq!(holder.line(STEP), "SECRET..........");
    assert!(holder.finish().success());
    assert_eq!(
        fs::read(d.path().join("private.txt")).unwrap(),
        b"................"
    );
}

/// The demo: each line typed into the writer is printed by the watcher, in
/// order, including lines shorter than the last (the file shrinks under the
/// watcher's map) and an empty one.
#[test]
fn writer_watcher_every_line_in_order() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("f.txt"), "x").unwrap();
    let mut watcher = Proc::spawn(&["run", "--dir", dir, WATCHER, "f.txt"]);
    assert_eq!(watcher.line(STEP), "x");
    let mut writer = Proc::spawn(&["run", "--dir", dir, WRITER, "f.txt"]);
    let long = "L".repeat(10_000);
    let lines = [
        "hello world",
        "hi",
        "",
        "a longer line than the last two",
        long.as_str(),
        "short",
        "ünïcödé ✓",
    ];
    for line in lines {
        let sent = Instant::now();
        writer.send(line);
        assert_eq!(watcher.line(STEP), line);
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "line took {:?}",
            sent.elapsed()
        );
    }
    assert!(writer.finish().success());
    assert_eq!(
        fs::read_to_string(d.path().join("f.txt")).unwrap(),
        "ünïcödé ✓"
    );
    assert!(watcher.alive(), "the watcher's host survived every shrink");
}

/// Lines as fast as the writer can store them, growing and shrinking the
/// file across page boundaries while the watcher polls: the watcher's host
/// must not die, and it ends on the last line.
#[test]
fn writer_watcher_rapid_shrinking_does_not_kill_the_host() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("f.txt"), "x").unwrap();
    let mut watcher = Proc::spawn(&["run", "--dir", dir, WATCHER, "f.txt"]);
    assert_eq!(watcher.line(STEP), "x");
    let mut writer = Proc::spawn(&["run", "--dir", dir, WRITER, "f.txt"]);
    for i in 0..300 {
        let len = [0, 1, 5000, 3, 9000, 4096, 4097, 100][i % 8];
        writer.send(&"y".repeat(len));
    }
    writer.send("the end");
    assert!(writer.finish().success());
    let deadline = Instant::now() + STEP;
    let mut last = String::new();
    while last != "the end" {
        assert!(
            Instant::now() < deadline,
            "the watcher never printed the last line"
        );
        if let Some(l) = watcher.try_line(Duration::from_millis(200)) {
            last = l;
        }
    }
    assert!(watcher.alive(), "the watcher's host died");
}

/// A futex wait in one process, woken by a notify from another (not by
/// the 30 s timeout).
#[test]
fn ipc_futex() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("word"), [0u8; 4096]).unwrap();
    let waiter = Proc::spawn(&["run", "--dir", dir, IPC_FUTEX, "wait", "word"]);
    assert_eq!(waiter.line(STEP), "waiting");
    std::thread::sleep(Duration::from_millis(200)); // let it block in the wait
    let out = run(&["run", "--dir", dir, IPC_FUTEX, "wake", "word", "42"]);
    assert!(out.status.success());
    let line = waiter.line(STEP);
    assert!(line.starts_with("woken 42 after "), "{line}");
    let ms: u64 = line.split(' ').nth(3).unwrap().parse().unwrap();
    assert!(ms < 10_000, "woken by notify, not by the timeout: {line}");
    assert_ok(&run(&["run", IPC_FUTEX, "errors"]));
}

/// wait-for-change wakes on a plain write() by a program that does not map
/// the file.
#[test]
fn ipc_change() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let path = d.path().join("watched.txt");
    fs::write(&path, "before").unwrap();
    let watcher = Proc::spawn(&["run", "--dir", dir, IPC_CHANGE, "watched.txt"]);
    assert_eq!(watcher.line(STEP), "armed");
    std::thread::sleep(Duration::from_millis(100));
    use std::io::Write;
    let mut f = fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.write_all(b"after!").unwrap();
    let line = watcher.line(STEP);
    assert!(line.starts_with("changed after "), "{line}");
}

/// 5,000 length-prefixed messages through a 4 KiB ring between two
/// processes: the ring wraps and both sides block and wake many times.
#[test]
fn ipc_channel() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("ring"), vec![0u8; 4096]).unwrap();
    let rx = Proc::spawn(&["run", "--dir", dir, IPC_CHANNEL, "recv", "ring", "5000"]);
    std::thread::sleep(Duration::from_millis(50));
    let tx = run(&["run", "--dir", dir, IPC_CHANNEL, "send", "ring", "5000"]);
    assert!(
        tx.status.success(),
        "{}",
        String::from_utf8_lossy(&tx.stderr)
    );
    let line = rx.line(STEP);
    assert!(line.starts_with("received 5000 messages, "), "{line}");
}
