//! Windows: the same mapping calls through memmap2 (CreateFileMapping /
//! MapViewOfFile). msync/madvise have no exact counterpart: flush uses
//! FlushViewOfFile, madvise reports EINVAL as Python does for a missing
//! MADV_* constant.

use super::{Fault, Share};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::io;

/// `mmap.PAGESIZE`.
pub fn page_size() -> usize {
    4096
}

/// `mmap.ALLOCATIONGRANULARITY`: 65536 on Windows.
pub fn allocation_granularity() -> usize {
    65536
}

/// One live OS mapping of at least one byte. Unmapped on drop.
pub struct Region {
    map: MmapRaw,
}

impl Region {
    /// Maps `len` bytes of `file` from `offset`.
    pub fn map_file(file: &File, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        let mut opts = MmapOptions::new();
        opts.offset(offset).len(len);
        let map = match share {
            Share::SharedWrite => opts.map_raw(file)?,
            Share::SharedRead => opts.map_raw_read_only(file)?,
            // SAFETY: no Rust reference into the map is ever created.
            Share::Private => MmapRaw::from(unsafe { opts.map_copy(file)? }),
        };
        Ok(Region { map })
    }

    /// Pagefile-backed zero-filled memory.
    pub fn map_anon(len: usize) -> io::Result<Region> {
        let map = MmapOptions::new().len(len).map_anon()?;
        Ok(Region {
            map: MmapRaw::from(map),
        })
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Base address; valid for `len()` bytes while `self` lives.
    pub fn ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// FlushViewOfFile of the range.
    pub fn msync(&self, off: usize, len: usize) -> io::Result<()> {
        self.map.flush_range(off, len)
    }

    /// Windows has no madvise.
    pub fn madvise(&self, _off: usize, _len: usize, _advice: i32) -> io::Result<()> {
        Err(io::Error::from_raw_os_error(22))
    }

    /// Windows cannot grow a view in place: unmap and map again (a file with
    /// a live view cannot shrink, ERROR_USER_MAPPED_FILE).
    pub fn resize(&mut self, new_len: usize, file: Option<(&File, u64, Share)>) -> io::Result<()> {
        let new = match file {
            Some((f, offset, share)) => Region::map_file(f, offset, new_len, share)?,
            None => {
                let new = Region::map_anon(new_len)?;
                // SAFETY: both regions are live, distinct, long enough.
                unsafe {
                    std::ptr::copy_nonoverlapping(self.ptr(), new.ptr(), self.len().min(new_len))
                };
                new
            }
        };
        *self = new;
        Ok(())
    }
}

/// No MADV_* constants on Windows.
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

/// Named shared memory is not available here yet.
pub fn shm_open(
    _name: &str,
    _create: bool,
    _exclusive: bool,
    _write: bool,
) -> io::Result<(File, bool)> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}

/// Named shared memory is not available here yet.
pub fn shm_unlink(_name: &str) -> io::Result<()> {
    Err(io::Error::from(io::ErrorKind::Unsupported))
}
