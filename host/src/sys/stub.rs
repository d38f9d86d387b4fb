//! Platforms without memory mapping: everything compiles, every map fails
//! with ENODEV (as memmap2's stub does).

use super::Share;
pub use super::portable::{
    ChangeWatch, atomic32, atomic64, copy, disk_full, file_size, gather, notify, scatter, wait32,
};

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
