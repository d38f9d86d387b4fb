//! Unix: maps through memmap2, copies through `guard.c` (SIGBUS becomes a
//! return value), named memory through POSIX `shm_open`. What only Linux
//! has (futex, inotify, openat2, mremap) comes from `linux.rs`; other Unix
//! systems use the portable fallbacks.

use super::{AtomicOp, Share, memmap};
use memmap2::MmapRaw;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd};
use std::sync::{Arc, Once};

#[cfg(target_os = "linux")]
pub use super::linux::{ChangeWatch, notify, reap_stale_named, wait32};
// Linux opens in one confined, non-blocking step instead (`open_beneath`).
#[cfg(target_os = "linux")]
pub use super::portable::names_fifo;
#[cfg(not(target_os = "linux"))]
pub use super::portable::{PollWatch as ChangeWatch, names_fifo, notify, reap_stale_named, wait32};
pub use super::portable::{regular_size, set_len};

// `guard.c`: copies that turn SIGBUS into a return value (see that file for
// why a jump out of a signal handler is sound here).
unsafe extern "C" {
    fn wmm_install() -> libc::c_int;
    fn wmm_atomic32(op: libc::c_int, p: *mut u32, a: u32, b: u32, out: *mut u32) -> libc::c_int;
    fn wmm_atomic64(op: libc::c_int, p: *mut u64, a: u64, b: u64, out: *mut u64) -> libc::c_int;
    fn wmm_copy(dst: *mut u8, src: *const u8, n: usize) -> libc::c_int;
    fn wmm_gather(
        dst: *mut u8,
        base: *const u8,
        first: isize,
        step: isize,
        count: usize,
    ) -> libc::c_int;
    fn wmm_scatter(
        base: *mut u8,
        src: *const u8,
        first: isize,
        step: isize,
        count: usize,
    ) -> libc::c_int;
}

static GUARD: Once = Once::new();

/// Installs the process-wide SIGBUS handler behind the guarded copies (once,
/// before the first mapping exists).
pub(super) fn install_guard() {
    GUARD.call_once(|| {
        // SAFETY: installs a handler that only acts inside guarded copies
        // and otherwise defers to the previous one.
        let rc = unsafe { wmm_install() };
        assert_eq!(
            rc,
            0,
            "cannot install the SIGBUS handler: {}",
            io::Error::last_os_error()
        );
    });
}

/// `memmove(dst, src, n)` where either side may be mapped memory that can
/// vanish: false if a page faulted.
///
/// # Safety
/// Both ranges must lie in live mappings (or owned memory) of `n` bytes.
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> bool {
    // SAFETY: the caller's contract; faults are caught by the guard.
    unsafe { wmm_copy(dst, src, n) == 0 }
}

/// `dst[k] = base[first + k*step]` for `k < count`, fault-guarded.
///
/// # Safety
/// Every index must lie in the mapping at `base`; `dst` holds `count` bytes.
pub unsafe fn gather(
    dst: *mut u8,
    base: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    // SAFETY: the caller's contract; faults are caught by the guard.
    unsafe { wmm_gather(dst, base, first, step, count) == 0 }
}

/// `base[first + k*step] = src[k]` for `k < count`, fault-guarded.
///
/// # Safety
/// Every index must lie in the writable mapping at `base`; `src` holds
/// `count` bytes.
pub unsafe fn scatter(
    base: *mut u8,
    src: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    // SAFETY: the caller's contract; faults are caught by the guard.
    unsafe { wmm_scatter(base, src, first, step, count) == 0 }
}

/// An atomic operation on the aligned u32 at `p`, fault-guarded.
///
/// # Safety
/// `p` must be 4-aligned inside a live mapping (writable for all but loads).
pub unsafe fn atomic32(op: AtomicOp, p: *mut u8, a: u32, b: u32, out: &mut u32) -> bool {
    // SAFETY: the caller's contract; faults are caught by the guard.
    unsafe { wmm_atomic32(op as libc::c_int, p.cast(), a, b, out) == 0 }
}

/// An atomic operation on the aligned u64 at `p`, fault-guarded.
///
/// # Safety
/// `p` must be 8-aligned inside a live mapping (writable for all but loads).
pub unsafe fn atomic64(op: AtomicOp, p: *mut u8, a: u64, b: u64, out: &mut u64) -> bool {
    // SAFETY: the caller's contract; faults are caught by the guard.
    unsafe { wmm_atomic64(op as libc::c_int, p.cast(), a, b, out) == 0 }
}

/// A named shared memory object: POSIX `shm_open` here.
pub struct NamedObject {
    file: Arc<File>,
}

fn shm_path(name: &str) -> io::Result<std::ffi::CString> {
    std::ffi::CString::new(format!("/{name}"))
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// Opens the POSIX shared memory object `/name` (mode 0600). With
/// `create: Some(size)` it is created if absent (only if absent when
/// `exclusive`) and sized. Returns the object and whether it was created.
pub fn open_named(
    name: &str,
    create: Option<u64>,
    exclusive: bool,
    write: bool,
) -> io::Result<(NamedObject, bool)> {
    let path = shm_path(name)?;
    // Non-blocking and no-follow: whatever another user put at the name (a
    // FIFO, a symlink) is refused at once instead of blocking the host; only
    // a regular file is a shared memory object.
    let open = |flags: libc::c_int| {
        let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK;
        // SAFETY: a valid C string; shm_open returns a new fd or -1.
        let fd = unsafe { libc::shm_open(path.as_ptr(), flags, 0o600) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor, owned by the File from here on.
        let file = unsafe { File::from_raw_fd(fd) };
        if !file.metadata()?.is_file() {
            return Err(io::Error::from_raw_os_error(libc::ENODEV));
        }
        Ok(file)
    };
    if let Some(size) = create {
        match open(libc::O_RDWR | libc::O_CREAT | libc::O_EXCL) {
            Ok(file) => {
                file.set_len(size)?;
                let file = Arc::new(file);
                return Ok((NamedObject { file }, true));
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) && !exclusive => {}
            Err(e) => return Err(e),
        }
    }
    let file = open(if write { libc::O_RDWR } else { libc::O_RDONLY })?;
    let file = Arc::new(file);
    Ok((NamedObject { file }, false))
}

impl NamedObject {
    /// The object's size, from the OS.
    pub fn size(&self) -> io::Result<u64> {
        file_size(&self.file)
    }

    /// Maps `[offset, offset+len)` of the object.
    pub fn map(&self, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        Region::map_file(&self.file, offset, len, share)
    }
}

/// Unix has no named file mappings.
pub fn map_file_tagged(
    _file: &Arc<File>,
    _name: &str,
    _offset: u64,
    _len: usize,
    _share: Share,
) -> io::Result<Region> {
    Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
}

/// Removes the POSIX shared memory object `/name`.
pub fn shm_unlink(name: &str) -> io::Result<()> {
    let path = shm_path(name)?;
    // SAFETY: a valid C string.
    if unsafe { libc::shm_unlink(path.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The path `file` was opened by, where the OS can tell (Linux's
/// `/proc/self/fd`), for messages.
pub fn file_path(file: &File) -> Option<std::path::PathBuf> {
    if cfg!(target_os = "linux") {
        std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()
    } else {
        None
    }
}

/// The file's size by one `fstat` (lighter than std's `statx`).
pub fn file_size(file: &File) -> io::Result<u64> {
    // SAFETY: all-zero is a valid `stat`; fstat writes only into it.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: a live descriptor and our own struct.
    if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } == 0 {
        Ok(st.st_size as u64)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the filesystem holding `file` has no free blocks left (so a
/// fault on a write was the disk filling up).
pub fn disk_full(file: &File) -> bool {
    // SAFETY: all-zero is a valid `statvfs`; fstatvfs writes only into it.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: a live descriptor and our own struct.
    let rc = unsafe { libc::fstatvfs(file.as_raw_fd(), &mut st) };
    rc == 0 && st.f_bavail == 0
}

/// The machine's physical memory in bytes.
pub fn total_memory() -> Option<u64> {
    // SAFETY: sysconf has no preconditions.
    let pages = unsafe { libc::sysconf(libc::_SC_PHYS_PAGES) };
    u64::try_from(pages)
        .ok()
        .map(|p| p.saturating_mul(page_size() as u64))
}

/// The soft limit on open descriptors of this process.
pub fn fd_limit() -> Option<u64> {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into `r`.
    (unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } == 0).then_some(r.rlim_cur)
}

/// Raises the soft descriptor limit to the hard one (capped at 2^20), as
/// servers do, so the host's budget of descriptors has room.
pub fn raise_fd_limit() {
    let mut r = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes only into `r`.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut r) } != 0 {
        return;
    }
    let want = r.rlim_max.min(1 << 20);
    if want > r.rlim_cur {
        r.rlim_cur = want;
        // SAFETY: setrlimit reads `r`; a refusal leaves the limit as it was.
        unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &r) };
    }
}

/// `mmap.PAGESIZE`.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096)
}

/// `mmap.ALLOCATIONGRANULARITY`: the page size on Unix.
pub fn allocation_granularity() -> usize {
    page_size()
}

/// One live OS mapping of at least one byte, and the file behind it (none
/// for anonymous memory). Unmapped on drop.
pub struct Region {
    map: MmapRaw,
    file: Option<Arc<File>>,
}

impl Region {
    /// Maps `len` bytes of `file` from `offset` (already checked to be
    /// page-aligned and inside the file by the caller).
    pub fn map_file(file: &Arc<File>, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        install_guard();
        Ok(Region {
            map: memmap::map_file(file, offset, len, share)?,
            file: Some(file.clone()),
        })
    }

    /// Anonymous zero-filled memory of `len` (> 0) bytes.
    pub fn map_anon(len: usize) -> io::Result<Region> {
        Ok(Region {
            map: memmap::map_anon(len)?,
            file: None,
        })
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The file behind the map.
    pub fn file(&self) -> Option<&Arc<File>> {
        self.file.as_ref()
    }

    /// Base address; valid for `len()` bytes while `self` lives.
    pub(super) fn ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// msync(MS_SYNC) of exactly `[off, off+len)`, unaligned `off` included
    /// (EINVAL, as Python reports it), unlike memmap2's aligning flush.
    pub(super) fn msync(&self, off: usize, len: usize) -> io::Result<()> {
        // SAFETY: the range lies inside our live mapping (checked by the
        // caller in mod.rs).
        let rc = unsafe { libc::msync(self.ptr().add(off).cast(), len, libc::MS_SYNC) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// madvise(2) on exactly `[off, off+len)`; `advice` is the raw constant.
    pub(super) fn madvise(&self, off: usize, len: usize, advice: i32) -> io::Result<()> {
        // SAFETY: the range lies inside our live mapping. The advice values
        // the WIT allows change no memory-safety property of a mapping only
        // touched through raw pointers (DONTNEED/FREE may zero private
        // pages, which is their documented meaning).
        let rc = unsafe { libc::madvise(self.ptr().add(off).cast(), len, advice) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Changes the length to `new_len` (> 0), keeping the contents that
    /// remain in range (Python's `mremap(MREMAP_MAYMOVE)`). For a file map
    /// the caller has already set the file's size; `offset` and `share` are
    /// the map's.
    pub fn resize(&mut self, new_len: usize, offset: u64, share: Share) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let _ = (offset, share);
            super::linux::remap(&mut self.map, new_len)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let file = self.file.as_deref().map(|f| (f, offset, share));
            self.map = memmap::remap_by_copy(&self.map, new_len, file)?;
            Ok(())
        }
    }
}

/// Raw advice constants for the WIT `advice` enum, in its order; `None`
/// where this OS lacks one (then Python raises EINVAL, and so do we).
pub fn advice_value(index: usize) -> Option<i32> {
    #[cfg(target_os = "linux")]
    const TABLE: [Option<i32>; 14] = [
        Some(libc::MADV_NORMAL),
        Some(libc::MADV_RANDOM),
        Some(libc::MADV_SEQUENTIAL),
        Some(libc::MADV_WILLNEED),
        Some(libc::MADV_DONTNEED),
        Some(libc::MADV_FREE),
        Some(libc::MADV_DONTFORK),
        Some(libc::MADV_DOFORK),
        Some(libc::MADV_MERGEABLE),
        Some(libc::MADV_UNMERGEABLE),
        Some(libc::MADV_HUGEPAGE),
        Some(libc::MADV_NOHUGEPAGE),
        Some(libc::MADV_DONTDUMP),
        Some(libc::MADV_DODUMP),
    ];
    #[cfg(not(target_os = "linux"))]
    const TABLE: [Option<i32>; 14] = [
        Some(libc::MADV_NORMAL),
        Some(libc::MADV_RANDOM),
        Some(libc::MADV_SEQUENTIAL),
        Some(libc::MADV_WILLNEED),
        Some(libc::MADV_DONTNEED),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    TABLE.get(index).copied().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touching pages of a truncated file through the guarded routines
    /// returns a fault (the SIGBUS was caught) and the process goes on.
    #[test]
    fn guard_turns_sigbus_into_fault() {
        let f = Arc::new(tempfile_in_tmp());
        f.set_len(3 * 4096).unwrap();
        let region = Region::map_file(&f, 0, 3 * 4096, Share::SharedWrite).unwrap();
        f.set_len(0).unwrap();
        for _ in 0..3 {
            assert!(region.read_vec(8192, 16).is_err());
            assert!(region.write_from(4096, &[0; 16]).is_err());
            assert!(region.gather(8192, -2, 8).is_err());
            assert!(region.scatter(100, 3, &[0; 8]).is_err());
        }
        f.set_len(3 * 4096).unwrap();
        assert!(region.write_from(8192, b"back").is_ok());
        assert_eq!(region.read_vec(8192, 4).unwrap(), b"back");
    }

    fn tempfile_in_tmp() -> File {
        let path = std::env::temp_dir().join(format!("wasm-mmap-guard-{}", std::process::id()));
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        f
    }
}
