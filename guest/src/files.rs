//! Paths to `wasi:filesystem` descriptors, looked up in the guest's
//! preopened directories (the host maps descriptors, not `std::fs::File`s).

use crate::bindings::wasi::filesystem::preopens::get_directories;
use crate::bindings::wasi::filesystem::types::{
    Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};
use std::io;

/// Opens `path` for mapping: relative paths are looked up in the guest's
/// preopened directories in order (the first that has the file wins), and
/// a path starting with a preopen's name is opened in that preopen.
/// `write` opens it read-write (needed for a shared writable map).
///
/// This returns a `wasi:filesystem` descriptor, the handle the host maps
/// (Python's `f.fileno()`); a `std::fs::File` cannot be turned into one.
pub fn open_file(path: &str, write: bool) -> io::Result<Descriptor> {
    open_with(path, write, OpenFlags::empty())
}

/// Like [`open_file`], read-write, creating the file if it does not exist
/// (in the first preopen, for a relative path).
pub fn create_file(path: &str) -> io::Result<Descriptor> {
    open_with(path, true, OpenFlags::CREATE)
}

fn open_with(path: &str, write: bool, oflags: OpenFlags) -> io::Result<Descriptor> {
    let flags = if write {
        DescriptorFlags::READ | DescriptorFlags::WRITE
    } else {
        DescriptorFlags::READ
    };
    let preopens = get_directories();
    // A path inside a named preopen ("data/x" with preopen "data").
    for (dir, name) in &preopens {
        let name = name.trim_end_matches('/');
        if let Some(rest) = path.strip_prefix(name).and_then(|r| r.strip_prefix('/'))
            && !name.is_empty()
            && name != "."
        {
            return dir
                .open_at(PathFlags::SYMLINK_FOLLOW, rest, oflags, flags)
                .map_err(fs_error);
        }
    }
    let mut last = io::Error::new(io::ErrorKind::NotFound, "no preopened directory");
    for (dir, _) in &preopens {
        match dir.open_at(PathFlags::SYMLINK_FOLLOW, path, oflags, flags) {
            Ok(d) => return Ok(d),
            Err(e) => last = fs_error(e),
        }
    }
    Err(last)
}

fn fs_error(e: ErrorCode) -> io::Error {
    use ErrorCode as E;
    let kind = match e {
        E::NoEntry => io::ErrorKind::NotFound,
        E::Access | E::NotPermitted | E::ReadOnly => io::ErrorKind::PermissionDenied,
        E::Exist => io::ErrorKind::AlreadyExists,
        E::IsDirectory => io::ErrorKind::IsADirectory,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, format!("{}: {}", e.name(), e.message()))
}
