//! Windows: file and anonymous maps through memmap2; named maps (Python's
//! `tagname`) through `CreateFileMappingW` / `OpenFileMappingW` /
//! `MapViewOfFile` with the name, pagefile-backed for named memory.
//!
//! Windows' own rules keep a file with a live view from shrinking
//! (ERROR_USER_MAPPED_FILE), but a file can still lose pages from outside
//! them (wine's Linux side, a network or removable file): on x86_64 every
//! access to mapped bytes is guarded (`windows_guard.rs`), the vanished
//! page is EFAULT. madvise has no counterpart (EINVAL, as Python reports a
//! missing MADV_* constant).

#[cfg(target_arch = "x86_64")]
#[path = "windows_guard.rs"]
mod guard;
#[cfg(target_arch = "x86_64")]
pub use guard::{atomic32, atomic64, copy, gather, scatter, wait32};
// Elsewhere (aarch64 Windows) the copies are plain: no guard yet.
pub use super::portable::{
    PollWatch as ChangeWatch, disk_full, fd_limit, file_size, names_fifo, notify, raise_fd_limit,
    reap_stale_named, regular_size, set_len, total_memory,
};
#[cfg(not(target_arch = "x86_64"))]
pub use super::portable::{atomic32, atomic64, copy, gather, scatter, wait32};
use super::{Share, memmap};

use memmap2::MmapRaw;
use std::fs::File;
use std::io;
use std::os::windows::io::AsRawHandle;
use std::sync::Arc;
use windows_sys::Win32::Foundation::{
    CloseHandle, ERROR_ALREADY_EXISTS, GetLastError, HANDLE, INVALID_HANDLE_VALUE,
};
use windows_sys::Win32::System::Memory::{
    CreateFileMappingW, FILE_MAP_COPY, FILE_MAP_READ, FILE_MAP_WRITE, MEMORY_BASIC_INFORMATION,
    MEMORY_MAPPED_VIEW_ADDRESS, MapViewOfFile, OpenFileMappingW, PAGE_READONLY, PAGE_READWRITE,
    PAGE_WRITECOPY, UnmapViewOfFile, VirtualQuery,
};

/// `mmap.PAGESIZE`.
pub fn page_size() -> usize {
    4096
}

/// `mmap.ALLOCATIONGRANULARITY`: 65536 on Windows.
pub fn allocation_granularity() -> usize {
    65536
}

/// One live OS mapping of at least one byte, and the file behind it (none
/// for anonymous and named memory). Unmapped on drop.
pub struct Region {
    kind: Kind,
    file: Option<Arc<File>>,
}

enum Kind {
    /// Made by memmap2.
    Memmap(MmapRaw),
    /// A view of a named mapping object.
    View(View),
}

/// A `MapViewOfFile` view and the handle of its mapping object, kept open
/// for the view's life as CPython keeps `map_handle` (a name lives while a
/// handle to it is open).
pub struct View {
    ptr: *mut u8,
    len: usize,
    _handle: Option<Handle>,
}

// SAFETY: the view is plain memory, only ever reached through raw pointers.
unsafe impl Send for View {}
// SAFETY: as above.
unsafe impl Sync for View {}

impl Drop for View {
    fn drop(&mut self) {
        // SAFETY: `ptr` is the base of a view we mapped and still own.
        unsafe {
            UnmapViewOfFile(MEMORY_MAPPED_VIEW_ADDRESS {
                Value: self.ptr.cast(),
            })
        };
    }
}

fn wide(name: &str) -> Vec<u16> {
    format!("Local\\{name}")
        .encode_utf16()
        .chain(Some(0))
        .collect()
}

fn view_access(share: Share) -> u32 {
    match share {
        Share::SharedWrite => FILE_MAP_WRITE,
        Share::SharedRead => FILE_MAP_READ,
        Share::Private => FILE_MAP_COPY,
    }
}

/// `MapViewOfFile` of `[offset, offset+len)` of a mapping object; the view
/// keeps `owner` (a handle to the object) open.
fn map_view(
    handle: HANDLE,
    offset: u64,
    len: usize,
    share: Share,
    owner: Option<Handle>,
) -> io::Result<View> {
    // SAFETY: a live mapping handle; the view is checked for failure.
    let v = unsafe {
        MapViewOfFile(
            handle,
            view_access(share),
            (offset >> 32) as u32,
            offset as u32,
            len,
        )
    };
    if v.Value.is_null() {
        return Err(io::Error::last_os_error());
    }
    Ok(View {
        ptr: v.Value.cast(),
        len,
        _handle: owner,
    })
}

/// A second handle to the same mapping object, for a view to keep.
fn duplicate(handle: HANDLE) -> io::Result<Handle> {
    use windows_sys::Win32::Foundation::{DUPLICATE_SAME_ACCESS, DuplicateHandle};
    use windows_sys::Win32::System::Threading::GetCurrentProcess;
    let mut out: HANDLE = std::ptr::null_mut();
    // SAFETY: duplicates a live handle within this process.
    let ok = unsafe {
        DuplicateHandle(
            GetCurrentProcess(),
            handle,
            GetCurrentProcess(),
            &mut out,
            0,
            0,
            DUPLICATE_SAME_ACCESS,
        )
    };
    if ok == 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(Handle(out))
    }
}

/// Closes a handle when dropped.
struct Handle(HANDLE);

// SAFETY: a kernel handle may be used and closed from any thread.
unsafe impl Send for Handle {}
// SAFETY: as above; it is never mutated.
unsafe impl Sync for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: a handle we opened and own.
        unsafe { CloseHandle(self.0) };
    }
}

impl Region {
    /// Maps `len` bytes of `file` from `offset`.
    pub fn map_file(file: &Arc<File>, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        Ok(Region {
            kind: Kind::Memmap(memmap::map_file(file, offset, len, share)?),
            file: Some(file.clone()),
        })
    }

    /// Pagefile-backed zero-filled memory.
    pub fn map_anon(len: usize) -> io::Result<Region> {
        Ok(Region {
            kind: Kind::Memmap(memmap::map_anon(len)?),
            file: None,
        })
    }

    fn view(view: View) -> Region {
        Region {
            kind: Kind::View(view),
            file: None,
        }
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> usize {
        match &self.kind {
            Kind::Memmap(m) => m.len(),
            Kind::View(v) => v.len,
        }
    }

    /// The file behind the map.
    pub fn file(&self) -> Option<&Arc<File>> {
        self.file.as_ref()
    }

    /// Base address; valid for `len()` bytes while `self` lives.
    pub(super) fn ptr(&self) -> *mut u8 {
        match &self.kind {
            Kind::Memmap(m) => m.as_mut_ptr(),
            Kind::View(v) => v.ptr,
        }
    }

    /// FlushViewOfFile of the range.
    pub(super) fn msync(&self, off: usize, len: usize) -> io::Result<()> {
        match &self.kind {
            Kind::Memmap(m) => m.flush_range(off, len),
            Kind::View(_) => Ok(()), // pagefile-backed or shared view: nothing to write back
        }
    }

    /// Windows has no madvise.
    pub(super) fn madvise(&self, _off: usize, _len: usize, _advice: i32) -> io::Result<()> {
        Err(io::Error::from(io::ErrorKind::InvalidInput))
    }

    /// Windows cannot grow a view in place: unmap and map again. A named
    /// view cannot be resized while its name is shared (EBUSY).
    pub fn resize(&mut self, new_len: usize, offset: u64, share: Share) -> io::Result<()> {
        let Kind::Memmap(old) = &self.kind else {
            return Err(io::Error::from(io::ErrorKind::ResourceBusy));
        };
        let file = self.file.as_deref().map(|f| (f, offset, share));
        let new = memmap::remap_by_copy(old, new_len, file)?;
        self.kind = Kind::Memmap(new);
        Ok(())
    }
}

/// A named mapping object (`Local\name`), pagefile-backed.
pub struct NamedObject {
    handle: Handle,
}

/// Opens the named mapping object `Local\name`; with `create: Some(size)`
/// creates it (pagefile-backed, `size` bytes) if absent (only if absent
/// when `exclusive`). Returns the object and whether it was created.
pub fn open_named(
    name: &str,
    create: Option<u64>,
    exclusive: bool,
    write: bool,
) -> io::Result<(NamedObject, bool)> {
    let w = wide(name);
    if let Some(size) = create {
        // SAFETY: a NUL-terminated name; the handle is checked.
        let h = unsafe {
            CreateFileMappingW(
                INVALID_HANDLE_VALUE,
                std::ptr::null(),
                PAGE_READWRITE,
                (size >> 32) as u32,
                size as u32,
                w.as_ptr(),
            )
        };
        if h.is_null() {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: no call in between can change the last error.
        let existed = unsafe { GetLastError() } == ERROR_ALREADY_EXISTS;
        let handle = Handle(h);
        if existed && exclusive {
            return Err(io::Error::from(io::ErrorKind::AlreadyExists));
        }
        return Ok((NamedObject { handle }, !existed));
    }
    let access = if write {
        FILE_MAP_WRITE | FILE_MAP_READ
    } else {
        FILE_MAP_READ
    };
    // SAFETY: a NUL-terminated name; the handle is checked.
    let h = unsafe { OpenFileMappingW(access, 0, w.as_ptr()) };
    if h.is_null() {
        return Err(io::Error::last_os_error());
    }
    Ok((NamedObject { handle: Handle(h) }, false))
}

impl NamedObject {
    /// The object's size (whole pages), read off a view of all of it.
    pub fn size(&self) -> io::Result<u64> {
        let v = map_view(self.handle.0, 0, 0, Share::SharedRead, None)?;
        // SAFETY: all-zero is a valid MEMORY_BASIC_INFORMATION.
        let mut info: MEMORY_BASIC_INFORMATION = unsafe { std::mem::zeroed() };
        // SAFETY: queries our own live view.
        let n = unsafe {
            VirtualQuery(
                v.ptr.cast(),
                &mut info,
                std::mem::size_of::<MEMORY_BASIC_INFORMATION>(),
            )
        };
        if n == 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(info.RegionSize as u64)
    }

    /// Maps `[offset, offset+len)` of the object.
    pub fn map(&self, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        let owner = duplicate(self.handle.0)?;
        Ok(Region::view(map_view(
            self.handle.0,
            offset,
            len,
            share,
            Some(owner),
        )?))
    }
}

/// Python's `mmap(fileno, length, tagname=name)`: a view of `file` through a
/// mapping object that also carries `name`.
pub fn map_file_tagged(
    file: &Arc<File>,
    name: &str,
    offset: u64,
    len: usize,
    share: Share,
) -> io::Result<Region> {
    let protect = match share {
        Share::SharedWrite => PAGE_READWRITE,
        Share::SharedRead => PAGE_READONLY,
        Share::Private => PAGE_WRITECOPY,
    };
    let w = wide(name);
    // SAFETY: a live file handle and a NUL-terminated name; checked.
    let h = unsafe {
        CreateFileMappingW(
            file.as_raw_handle() as HANDLE,
            std::ptr::null(),
            protect,
            0,
            0,
            w.as_ptr(),
        )
    };
    if h.is_null() {
        return Err(io::Error::last_os_error());
    }
    let handle = Handle(h);
    let view = map_view(handle.0, offset, len, share, Some(handle))?;
    Ok(Region {
        kind: Kind::View(view),
        file: Some(file.clone()),
    })
}

/// A named object vanishes with its last handle on Windows: nothing to do.
pub fn shm_unlink(_name: &str) -> io::Result<()> {
    Ok(())
}

/// No MADV_* constants on Windows.
pub fn advice_value(_index: usize) -> Option<i32> {
    None
}

/// The path a file was opened by: this OS cannot tell.
pub fn file_path(_file: &std::fs::File) -> Option<std::path::PathBuf> {
    None
}
