//! Python's exceptions as host values, their constructors, and the split
//! between an error the guest receives and a trap (a host bug).

use crate::errno;
use std::fmt;
use std::io;

/// The exception Python raises for an mmap call: its class and Python's
/// message. The WIT `error-code` carries exactly this to the guest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MmapError {
    /// `ValueError`: a bad value, or the map is closed.
    ValueError(String),
    /// `IndexError`: an index or a slice assignment out of range.
    IndexError(String),
    /// `TypeError`: the map's access forbids the operation.
    TypeError(String),
    /// `OverflowError`: a value too large or negative where it cannot be.
    OverflowError(String),
    /// `OSError(errno, message)`, with Linux's errno numbering.
    OsError {
        /// The POSIX errno number.
        errno: i32,
        /// Its text (and, for a host limit, which limit).
        message: String,
    },
}

impl MmapError {
    /// Python's exception class name.
    pub fn class(&self) -> &'static str {
        match self {
            MmapError::ValueError(_) => "ValueError",
            MmapError::IndexError(_) => "IndexError",
            MmapError::TypeError(_) => "TypeError",
            MmapError::OverflowError(_) => "OverflowError",
            MmapError::OsError { .. } => "OSError",
        }
    }

    /// The errno of an `OSError`.
    pub fn errno(&self) -> Option<i32> {
        match self {
            MmapError::OsError { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// The message.
    pub fn message(&self) -> &str {
        match self {
            MmapError::ValueError(m)
            | MmapError::IndexError(m)
            | MmapError::TypeError(m)
            | MmapError::OverflowError(m)
            | MmapError::OsError { message: m, .. } => m,
        }
    }
}

impl fmt::Display for MmapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MmapError::OsError { errno, message } => {
                write!(f, "OSError: [Errno {errno}] {message}")
            }
            e => write!(f, "{}: {}", e.class(), e.message()),
        }
    }
}

impl std::error::Error for MmapError {}

impl From<io::Error> for MmapError {
    fn from(e: io::Error) -> Self {
        os_error(errno::of_io(&e))
    }
}

/// A failed host call: an error the guest receives, or a trap. Traps are
/// for host bugs only (a lost resource table entry): guest mistakes are
/// always [`Error::Guest`].
#[derive(Debug)]
pub enum Error {
    /// Returned to the guest as its `error-code`.
    Guest(MmapError),
    /// Aborts the guest: a host bug.
    Trap(wasmtime::Error),
}

impl From<MmapError> for Error {
    fn from(e: MmapError) -> Self {
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

/// Python's `OSError(n, strerror(n))`.
pub fn os_error(n: i32) -> MmapError {
    MmapError::OsError {
        errno: n,
        message: errno::message(n),
    }
}

/// The answer where Python would die of SIGBUS: the file under the map was
/// shortened by someone else, so the bytes asked for no longer exist.
pub fn efault() -> MmapError {
    MmapError::OsError {
        errno: errno::EFAULT,
        message: "Bad address: the mapped file was truncated under the map".to_string(),
    }
}

/// Python's `ValueError(m)`.
pub fn value_error(m: &str) -> MmapError {
    MmapError::ValueError(m.to_string())
}

/// Python's `IndexError(m)`.
pub fn index_error(m: &str) -> MmapError {
    MmapError::IndexError(m.to_string())
}

/// Python's `TypeError(m)`.
pub fn type_error(m: &str) -> MmapError {
    MmapError::TypeError(m.to_string())
}

/// Python's `OverflowError(m)`.
pub fn overflow_error(m: &str) -> MmapError {
    MmapError::OverflowError(m.to_string())
}

/// Python's `ValueError("mmap closed or invalid")`.
pub fn closed() -> MmapError {
    value_error("mmap closed or invalid")
}

/// A host limit. Python's `MemoryError` has no WIT case, so the answer is
/// what the OS gives when out of memory (ENOMEM), naming the limit as the
/// embedding API spells it.
pub fn over_limit(what: &str, limit: &str, value: u64) -> MmapError {
    MmapError::OsError {
        errno: errno::ENOMEM,
        message: format!(
            "Cannot allocate memory: {what} would exceed the host's limit {limit} = {value}"
        ),
    }
}
