//! `wait-for-change` on Linux: the process has one inotify instance, so
//! one thread may read events meant for another's watch. Regression tests
//! for the two findings of the model's fuzzing (issue L).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use wasm_mmap::{Access, FileRef, MapFlags, MapOptions, Mmap, Unlimited};

fn file(dir: &std::path::Path, name: &str) -> Arc<File> {
    let path = dir.join(name);
    std::fs::write(&path, [b'.'; 4096]).unwrap();
    Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(path)
            .unwrap(),
    )
}

fn map(f: &Arc<File>) -> Mmap {
    let opts = MapOptions {
        flags: MapFlags::SHARED,
        prot: wasm_mmap::Prot::READ | wasm_mmap::Prot::WRITE,
        access: Access::Write,
        offset: 0,
    };
    let r = FileRef {
        file: f.clone(),
        readable: true,
        writable: true,
    };
    Mmap::open_file(r, 0, opts, &Unlimited).unwrap()
}

fn changed(m: &mut Mmap) -> bool {
    m.wait_for_change(0, &Unlimited).unwrap()
}

/// A second watch on an inode that already has one starts from every
/// change made before it was armed, not from a count that has not yet
/// taken in the queued events.
#[test]
fn a_watch_armed_late_does_not_report_older_changes() {
    let d = tempfile::tempdir().unwrap();
    let f = file(d.path(), "f");
    let (mut first, mut second) = (map(&f), map(&f));
    assert!(changed(&mut first), "arming answers true");
    assert!(!changed(&mut first));
    f.write_all_at(b"x", 0).unwrap();
    assert!(changed(&mut second), "arming answers true");
    assert!(!changed(&mut second), "the write came before this watch");
    assert!(changed(&mut first), "the write came after this watch");
    assert!(!changed(&mut first));
}

/// While another thread keeps draining the shared queue, a change made
/// before a wait is always seen by it: a thread that finds the queue empty
/// finds what others read already counted.
#[test]
fn a_change_is_seen_while_another_thread_drains() {
    let d = tempfile::tempdir().unwrap();
    let busy = file(d.path(), "busy");
    let f = file(d.path(), "f");
    let stop = Arc::new(AtomicBool::new(false));
    let drainer = {
        let (busy, stop) = (busy.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut m = map(&busy);
            while !stop.load(Ordering::Relaxed) {
                busy.write_all_at(b"y", 0).unwrap();
                changed(&mut m);
            }
        })
    };
    let mut m = map(&f);
    assert!(changed(&mut m), "arming answers true");
    let mut missed = 0;
    for i in 0..20_000u32 {
        f.write_all_at(&[i as u8], 1).unwrap();
        if !changed(&mut m) {
            missed += 1;
            // Seen late, by the next call.
            assert!(changed(&mut m));
        }
    }
    stop.store(true, Ordering::Relaxed);
    drainer.join().unwrap();
    assert_eq!(missed, 0, "changes missed by a wait that came after them");
}
