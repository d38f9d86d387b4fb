//! Portable fallbacks for backends without a fault guard, futexes or
//! inotify: plain copies (where a file with a live view cannot shrink,
//! there is no fault to catch), a polling wait and a polling change watch.

use super::{AtomicOp, Waited};
use std::fs::File;
use std::io;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant, SystemTime};

/// `memmove(dst, src, n)`; always succeeds.
///
/// # Safety
/// Both ranges must lie in live mappings (or owned memory) of `n` bytes.
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> bool {
    // SAFETY: the caller's contract.
    unsafe { std::ptr::copy(src, dst, n) };
    true
}

/// `dst[k] = base[first + k*step]` for `k < count`.
///
/// # Safety
/// Every index must lie in the mapping at `base`; `dst` holds `count`.
pub unsafe fn gather(
    dst: *mut u8,
    base: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    for k in 0..count {
        // SAFETY: the caller's contract.
        unsafe { *dst.add(k) = base.offset(first + k as isize * step).read_volatile() };
    }
    true
}

/// `base[first + k*step] = src[k]` for `k < count`.
///
/// # Safety
/// Every index must lie in the writable mapping at `base`; `src` holds
/// `count` bytes.
pub unsafe fn scatter(
    base: *mut u8,
    src: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    for k in 0..count {
        // SAFETY: the caller's contract.
        unsafe {
            base.offset(first + k as isize * step)
                .write_volatile(*src.add(k))
        };
    }
    true
}

macro_rules! atomic_op {
    ($name:ident, $atomic:ty, $int:ty) => {
        /// An atomic operation on the aligned word at `p`; `out` receives
        /// the loaded or previous value.
        ///
        /// # Safety
        /// `p` must be aligned to the word's size inside a live mapping
        /// (writable for all but loads).
        pub unsafe fn $name(op: AtomicOp, p: *mut u8, a: $int, b: $int, out: &mut $int) -> bool {
            // SAFETY: aligned and live (the caller's contract); memory
            // shared with other processes is what atomics are for.
            let w = unsafe { <$atomic>::from_ptr(p.cast()) };
            *out = match op {
                AtomicOp::Load => w.load(SeqCst),
                AtomicOp::Store => {
                    w.store(a, SeqCst);
                    0
                }
                AtomicOp::Cas => w
                    .compare_exchange(a, b, SeqCst, SeqCst)
                    .unwrap_or_else(|v| v),
                AtomicOp::Add => w.fetch_add(a, SeqCst),
            };
            true
        }
    };
}
atomic_op!(atomic32, AtomicU32, u32);
atomic_op!(atomic64, AtomicU64, u64);

/// Re-checks the word every millisecond until it differs or `timeout`.
///
/// # Safety
/// `p` must be 4-aligned inside a live mapping.
pub unsafe fn wait32(p: *mut u8, expected: u32, timeout: Duration) -> io::Result<Waited> {
    // SAFETY: the caller's contract.
    let w = unsafe { AtomicU32::from_ptr(p.cast()) };
    if w.load(SeqCst) != expected {
        return Ok(Waited::Mismatch);
    }
    let deadline = Instant::now() + timeout;
    loop {
        std::thread::sleep(Duration::from_millis(1));
        if w.load(SeqCst) != expected {
            return Ok(Waited::Woken);
        }
        if Instant::now() >= deadline {
            return Ok(Waited::TimedOut);
        }
    }
}

/// Waiters poll: nobody to wake.
///
/// # Safety
/// Nothing is touched.
pub unsafe fn notify(_p: *mut u8, _count: u32) -> io::Result<u32> {
    Ok(0)
}

/// Not known here.
pub fn disk_full(_file: &File) -> bool {
    false
}

/// The file's size.
pub fn file_size(file: &File) -> io::Result<u64> {
    Ok(file.metadata()?.len())
}

/// No FIFO check where the OS lacks a non-blocking, confined lookup.
pub fn names_fifo(_dir: &File, _path: &str, _follow: bool) -> bool {
    false
}

/// Watches a file by its size and modification time, every 10 ms.
pub struct PollWatch {
    file: File,
    last: (u64, Option<SystemTime>),
}

impl PollWatch {
    /// Remembers the file's size and modification time.
    pub fn new(file: &File) -> io::Result<PollWatch> {
        let file = file.try_clone()?;
        let m = file.metadata()?;
        Ok(PollWatch {
            last: (m.len(), m.modified().ok()),
            file,
        })
    }

    /// Whether size or mtime changed since the last call, waiting up to
    /// `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        let deadline = Instant::now() + timeout;
        loop {
            let m = self.file.metadata()?;
            let now = (m.len(), m.modified().ok());
            if now != self.last {
                self.last = now;
                return Ok(true);
            }
            if Instant::now() >= deadline {
                return Ok(false);
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Unknown here.
pub fn total_memory() -> Option<u64> {
    None
}

/// Unknown here.
pub fn fd_limit() -> Option<u64> {
    None
}

/// Nothing to raise here.
pub fn raise_fd_limit() {}

/// Named objects are not files here: nothing to reap.
pub fn reap_stale_named(_prefix: &str) {}

/// The size of `file` if it is a regular file (`None` for anything else:
/// mmap(2) refuses those itself).
pub fn regular_size(file: &File) -> io::Result<Option<u64>> {
    let m = file.metadata()?;
    Ok(m.is_file().then_some(m.len()))
}

/// Sets the file's length (ftruncate).
pub fn set_len(file: &File, len: u64) -> io::Result<()> {
    file.set_len(len)
}
