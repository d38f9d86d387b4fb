//! Platforms without memory mapping: everything compiles, every map fails
//! (as memmap2's stub does). Compiled into every test build by `mod.rs`, so
//! it keeps up with the contract.

use super::Share;
pub use super::portable::{
    PollWatch as ChangeWatch, atomic32, atomic64, copy, disk_full, fd_limit, file_size, gather,
    names_fifo, notify, raise_fd_limit, reap_stale_named, regular_size, scatter, set_len,
    total_memory, wait32,
};

use std::fs::File;
use std::io;
use std::sync::Arc;

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
    never: std::convert::Infallible,
}

impl Region {
    /// Always fails.
    pub fn map_file(_: &Arc<File>, _: u64, _: usize, _: Share) -> io::Result<Region> {
        Err(unsupported())
    }
    /// Always fails.
    pub fn map_anon(_: usize) -> io::Result<Region> {
        Err(unsupported())
    }
    /// Unreachable.
    pub fn len(&self) -> usize {
        match self.never {}
    }
    /// Unreachable.
    pub fn file(&self) -> Option<&Arc<File>> {
        match self.never {}
    }
    /// Unreachable.
    pub(super) fn ptr(&self) -> *mut u8 {
        match self.never {}
    }
    /// Unreachable.
    pub(super) fn msync(&self, _: usize, _: usize) -> io::Result<()> {
        match self.never {}
    }
    /// Unreachable.
    pub(super) fn madvise(&self, _: usize, _: usize, _: i32) -> io::Result<()> {
        match self.never {}
    }
    /// Unreachable.
    pub fn resize(&mut self, _: usize, _: u64, _: Share) -> io::Result<()> {
        match self.never {}
    }
}

/// Never constructed here.
pub struct NamedObject {
    never: std::convert::Infallible,
}

impl NamedObject {
    /// Unreachable.
    pub fn size(&self) -> io::Result<u64> {
        match self.never {}
    }
    /// Unreachable.
    pub fn map(&self, _: u64, _: usize, _: Share) -> io::Result<Region> {
        match self.never {}
    }
}

/// Always fails.
pub fn open_named(_: &str, _: Option<u64>, _: bool, _: bool) -> io::Result<(NamedObject, bool)> {
    Err(unsupported())
}

/// Always fails.
pub fn map_file_tagged(_: &Arc<File>, _: &str, _: u64, _: usize, _: Share) -> io::Result<Region> {
    Err(unsupported())
}

/// Always fails.
pub fn shm_unlink(_: &str) -> io::Result<()> {
    Err(unsupported())
}

/// No advice here.
pub fn advice_value(_index: usize) -> Option<i32> {
    None
}

/// The path a file was opened by: this OS cannot tell.
pub fn file_path(_file: &std::fs::File) -> Option<std::path::PathBuf> {
    None
}
