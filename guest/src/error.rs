//! The one error type of the crate: the Python exception a call raised.

use crate::ErrorCode;
use std::io;

/// The error of every call: Python's exception class and message
/// (`Display` prints it as Python does: `ValueError: seek out of range`).
#[derive(Clone, Debug)]
pub struct Error(pub ErrorCode);

impl Error {
    /// The WIT error: match on it for the exception class.
    pub fn code(&self) -> &ErrorCode {
        &self.0
    }

    /// The Python exception class name (`"ValueError"`, `"OSError"`, ...).
    pub fn class(&self) -> &'static str {
        match &self.0 {
            ErrorCode::ValueError(_) => "ValueError",
            ErrorCode::IndexError(_) => "IndexError",
            ErrorCode::TypeError(_) => "TypeError",
            ErrorCode::OverflowError(_) => "OverflowError",
            ErrorCode::OsError(_) => "OSError",
        }
    }

    /// Python's message (for `OSError`, the strerror text).
    pub fn message(&self) -> &str {
        match &self.0 {
            ErrorCode::ValueError(m)
            | ErrorCode::IndexError(m)
            | ErrorCode::TypeError(m)
            | ErrorCode::OverflowError(m) => m,
            ErrorCode::OsError(e) => &e.message,
        }
    }

    /// The errno of an `OSError`.
    pub fn errno(&self) -> Option<i32> {
        match &self.0 {
            ErrorCode::OsError(e) => Some(e.errno),
            _ => None,
        }
    }
}

impl From<ErrorCode> for Error {
    fn from(e: ErrorCode) -> Self {
        Error(e)
    }
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            ErrorCode::OsError(e) => write!(f, "OSError: [Errno {}] {}", e.errno, e.message),
            _ => write!(f, "{}: {}", self.class(), self.message()),
        }
    }
}

impl std::error::Error for Error {}

/// A shorthand for results with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<Error> for io::Error {
    fn from(e: Error) -> io::Error {
        let kind = match &e.0 {
            ErrorCode::ValueError(_) | ErrorCode::IndexError(_) | ErrorCode::OverflowError(_) => {
                io::ErrorKind::InvalidInput
            }
            ErrorCode::TypeError(_) => io::ErrorKind::PermissionDenied,
            ErrorCode::OsError(_) => io::ErrorKind::Other,
        };
        io::Error::new(kind, e)
    }
}
