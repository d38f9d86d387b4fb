//! Platforms without memory mapping: everything compiles, every map fails
//! with ENODEV (as memmap2's stub does).

pub use super::portable::{ChangeWatch, atomic32, atomic64, notify, wait32};
use super::{Fault, Share};

use std::fs::File;
use std::io;

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "memory maps are not supported on this platform",
    )
}

/// `mmap.PAGESIZE`.
pub fn page_size() -> usize {
    4096
}

/// `mmap.ALLOCATIONGRANULARITY`.
pub fn allocation_granularity() -> usize {
    4096
}

/// Never constructed here.
pub struct Region {
    _never: std::convert::Infallible,
}

impl Region {
    /// Always fails.
    pub fn map_file(_: &File, _: u64, _: usize, _: Share) -> io::Result<Region> {
        Err(unsupported())
    }
    /// Always fails.
    pub fn map_anon(_: usize) -> io::Result<Region> {
        Err(unsupported())
    }
    /// Unreachable.
    pub fn len(&self) -> usize {
        match self._never {}
    }
    /// Unreachable.
    pub fn ptr(&self) -> *mut u8 {
        match self._never {}
    }
    /// Unreachable.
    pub fn msync(&self, _: usize, _: usize) -> io::Result<()> {
        match self._never {}
    }
    /// Unreachable.
    pub fn madvise(&self, _: usize, _: usize, _: i32) -> io::Result<()> {
        match self._never {}
    }
    /// Unreachable.
    pub fn resize(&mut self, _: usize, _: Option<(&File, u64, Share)>) -> io::Result<()> {
        match self._never {}
    }
}

/// No advice here.
pub fn advice_value(_index: usize) -> Option<i32> {
    None
}

/// Plain `memmove`: a file with a live view cannot shrink here, so there is
/// no fault to catch.
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
/// Every index must lie in the mapping at `base`; `dst` holds `count` bytes.
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

/// Never constructed here.
pub struct NamedObject {
    _never: std::convert::Infallible,
}

/// No named shared memory here.
pub fn open_named(
    _name: &str,
    _create: Option<u64>,
    _exclusive: bool,
    _write: bool,
) -> io::Result<(NamedObject, bool)> {
    Err(unsupported())
}

impl NamedObject {
    /// Unreachable.
    pub fn size(&self) -> io::Result<u64> {
        match self._never {}
    }
    /// Unreachable.
    pub fn map(&self, _offset: u64, _len: usize, _share: Share) -> io::Result<Region> {
        match self._never {}
    }
    /// Unreachable.
    pub fn into_file(self) -> Option<File> {
        match self._never {}
    }
}

/// No named shared memory here.
pub fn shm_unlink(_name: &str) -> io::Result<()> {
    Err(unsupported())
}

/// No named file mappings here.
pub fn map_file_tagged(
    _file: &File,
    _name: &str,
    _offset: u64,
    _len: usize,
    _share: Share,
) -> io::Result<Region> {
    Err(unsupported())
}

/// The file's size.
pub fn file_size(file: &File) -> io::Result<u64> {
    Ok(file.metadata()?.len())
}
