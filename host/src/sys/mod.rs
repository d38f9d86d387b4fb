//! The operating-system layer, the only place with `unsafe` and OS calls.
//!
//! The backend is chosen as memmap2 chooses its `os` module: `unix.rs`
//! (with `linux.rs` for what only Linux has), `windows.rs`, or `stub.rs`
//! for anything else (every map fails with ENODEV). The list of names in
//! `pub use os::{…}` below is the contract each backend implements; the
//! test `stub_implements_the_contract` checks the stub against the same
//! list on every build, so it cannot rot.
//!
//! Memory in a [`Region`] may be changed at any moment by another process
//! (that is the point of `MAP_SHARED`), so no Rust reference to it is ever
//! created: bytes go in and out through the safe, bounds-checked,
//! fault-guarded methods defined here on top of each backend's raw copies.

#[cfg_attr(unix, path = "unix.rs")]
#[cfg_attr(windows, path = "windows.rs")]
#[cfg_attr(not(any(unix, windows)), path = "stub.rs")]
mod os;

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub use linux::{OpenHow, Opened, open_beneath};
#[cfg(any(unix, windows))]
mod memmap;
#[allow(dead_code)] // not every backend needs every fallback
mod portable;

// Windows (the feature): guest memories that never move, and file pages
// placed in them. Linux only: its fault signals are what `guard.c`
// handles (macOS reports a PROT_NONE page as SIGBUS, and wasmtime owns
// SIGBUS there and on FreeBSD); elsewhere every placement is EOPNOTSUPP.
#[cfg_attr(target_os = "linux", path = "guest_memory.rs")]
#[cfg_attr(not(target_os = "linux"), path = "guest_memory_none.rs")]
mod guest_memory;
pub use guest_memory::{
    PENDING, PlacedWindow, REPLACED, WINDOWS_SUPPORTED, enable as enable_windows, find_memory,
    pending_epoch,
};

/// Where a window's pages come from.
pub struct WindowSource<'a> {
    /// The file (or shared memory object) behind the map.
    pub file: &'a std::fs::File,
    /// The window's first byte in the file: page-aligned.
    pub file_offset: u64,
    /// Shared (a `write` map) or a private copy-on-write view.
    pub share: Share,
}

/// Why a window cannot go where the guest asked.
#[derive(Debug)]
#[allow(dead_code)] // where windows are not built, only `Os` is made
pub enum PlaceError {
    /// Outside the memory's accessible bytes.
    Outside,
    /// Overlaps a window already there.
    Overlap,
    /// The process-wide table of windows is full.
    TableFull,
    /// The OS refused.
    Os(io::Error),
}

/// The contract: every backend exports these names. The first list is
/// what the rest of the crate uses; the second, the raw `unsafe` routines
/// this module wraps in safe, checked methods (private to `sys`).
macro_rules! contract {
    ($os:ident) => {
        #[allow(unused_imports)]
        pub use $os::{
            ChangeWatch, NamedObject, Region, advice_value, allocation_granularity, fd_limit,
            file_path, file_size, map_file_tagged, names_fifo, open_named, page_size,
            raise_fd_limit, reap_stale_named, regular_size, set_len, shm_unlink, total_memory,
        };
        #[allow(unused_imports)]
        use $os::{atomic32, atomic64, copy, disk_full, gather, notify, scatter, wait32};
    };
}
contract!(os);

/// The stub backend, compiled in every test build so it cannot rot.
#[cfg(test)]
#[allow(dead_code)]
#[path = "stub.rs"]
mod stub_backend;

/// The stub must export the whole contract, as the real backend does.
#[cfg(test)]
#[allow(unused_imports, dead_code)]
mod stub_check {
    use super::stub_backend;
    contract!(stub_backend);
}

use std::io;
use std::time::Duration;

/// A guarded access touched a page that no longer exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The file was shortened under the map: the page is gone.
    Vanished,
    /// A written page of a sparse file could not be backed: the disk is full.
    DiskFull,
    /// The range was outside the region (a host bug: callers check first).
    OutOfRange,
}

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

/// `[off, off+n)` lies inside a region of `len` bytes.
fn inside(off: usize, n: usize, len: usize) -> Result<(), Fault> {
    match off.checked_add(n) {
        Some(end) if end <= len => Ok(()),
        _ => Err(Fault::OutOfRange),
    }
}

/// The strided range `first + k*step` (k < count) lies inside `len`.
fn strided_inside(first: usize, step: isize, count: usize, len: usize) -> Result<(), Fault> {
    if count == 0 {
        return Ok(());
    }
    let last = first as i128 + step as i128 * (count as i128 - 1);
    if first < len && last >= 0 && last < len as i128 {
        Ok(())
    } else {
        Err(Fault::OutOfRange)
    }
}

impl Region {
    /// What a raw copy's failure means: for a write to a file on a full
    /// disk, the disk; otherwise a page that vanished.
    fn fault(&self, write: bool) -> Fault {
        match self.file() {
            Some(f) if write && disk_full(f) => Fault::DiskFull,
            _ => Fault::Vanished,
        }
    }

    fn guarded(&self, ok: bool, write: bool) -> Result<(), Fault> {
        if ok { Ok(()) } else { Err(self.fault(write)) }
    }

    /// Copies `[off, off+n)` of the region into a new vector.
    pub fn read_vec(&self, off: usize, n: usize) -> Result<Vec<u8>, Fault> {
        let mut out = Vec::new();
        self.read_to(off, n, &mut out)?;
        Ok(out)
    }

    /// Copies `[off, off+n)` of the region into `out`, replacing its
    /// contents and reusing its allocation (a search's blocks).
    pub fn read_to(&self, off: usize, n: usize, out: &mut Vec<u8>) -> Result<(), Fault> {
        inside(off, n, self.len())?;
        out.clear();
        out.reserve(n);
        // SAFETY: `[off, off+n)` is inside the live region (checked above),
        // `out` has room for `n` bytes and is not mapped memory. Raw
        // pointers only: no reference to shared memory is created.
        let ok = unsafe { copy(out.as_mut_ptr(), self.ptr().add(off), n) };
        self.guarded(ok, false)?;
        // SAFETY: the copy wrote all `n` bytes.
        unsafe { out.set_len(n) };
        Ok(())
    }

    /// The byte at `off`.
    pub fn read_byte(&self, off: usize) -> Result<u8, Fault> {
        inside(off, 1, self.len())?;
        let mut b = 0u8;
        // SAFETY: `off` is inside the live region; `b` is our own byte.
        let ok = unsafe { copy(&mut b, self.ptr().add(off), 1) };
        self.guarded(ok, false)?;
        Ok(b)
    }

    /// Copies `src` into the region at `off`.
    pub fn write_from(&self, off: usize, src: &[u8]) -> Result<(), Fault> {
        inside(off, src.len(), self.len())?;
        // SAFETY: the range is inside the live region; `src` is host memory
        // (a guest list lifted into a host vector), never this mapping.
        let ok = unsafe { copy(self.ptr().add(off), src.as_ptr(), src.len()) };
        self.guarded(ok, true)
    }

    /// `memmove` of `count` bytes from `src` to `dest` inside the region.
    pub fn move_within(&self, dest: usize, src: usize, count: usize) -> Result<(), Fault> {
        inside(dest, count, self.len())?;
        inside(src, count, self.len())?;
        // SAFETY: both ranges are inside the live region; memmove allows
        // overlap.
        let ok = unsafe { copy(self.ptr().add(dest), self.ptr().add(src), count) };
        self.guarded(ok, true)
    }

    /// The bytes at `first + k*step` for `k < count`.
    pub fn gather(&self, first: usize, step: isize, count: usize) -> Result<Vec<u8>, Fault> {
        strided_inside(first, step, count, self.len())?;
        let mut out = Vec::with_capacity(count);
        // SAFETY: every index is inside the live region (checked above);
        // `out` has room for `count` bytes.
        let ok = unsafe { gather(out.as_mut_ptr(), self.ptr(), first as isize, step, count) };
        self.guarded(ok, false)?;
        // SAFETY: the gather wrote all `count` bytes.
        unsafe { out.set_len(count) };
        Ok(out)
    }

    /// Stores `src[k]` at `first + k*step`.
    pub fn scatter(&self, first: usize, step: isize, src: &[u8]) -> Result<(), Fault> {
        strided_inside(first, step, src.len(), self.len())?;
        // SAFETY: every index is inside the live region; `src` is host
        // memory of `src.len()` bytes.
        let ok = unsafe { scatter(self.ptr(), src.as_ptr(), first as isize, step, src.len()) };
        self.guarded(ok, true)
    }

    /// An atomic operation on the 4-aligned u32 at `off`.
    pub fn atomic32(&self, op: AtomicOp, off: usize, a: u32, b: u32) -> Result<u32, Fault> {
        self.word(off, 4)?;
        let mut out = 0;
        // SAFETY: a 4-aligned word inside the live region (checked).
        let ok = unsafe { atomic32(op, self.ptr().add(off), a, b, &mut out) };
        self.guarded(ok, op != AtomicOp::Load)?;
        Ok(out)
    }

    /// An atomic operation on the 8-aligned u64 at `off`.
    pub fn atomic64(&self, op: AtomicOp, off: usize, a: u64, b: u64) -> Result<u64, Fault> {
        self.word(off, 8)?;
        let mut out = 0;
        // SAFETY: an 8-aligned word inside the live region (checked).
        let ok = unsafe { atomic64(op, self.ptr().add(off), a, b, &mut out) };
        self.guarded(ok, op != AtomicOp::Load)?;
        Ok(out)
    }

    /// Blocks while the u32 at `off` equals `expected`, at most `timeout`
    /// (a shared futex where the OS has one: waiters in other processes
    /// mapping the same page meet).
    pub fn wait32(&self, off: usize, expected: u32, timeout: Duration) -> io::Result<Waited> {
        self.word(off, 4).map_err(|_| einval())?;
        // SAFETY: a 4-aligned word inside the live region; the kernel reads
        // it itself (a vanished page is EFAULT, not a signal).
        unsafe { wait32(self.ptr().add(off), expected, timeout) }
    }

    /// Wakes up to `count` waiters on the u32 at `off`.
    pub fn notify(&self, off: usize, count: u32) -> io::Result<u32> {
        self.word(off, 4).map_err(|_| einval())?;
        // SAFETY: the address is only a key to the kernel.
        unsafe { notify(self.ptr().add(off), count) }
    }

    /// msync of exactly `[off, off+len)`.
    pub fn flush(&self, off: usize, len: usize) -> io::Result<()> {
        inside(off, len, self.len()).map_err(|_| einval())?;
        self.msync(off, len)
    }

    /// madvise of exactly `[off, off+len)` with a raw constant from
    /// [`advice_value`].
    pub fn advise(&self, off: usize, len: usize, advice: i32) -> io::Result<()> {
        inside(off, len, self.len()).map_err(|_| einval())?;
        self.madvise(off, len, advice)
    }

    fn word(&self, off: usize, size: usize) -> Result<(), Fault> {
        if !off.is_multiple_of(size) {
            return Err(Fault::OutOfRange);
        }
        inside(off, size, self.len())
    }
}

fn einval() -> io::Error {
    io::Error::from(io::ErrorKind::InvalidInput)
}

#[cfg(test)]
mod tests {
    /// The stub's maps all fail, as documented.
    #[test]
    fn stub_refuses_every_map() {
        assert!(super::stub_backend::Region::map_anon(4096).is_err());
        assert_eq!(super::stub_backend::page_size(), 4096);
    }
}
