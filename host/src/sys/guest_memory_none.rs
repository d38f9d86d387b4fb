//! Guest memories where windows cannot be placed (Windows, other OSes):
//! wasmtime keeps making its own memories, so no guest pointer is ever
//! found here and every placement is `EOPNOTSUPP`.
//!
//! Windows itself could place a view at a fixed address with
//! `VirtualAlloc2` placeholders and `MapViewOfFile3`; not built, because
//! the wine the tests run (Debian bookworm's 8.0) refuses
//! `MEM_RESERVE_PLACEHOLDER` (ERROR_INVALID_PARAMETER), so it could not be
//! tested.

use super::{PlaceError, WindowSource};
use std::io;
use std::sync::Arc;

/// The slot flag: a page was replaced.
pub const REPLACED: u32 = 1;
/// The slot flag: the guest must trap at its next call.
pub const PENDING: u32 = 4;

/// Whether windows can be placed on this OS at all.
pub const WINDOWS_SUPPORTED: bool = false;

/// Nothing can change: no window exists.
pub fn pending_epoch() -> u64 {
    0
}

/// Never made here.
pub struct GuestMemory(());

impl GuestMemory {
    /// Never called: no such memory exists.
    pub fn base(&self) -> usize {
        0
    }

    /// Refused: this OS has no windows.
    pub fn place(
        self: &Arc<Self>,
        _rel: usize,
        _len: usize,
        _source: &WindowSource<'_>,
        _zero_policy: bool,
    ) -> Result<PlacedWindow, PlaceError> {
        Err(PlaceError::Os(io::Error::from(io::ErrorKind::Unsupported)))
    }
}

/// Never made here.
pub struct PlacedWindow(());

impl PlacedWindow {
    /// Never called.
    pub fn guest_address(&self) -> usize {
        0
    }
    /// Never called.
    pub fn len(&self) -> usize {
        0
    }
    /// Never called.
    pub fn flags(&self) -> u32 {
        0
    }
    /// Never called.
    pub fn msync(&self, _off: usize, _n: usize) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::Unsupported))
    }
}

/// No guest memory is ever ours here.
pub fn find_memory(_addr: usize) -> Option<Arc<GuestMemory>> {
    None
}

/// Leaves wasmtime's own memories in place: windows stay unavailable.
pub fn enable(_config: &mut wasmtime::Config) {}
