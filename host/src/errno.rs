//! POSIX errno numbers as Linux numbers them, their text, and the one
//! mapping from `io::Error`: the WIT promises Linux's numbers and words on
//! every host OS, so a guest sees the same `OSError` everywhere.

use std::io;

/// Operation not permitted.
pub const EPERM: i32 = 1;
/// No such file or directory.
pub const ENOENT: i32 = 2;
/// Input/output error.
pub const EIO: i32 = 5;
/// Bad file descriptor.
pub const EBADF: i32 = 9;
/// Resource temporarily unavailable.
pub const EAGAIN: i32 = 11;
/// Cannot allocate memory: also every host limit.
pub const ENOMEM: i32 = 12;
/// Permission denied.
pub const EACCES: i32 = 13;
/// Bad address: a page that vanished under the map.
pub const EFAULT: i32 = 14;
/// Device or resource busy.
pub const EBUSY: i32 = 16;
/// File exists.
pub const EEXIST: i32 = 17;
/// No such device: mmap(2) of something that is not a regular file.
pub const ENODEV: i32 = 19;
/// Is a directory.
pub const EISDIR: i32 = 21;
/// Invalid argument.
pub const EINVAL: i32 = 22;
/// Too many open files.
pub const EMFILE: i32 = 24;
/// File too large.
pub const EFBIG: i32 = 27;
/// No space left on device.
pub const ENOSPC: i32 = 28;
/// Read-only file system.
pub const EROFS: i32 = 30;
/// File name too long.
pub const ENAMETOOLONG: i32 = 36;
/// Value too large for defined data type.
pub const EOVERFLOW: i32 = 75;
/// Operation not supported.
pub const EOPNOTSUPP: i32 = 95;

/// Linux's strerror text for the errno values the host reports.
pub fn strerror(n: i32) -> Option<&'static str> {
    Some(match n {
        EPERM => "Operation not permitted",
        ENOENT => "No such file or directory",
        EIO => "Input/output error",
        EBADF => "Bad file descriptor",
        EAGAIN => "Resource temporarily unavailable",
        ENOMEM => "Cannot allocate memory",
        EACCES => "Permission denied",
        EFAULT => "Bad address",
        EBUSY => "Device or resource busy",
        EEXIST => "File exists",
        ENODEV => "No such device",
        EISDIR => "Is a directory",
        EINVAL => "Invalid argument",
        EMFILE => "Too many open files",
        EFBIG => "File too large",
        ENOSPC => "No space left on device",
        EROFS => "Read-only file system",
        ENAMETOOLONG => "File name too long",
        EOVERFLOW => "Value too large for defined data type",
        EOPNOTSUPP => "Operation not supported",
        _ => return None,
    })
}

/// The text for `n`: Linux's words where known, else the OS's own.
pub fn message(n: i32) -> String {
    strerror(n).map_or_else(
        || {
            let s = io::Error::from_raw_os_error(n).to_string();
            s.split(" (os error").next().unwrap_or(&s).to_string()
        },
        str::to_string,
    )
}

/// A page that vanished under a map, seen where the OS itself gives no
/// EFAULT (Windows' polling wait): [`of_io`] answers EFAULT for it.
#[derive(Debug)]
struct VanishedPage;

impl std::fmt::Display for VanishedPage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(strerror(EFAULT).unwrap_or_default())
    }
}

impl std::error::Error for VanishedPage {}

/// An `io::Error` that is EFAULT on every OS.
#[cfg_attr(not(windows), allow(dead_code))]
pub fn efault_io() -> io::Error {
    io::Error::other(VanishedPage)
}

/// The POSIX errno of an `io::Error`: its own number on Unix, else one
/// chosen from its kind (Windows codes are not POSIX numbers).
pub fn of_io(e: &io::Error) -> i32 {
    if e.get_ref().is_some_and(|r| r.is::<VanishedPage>()) {
        return EFAULT;
    }
    #[cfg(unix)]
    if let Some(n) = e.raw_os_error() {
        return n;
    }
    use io::ErrorKind::*;
    match e.kind() {
        NotFound => ENOENT,
        PermissionDenied => EACCES,
        AlreadyExists => EEXIST,
        InvalidInput | InvalidData => EINVAL,
        OutOfMemory => ENOMEM,
        FileTooLarge => EFBIG,
        StorageFull => ENOSPC,
        ReadOnlyFilesystem => EROFS,
        Unsupported => EOPNOTSUPP,
        IsADirectory => EISDIR,
        ResourceBusy => EBUSY,
        _ => EIO,
    }
}
