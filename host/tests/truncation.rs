//! Files shrunk (or disks filled) under a live map: every access the
//! guest can make returns an error, never data from vanished pages, and
//! the process lives. Runs the host library directly, so a SIGBUS that
//! escaped would kill this test binary.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use wasm_mmap::{Access, Advice, ErrorCode, FileRef, MapFlags, MapOptions, Mmap, Prot, Whence};

fn options(access: Access) -> MapOptions {
    MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access,
        offset: 0,
    }
}

fn map(file: &Arc<File>, access: Access) -> Mmap {
    let f = FileRef {
        file: file.clone(),
        readable: true,
        writable: true,
    };
    Mmap::open_file(f, 0, options(access), |_| Ok(())).unwrap()
}

#[track_caller]
fn efault<T: std::fmt::Debug>(r: Result<T, ErrorCode>, what: &str) {
    match r {
        Err(ErrorCode::OsError(e)) if e.errno == 14 => {}
        other => panic!("{what}: expected EFAULT, got {other:?}"),
    }
}

/// Expects `Ok` when the call touched only `[.., hi)` with `hi <= t`,
/// EFAULT otherwise.
#[track_caller]
fn expect<T: std::fmt::Debug>(
    r: Result<T, ErrorCode>,
    hi: usize,
    t: usize,
    what: &str,
) -> Option<T> {
    if hi <= t {
        Some(r.unwrap_or_else(|e| panic!("{what}: touched [..{hi}) of {t} bytes, got {e:?}")))
    } else {
        efault(r, what);
        None
    }
}

/// Every read and write method on maps of every (size, truncated size)
/// pair: 110 sizes around page boundaries × 100 truncation points each.
#[test]
fn truncation_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    let mut sizes: Vec<usize> = vec![
        1, 2, 3, 7, 100, 511, 4095, 4096, 4097, 8191, 8192, 8193, 12_287, 12_288, 65_536, 65_537,
        70_000,
    ];
    sizes.extend((1..=93).map(|k| k * 1013));
    let mut pairs = 0usize;
    let mut rng = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng % n as u64) as usize
    };
    for &s in &sizes {
        let file = Arc::new(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(true)
                .open(&path)
                .unwrap(),
        );
        file.write_all_at(&vec![b'A'; s], 0).unwrap();
        let m = &mut map(&file, Access::Write);
        let copy = &map(&file, Access::Copy);
        for k in 0..100 {
            let t = s * k / 100;
            pairs += 1;
            file.set_len(t as u64).unwrap();
            let p = next(s);
            let q = next(s);
            let (lo, hi) = (p.min(q), p.max(q) + 1);
            assert_eq!(m.size().unwrap(), t as u64);

            m.seek(0, Whence::Set).unwrap();
            efault(m.read(None), "read()");
            assert_eq!(m.tell().unwrap(), 0, "a failed read leaves the cursor");
            m.seek(p as i64, Whence::Set).unwrap();
            if let Some(b) = expect(m.read_byte(), p + 1, t, "read_byte") {
                assert_eq!(b, b'A');
            }
            m.seek(lo as i64, Whence::Set).unwrap();
            if let Some(v) = expect(m.read(Some((hi - lo) as i64)), hi, t, "read(n)") {
                assert!(v.iter().all(|&b| b == b'A'));
            }
            m.seek(p as i64, Whence::Set).unwrap();
            expect(m.readline(), s, t, "readline");
            if let Some(b) = expect(m.get(p as i64), p + 1, t, "m[i]") {
                assert_eq!(b, b'A');
            }
            if let Some(v) = expect(
                m.get_slice(Some(lo as i64), Some(hi as i64), None),
                hi,
                t,
                "m[a:b]",
            ) {
                assert!(v.iter().all(|&b| b == b'A'));
            }
            expect(
                m.get_slice(
                    Some(hi as i64 - 1),
                    Some(lo as i64 - 1).filter(|&x| x >= 0),
                    Some(-3),
                ),
                hi,
                t,
                "m[b:a:-3]",
            );
            expect(
                m.find(b"B", Some(lo as i64), Some(hi as i64), false),
                hi,
                t,
                "find",
            );
            expect(
                m.find(b"A", Some(lo as i64), Some(hi as i64), true),
                hi,
                t,
                "rfind",
            );
            expect(
                m.find(b"", Some(lo as i64), Some(hi as i64), false),
                0,
                t,
                "find(empty) touches nothing",
            );
            m.seek(lo as i64, Whence::Set).unwrap();
            expect(m.write(&vec![b'A'; hi - lo]), hi, t, "write");
            m.seek(p as i64, Whence::Set).unwrap();
            expect(m.write_byte(b'A'), p + 1, t, "write_byte");
            expect(m.set(p as i64, b'A'), p + 1, t, "m[i] = v");
            expect(
                m.set_slice(Some(lo as i64), Some(hi as i64), None, &vec![b'A'; hi - lo]),
                hi,
                t,
                "m[a:b] = x",
            );
            let n2 = (hi - lo).div_ceil(2);
            let last = lo + 2 * (n2 - 1); // the last index a step-2 slice touches
            expect(
                m.set_slice(Some(lo as i64), Some(hi as i64), Some(2), &vec![b'A'; n2]),
                last + 1,
                t,
                "m[a:b:2] = x",
            );
            expect(
                m.move_(lo as i64, lo as i64, (hi - lo) as i64),
                hi,
                t,
                "move",
            );
            if let Some(v) = expect(
                copy.get_slice(Some(lo as i64), Some(hi as i64), None),
                hi,
                t,
                "copy map m[a:b]",
            ) {
                assert!(v.iter().all(|&b| b == b'A'));
            }
            // These touch no bytes through the CPU: they must simply not crash.
            let _ = m.flush(None, None);
            let _ = m.madvise(Advice::WillNeed, None, None);

            file.set_len(s as u64).unwrap();
            file.write_all_at(&vec![b'A'; s - t], t as u64).unwrap();
        }
        // Regrown: everything reads back whole again.
        assert_eq!(m.get_slice(None, None, None).unwrap(), vec![b'A'; s]);
    }
    assert!(pairs >= 10_000, "{pairs} pairs");
    println!(
        "truncation sweep: {} sizes, {pairs} (size, truncation) pairs, 0 host deaths",
        sizes.len()
    );
}

/// Writing into a hole of a sparse file on a full filesystem raises
/// SIGBUS in native code; here it is ENOSPC and the map stays usable.
#[test]
fn disk_full_write_is_an_error() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("disk_full_write_is_an_error: needs root to mount a small tmpfs; not run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mnt = dir.path();
    let ok = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(mnt)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mount failed");
    struct Unmount<'a>(&'a std::path::Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _unmount = Unmount(mnt);

    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(mnt.join("sparse"))
            .unwrap(),
    );
    file.set_len(1 << 20).unwrap(); // 1 MiB of holes on a 256 KiB filesystem
    let mut m = map(&file, Access::Write);
    let page = vec![b'W'; 4096];
    let mut written = 0;
    let err = loop {
        match m.set_slice(
            Some(written as i64),
            Some((written + 4096) as i64),
            None,
            &page,
        ) {
            Ok(()) => written += 4096,
            Err(e) => break e,
        }
        assert!(
            written < 1 << 20,
            "the whole 1 MiB fit on a 256 KiB filesystem?"
        );
    };
    match err {
        ErrorCode::OsError(e) => assert_eq!(e.errno, 28, "ENOSPC: {e:?}"),
        other => panic!("expected OSError ENOSPC, got {other:?}"),
    }
    assert!(written > 0 && written < 1 << 20);
    // The pages that were backed still read back.
    assert_eq!(m.get_slice(Some(0), Some(4096), None).unwrap(), page);
}
