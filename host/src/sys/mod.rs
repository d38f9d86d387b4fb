//! The operating-system layer: one owned mapping ([`Region`]) and the few
//! calls Python's `mmap` makes on it. Everything above this module is
//! portable; each OS gets its own file, as memmap2 splits `unix.rs` /
//! `windows.rs`.
//!
//! Memory in a [`Region`] may be changed at any moment by another process
//! (that is the point of `MAP_SHARED`), so no Rust reference to it is ever
//! created: bytes go in and out through raw-pointer copies only.

#[cfg(unix)]
mod unix;
#[cfg(unix)]
pub use unix::*;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
pub use windows::*;

#[cfg(not(any(unix, windows)))]
mod stub;
#[cfg(not(any(unix, windows)))]
pub use stub::*;

/// A guarded access touched a page that no longer exists (the file was
/// shortened under the map, or the disk could not back a written page).
#[derive(Debug)]
pub struct Fault;

/// An atomic operation on a mapped word (the numbering `guard.c` uses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AtomicOp {
    /// Load.
    Load = 0,
    /// Store the first operand.
    Store = 1,
    /// Compare (first operand) and exchange (second).
    Cas = 2,
    /// Fetch-add the first operand.
    Add = 3,
}

/// What a futex-style wait observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Waited {
    /// Woken (or spuriously returned).
    Woken,
    /// The word did not hold the expected value.
    Mismatch,
    /// The timeout passed.
    TimedOut,
}

/// How the pages of a file map relate to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Share {
    /// `MAP_SHARED`, read-write: writes reach the file and every other map.
    SharedWrite,
    /// `MAP_SHARED`, read-only.
    SharedRead,
    /// `MAP_PRIVATE`: copy-on-write, never reaches the file.
    Private,
}

/// Portable fallbacks where the OS lacks futexes and inotify (and atomics
/// without a fault guard, where files cannot shrink under a view).
#[allow(dead_code)]
mod portable {
    use super::{AtomicOp, Fault, Waited};
    use std::fs::File;
    use std::io;
    use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
    use std::time::{Duration, Instant, SystemTime};

    /// An atomic operation on the aligned u32 at `p`.
    ///
    /// # Safety
    /// `p` must be 4-aligned inside a live mapping.
    pub unsafe fn atomic32(op: AtomicOp, p: *mut u8, a: u32, b: u32) -> Result<u32, Fault> {
        // SAFETY: aligned and live (the caller's contract); memory shared
        // with other processes is what atomics are for.
        let w = unsafe { AtomicU32::from_ptr(p.cast()) };
        Ok(match op {
            AtomicOp::Load => w.load(SeqCst),
            AtomicOp::Store => {
                w.store(a, SeqCst);
                0
            }
            AtomicOp::Cas => w
                .compare_exchange(a, b, SeqCst, SeqCst)
                .unwrap_or_else(|v| v),
            AtomicOp::Add => w.fetch_add(a, SeqCst),
        })
    }

    /// As [`atomic32`], for the aligned u64 at `p`.
    ///
    /// # Safety
    /// `p` must be 8-aligned inside a live mapping.
    pub unsafe fn atomic64(op: AtomicOp, p: *mut u8, a: u64, b: u64) -> Result<u64, Fault> {
        // SAFETY: as in atomic32.
        let w = unsafe { AtomicU64::from_ptr(p.cast()) };
        Ok(match op {
            AtomicOp::Load => w.load(SeqCst),
            AtomicOp::Store => {
                w.store(a, SeqCst);
                0
            }
            AtomicOp::Cas => w
                .compare_exchange(a, b, SeqCst, SeqCst)
                .unwrap_or_else(|v| v),
            AtomicOp::Add => w.fetch_add(a, SeqCst),
        })
    }

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

    /// Plain `memmove`: where a file with a live view cannot shrink, there
    /// is no fault to catch.
    ///
    /// # Safety
    /// Both ranges must lie in live mappings (or owned memory) of `n` bytes.
    pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> Result<(), Fault> {
        // SAFETY: the caller's contract.
        unsafe { std::ptr::copy(src, dst, n) };
        Ok(())
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
    ) -> Result<(), Fault> {
        for k in 0..count {
            // SAFETY: the caller's contract.
            unsafe { *dst.add(k) = base.offset(first + k as isize * step).read_volatile() };
        }
        Ok(())
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
    ) -> Result<(), Fault> {
        for k in 0..count {
            // SAFETY: the caller's contract.
            unsafe {
                base.offset(first + k as isize * step)
                    .write_volatile(*src.add(k))
            };
        }
        Ok(())
    }

    /// Not known here.
    pub fn disk_full(_file: &File) -> bool {
        false
    }

    /// The file's size.
    pub fn file_size(file: &File) -> io::Result<u64> {
        Ok(file.metadata()?.len())
    }

    /// Waiters poll: nobody to wake.
    ///
    /// # Safety
    /// Nothing is touched.
    pub unsafe fn notify(_p: *mut u8, _count: u32) -> io::Result<u32> {
        Ok(0)
    }

    /// Watches a file by its size and modification time, every 10 ms.
    pub struct ChangeWatch {
        file: File,
        last: (u64, Option<SystemTime>),
    }

    impl ChangeWatch {
        /// Remembers the file's size and modification time.
        pub fn new(file: &File) -> io::Result<ChangeWatch> {
            let file = file.try_clone()?;
            let m = file.metadata()?;
            Ok(ChangeWatch {
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
}
