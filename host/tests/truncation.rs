//! Files shrunk (or disks filled) under a live map: an access to a page
//! that vanished returns EFAULT, the pages that remain read as memory does
//! (zeros past the file's end, as in CPython), and the process lives. Runs the host library directly, so a SIGBUS that
//! escaped would kill this test binary.

use std::fs::{File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use wasm_mmap::{
    Access, Advice, FileRef, MapFlags, MapOptions, Mmap, MmapError, Prot, Unlimited, Whence,
};

fn options(access: Access) -> MapOptions {
    MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access,
        offset: 0,
    }
}

/// The page size of the machines this runs on (x86-64 and aarch64 Linux).
const PAGE: usize = 4096;

fn map(file: &Arc<File>, access: Access) -> Mmap {
    let f = FileRef {
        file: file.clone(),
        readable: true,
        writable: true,
    };
    Mmap::open_file(f, 0, options(access), &Unlimited).unwrap()
}

#[track_caller]
fn efault<T: std::fmt::Debug>(r: Result<T, MmapError>, what: &str) {
    match r {
        Err(MmapError::OsError { errno: 14, .. }) => {}
        other => panic!("{what}: expected EFAULT, got {other:?}"),
    }
}

/// Expects `Ok` when the call touched only `[.., hi)` with `hi <= t`,
/// EFAULT otherwise (`t`: the bytes whose pages still exist).
#[track_caller]
fn expect<T: std::fmt::Debug>(
    r: Result<T, MmapError>,
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
            // Reads have the semantics of memory: the pages that still
            // exist read (zeros past the file's end); only wholly vanished
            // pages fault.
            let c = t.div_ceil(PAGE) * PAGE;
            let a = |i: usize| if i < t { b'A' } else { 0 };
            pairs += 1;
            file.set_len(t as u64).unwrap();
            let p = next(s);
            let q = next(s);
            let (lo, hi) = (p.min(q), p.max(q) + 1);
            assert_eq!(m.size().unwrap(), t as u64);

            m.seek(0, Whence::Set).unwrap();
            if expect(m.read(None), s, c, "read()").is_none() {
                assert_eq!(m.tell().unwrap(), 0, "a failed read leaves the cursor");
            }
            m.seek(p as i64, Whence::Set).unwrap();
            if let Some(b) = expect(m.read_byte(), p + 1, c, "read_byte") {
                assert_eq!(b, a(p));
            }
            m.seek(lo as i64, Whence::Set).unwrap();
            if let Some(v) = expect(m.read(Some((hi - lo) as i64)), hi, c, "read(n)") {
                assert!(v.iter().enumerate().all(|(i, &b)| b == a(lo + i)));
            }
            m.seek(p as i64, Whence::Set).unwrap();
            expect(m.readline(), s, c, "readline");
            if let Some(b) = expect(m.get(p as i64), p + 1, c, "m[i]") {
                assert_eq!(b, a(p));
            }
            if let Some(v) = expect(
                m.get_slice(Some(lo as i64), Some(hi as i64), None),
                hi,
                c,
                "m[a:b]",
            ) {
                assert!(v.iter().enumerate().all(|(i, &b)| b == a(lo + i)));
            }
            expect(
                m.get_slice(
                    Some(hi as i64 - 1),
                    Some(lo as i64 - 1).filter(|&x| x >= 0),
                    Some(-3),
                ),
                hi,
                c,
                "m[b:a:-3]",
            );
            expect(
                m.find(b"B", Some(lo as i64), Some(hi as i64)),
                hi,
                c,
                "find",
            );
            expect(
                m.rfind(b"A", Some(lo as i64), Some(hi as i64)),
                hi,
                c,
                "rfind",
            );
            expect(
                m.find(b"", Some(lo as i64), Some(hi as i64)),
                0,
                c,
                "find(empty) touches nothing",
            );
            m.seek(lo as i64, Whence::Set).unwrap();
            expect(m.write(&vec![b'A'; hi - lo]), hi, c, "write");
            m.seek(p as i64, Whence::Set).unwrap();
            expect(m.write_byte(b'A'), p + 1, c, "write_byte");
            expect(m.set(p as i64, b'A'), p + 1, c, "m[i] = v");
            expect(
                m.set_slice(Some(lo as i64), Some(hi as i64), None, &vec![b'A'; hi - lo]),
                hi,
                c,
                "m[a:b] = x",
            );
            let n2 = (hi - lo).div_ceil(2);
            let last = lo + 2 * (n2 - 1); // the last index a step-2 slice touches
            expect(
                m.set_slice(Some(lo as i64), Some(hi as i64), Some(2), &vec![b'A'; n2]),
                last + 1,
                c,
                "m[a:b:2] = x",
            );
            // A move onto itself may touch nothing (memmove returns early),
            // so past the pages it may succeed; it must never crash.
            let moved = m.move_(lo as i64, lo as i64, (hi - lo) as i64);
            if hi <= c {
                moved.unwrap();
            }
            if let Some(v) = expect(
                copy.get_slice(Some(lo as i64), Some(hi as i64), None),
                hi,
                c,
                "copy map m[a:b]",
            ) {
                // Past the end, the shared map's writes above may show.
                let ok = |i: usize, b: u8| b == a(lo + i) || (lo + i >= t && b == b'A');
                assert!(v.iter().enumerate().all(|(i, &b)| ok(i, b)));
            }
            // These touch no bytes through the CPU: they must simply not crash.
            let _ = m.flush(None, None);
            let _ = m.madvise(Advice::WillNeed, None, None, &Unlimited);

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
        MmapError::OsError { errno, .. } => assert_eq!(errno, 28, "ENOSPC: {err:?}"),
        other => panic!("expected OSError ENOSPC, got {other:?}"),
    }
    assert!(written > 0 && written < 1 << 20);
    // The pages that were backed still read back.
    assert_eq!(m.get_slice(Some(0), Some(4096), None).unwrap(), page);
}
