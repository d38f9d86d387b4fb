//! The WIT `error-code` and the one place OS errors become it.

use crate::{ErrorCode, OsError};
use std::io;

/// A failed host call: an error the guest receives as `error-code`, or a
/// trap. Traps are for host bugs only (a lost resource table entry): guest
/// mistakes are always [`Error::Guest`].
#[derive(Debug)]
pub enum Error {
    /// Returned to the guest.
    Guest(ErrorCode),
    /// Aborts the guest: a host bug.
    Trap(wasmtime::Error),
}

impl From<ErrorCode> for Error {
    fn from(e: ErrorCode) -> Self {
        Error::Guest(e)
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Error::Guest(e.into())
    }
}

impl From<wasmtime::component::ResourceTableError> for Error {
    fn from(e: wasmtime::component::ResourceTableError) -> Self {
        Error::Trap(e.into())
    }
}

/// Linux's strerror text for the errno values the host reports, so a guest
/// sees the same message on every host OS.
fn strerror(n: i32) -> Option<&'static str> {
    Some(match n {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        9 => "Bad file descriptor",
        11 => "Resource temporarily unavailable",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        14 => "Bad address",
        16 => "Device or resource busy",
        17 => "File exists",
        19 => "No such device",
        21 => "Is a directory",
        22 => "Invalid argument",
        24 => "Too many open files",
        27 => "File too large",
        28 => "No space left on device",
        30 => "Read-only file system",
        36 => "File name too long",
        75 => "Value too large for defined data type",
        95 => "Operation not supported",
        _ => return None,
    })
}

/// Python's `OSError(n, strerror(n))`.
pub(crate) fn errno(n: i32) -> ErrorCode {
    let message = strerror(n).map_or_else(
        || {
            let s = io::Error::from_raw_os_error(n).to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        },
        str::to_string,
    );
    ErrorCode::OsError(OsError { errno: n, message })
}

/// The answer where Python would die of SIGBUS: the file under the map was
/// shortened by someone else, so the bytes asked for no longer exist.
pub(crate) fn efault() -> ErrorCode {
    ErrorCode::OsError(OsError {
        errno: 14,
        message: "Bad address: the mapped file was truncated under the map".to_string(),
    })
}

/// The POSIX errno for an `io::Error` that carries no OS code (or carries a
/// non-POSIX one, on Windows).
fn errno_of_kind(kind: io::ErrorKind) -> i32 {
    use io::ErrorKind::*;
    match kind {
        NotFound => 2,
        PermissionDenied => 13,
        AlreadyExists => 17,
        InvalidInput | InvalidData => 22,
        OutOfMemory => 12,
        FileTooLarge => 27,
        StorageFull => 28,
        ReadOnlyFilesystem => 30,
        Unsupported => 95,
        IsADirectory => 21,
        ResourceBusy => 16,
        _ => 5,
    }
}

impl From<io::Error> for ErrorCode {
    fn from(e: io::Error) -> Self {
        #[cfg(unix)]
        if let Some(n) = e.raw_os_error() {
            return errno(n);
        }
        errno(errno_of_kind(e.kind()))
    }
}

pub(crate) fn value_error(m: &str) -> ErrorCode {
    ErrorCode::ValueError(m.to_string())
}

pub(crate) fn index_error(m: &str) -> ErrorCode {
    ErrorCode::IndexError(m.to_string())
}

pub(crate) fn type_error(m: &str) -> ErrorCode {
    ErrorCode::TypeError(m.to_string())
}

pub(crate) fn overflow_error(m: &str) -> ErrorCode {
    ErrorCode::OverflowError(m.to_string())
}

/// Python's `ValueError("mmap closed or invalid")`.
pub(crate) fn closed() -> ErrorCode {
    value_error("mmap closed or invalid")
}

/// Python's `MemoryError` has no WIT case; a host limit answers as the OS
/// would when out of memory (ENOMEM), naming the limit and its CLI flag.
pub(crate) fn over_limit(what: &str, limit: u64, flag: &str) -> ErrorCode {
    ErrorCode::OsError(OsError {
        errno: 12,
        message: format!(
            "Cannot allocate memory: {what} would exceed the host's limit of {limit} ({}, --{flag})",
            flag.replace('-', "_")
        ),
    })
}
