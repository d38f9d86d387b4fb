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
