use super::{AtomicOp, Fault, Share, Waited};
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::io;
use std::sync::Once;

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
fn install_guard() {
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

fn guarded(rc: libc::c_int) -> Result<(), Fault> {
    if rc == 0 { Ok(()) } else { Err(Fault) }
}

/// `memmove(dst, src, n)` where either side may be mapped memory that can
/// vanish: a fault is returned, not raised.
///
/// # Safety
/// Both ranges must lie in live mappings (or owned memory) of `n` bytes.
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> Result<(), Fault> {
    // SAFETY: the caller's contract; faults are caught by the guard.
    guarded(unsafe { wmm_copy(dst, src, n) })
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
) -> Result<(), Fault> {
    // SAFETY: the caller's contract; faults are caught by the guard.
    guarded(unsafe { wmm_gather(dst, base, first, step, count) })
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
) -> Result<(), Fault> {
    // SAFETY: the caller's contract; faults are caught by the guard.
    guarded(unsafe { wmm_scatter(base, src, first, step, count) })
}

/// A named shared memory object: POSIX `shm_open` here.
pub struct NamedObject {
    file: File,
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
    use std::os::fd::FromRawFd;
    let path = std::ffi::CString::new(format!("/{name}"))
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let open = |flags: libc::c_int| {
        // SAFETY: a valid C string; shm_open returns a new fd or -1.
        let fd = unsafe { libc::shm_open(path.as_ptr(), flags | libc::O_CLOEXEC, 0o600) };
        // SAFETY: a fresh descriptor, owned by the File from here on.
        if fd >= 0 {
            Ok(unsafe { File::from_raw_fd(fd) })
        } else {
            Err(io::Error::last_os_error())
        }
    };
    if let Some(size) = create {
        match open(libc::O_RDWR | libc::O_CREAT | libc::O_EXCL) {
            Ok(file) => {
                file.set_len(size)?;
                return Ok((NamedObject { file }, true));
            }
            Err(e) if e.raw_os_error() == Some(libc::EEXIST) && !exclusive => {}
            Err(e) => return Err(e),
        }
    }
    let file = open(if write { libc::O_RDWR } else { libc::O_RDONLY })?;
    Ok((NamedObject { file }, false))
}

impl NamedObject {
    /// The object's size, from the OS.
    pub fn size(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.len())
    }

    /// Maps `[offset, offset+len)` of the object.
    pub fn map(&self, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        Region::map_file(&self.file, offset, len, share)
    }

    /// The object as a file (for `size()` and `resize`), where it is one.
    pub fn into_file(self) -> Option<File> {
        Some(self.file)
    }
}

/// Unix has no named file mappings.
pub fn map_file_tagged(
    _file: &File,
    _name: &str,
    _offset: u64,
    _len: usize,
    _share: Share,
) -> io::Result<Region> {
    Err(io::Error::from_raw_os_error(libc::EOPNOTSUPP))
}

/// Removes the POSIX shared memory object `/name`.
pub fn shm_unlink(name: &str) -> io::Result<()> {
    let path = std::ffi::CString::new(format!("/{name}"))
        .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: a valid C string.
    if unsafe { libc::shm_unlink(path.as_ptr()) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The file's size by one `fstat` (lighter than std's `statx`): this runs
/// on every access to a file map.
pub fn file_size(file: &File) -> io::Result<u64> {
    use std::os::fd::AsRawFd;
    // SAFETY: fstat writes only into the struct we pass.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstat(file.as_raw_fd(), &mut st) } == 0 {
        Ok(st.st_size as u64)
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Whether the filesystem holding `file` has no free blocks left (so a
/// fault on a write was the disk filling up).
pub fn disk_full(file: &File) -> bool {
    use std::os::fd::AsRawFd;
    // SAFETY: fstatvfs writes only into the struct we pass.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::fstatvfs(file.as_raw_fd(), &mut st) };
    rc == 0 && st.f_bavail == 0
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

/// One live OS mapping of at least one byte. Unmapped on drop.
pub struct Region {
    map: MmapRaw,
}

impl Region {
    /// Maps `len` bytes of `file` from `offset` (already checked to be
    /// page-aligned and inside the file by the caller).
    pub fn map_file(file: &File, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        install_guard();
        let mut opts = MmapOptions::new();
        opts.offset(offset).len(len);
        let map = match share {
            Share::SharedWrite => opts.map_raw(file)?,
            Share::SharedRead => opts.map_raw_read_only(file)?,
            // SAFETY: the memmap2 contract is about Rust references into the
            // map; we never create any (all access is by raw-pointer copy).
            Share::Private => MmapRaw::from(unsafe { opts.map_copy(file)? }),
        };
        Ok(Region { map })
    }

    /// Anonymous zero-filled memory of `len` (> 0) bytes.
    pub fn map_anon(len: usize) -> io::Result<Region> {
        let map = MmapOptions::new().len(len).map_anon()?;
        Ok(Region {
            map: MmapRaw::from(map),
        })
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Base address; valid for `len()` bytes while `self` lives.
    pub fn ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// msync(MS_SYNC) of exactly `[off, off+len)`, unaligned `off` included
    /// (EINVAL, as Python reports it), unlike memmap2's aligning flush.
    pub fn msync(&self, off: usize, len: usize) -> io::Result<()> {
        debug_assert!(off.checked_add(len).is_some_and(|e| e <= self.len()));
        // SAFETY: the range lies inside our live mapping.
        let rc = unsafe { libc::msync(self.ptr().add(off).cast(), len, libc::MS_SYNC) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// madvise(2) on exactly `[off, off+len)`; `advice` is the raw constant.
    pub fn madvise(&self, off: usize, len: usize, advice: i32) -> io::Result<()> {
        debug_assert!(off.checked_add(len).is_some_and(|e| e <= self.len()));
        // SAFETY: the range lies inside our live mapping. The advice values
        // allowed by the WIT change no memory safety property of a mapping
        // we only touch through raw pointers (DONTNEED/FREE may zero private
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
    /// the caller has already set the file's size.
    pub fn resize(&mut self, new_len: usize, file: Option<(&File, u64, Share)>) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let _ = file;
            // SAFETY: no reference into the map exists; the caller set the
            // file size first, and accesses are checked against it.
            unsafe {
                self.map
                    .remap(new_len, memmap2::RemapOptions::new().may_move(true))
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            // No mremap: map afresh. File maps read their contents from the
            // file; anonymous memory is copied over.
            let new = match file {
                Some((f, offset, share)) => Region::map_file(f, offset, new_len, share)?,
                None => {
                    let new = Region::map_anon(new_len)?;
                    // SAFETY: both regions are live, distinct, and at least
                    // `min(len)` long.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            self.ptr(),
                            new.ptr(),
                            self.len().min(new_len),
                        )
                    };
                    new
                }
            };
            *self = new;
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

/// An atomic operation on the aligned u32 at `p`, fault-guarded.
///
/// # Safety
/// `p` must be 4-aligned inside a live mapping (writable for all but loads).
pub unsafe fn atomic32(op: AtomicOp, p: *mut u8, a: u32, b: u32) -> Result<u32, Fault> {
    let mut out = 0;
    // SAFETY: the caller's contract; faults are caught by the guard.
    guarded(unsafe { wmm_atomic32(op as libc::c_int, p.cast(), a, b, &mut out) })?;
    Ok(out)
}

/// An atomic operation on the aligned u64 at `p`, fault-guarded.
///
/// # Safety
/// `p` must be 8-aligned inside a live mapping (writable for all but loads).
pub unsafe fn atomic64(op: AtomicOp, p: *mut u8, a: u64, b: u64) -> Result<u64, Fault> {
    let mut out = 0;
    // SAFETY: the caller's contract; faults are caught by the guard.
    guarded(unsafe { wmm_atomic64(op as libc::c_int, p.cast(), a, b, &mut out) })?;
    Ok(out)
}

/// Blocks while the u32 at `p` equals `expected`, for at most `timeout`:
/// a shared (not process-private) futex, so waiters and wakers in other
/// processes mapping the same page meet. A vanished page is EFAULT from
/// the kernel, not a signal.
///
/// # Safety
/// `p` must be 4-aligned inside a live shared mapping.
#[cfg(target_os = "linux")]
pub unsafe fn wait32(
    p: *mut u8,
    expected: u32,
    timeout: std::time::Duration,
) -> io::Result<Waited> {
    let ts = libc::timespec {
        tv_sec: timeout.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
    };
    // SAFETY: FUTEX_WAIT reads the word at `p` (checked by the kernel).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            p,
            libc::FUTEX_WAIT,
            expected,
            &ts,
            0usize,
            0u32,
        )
    };
    if rc == 0 {
        return Ok(Waited::Woken);
    }
    let e = io::Error::last_os_error();
    match e.raw_os_error() {
        Some(libc::EAGAIN) => Ok(Waited::Mismatch),
        Some(libc::ETIMEDOUT) => Ok(Waited::TimedOut),
        Some(libc::EINTR) => Ok(Waited::Woken),
        _ => Err(e),
    }
}

/// Wakes up to `count` waiters on the u32 at `p`; how many were woken.
///
/// # Safety
/// `p` must be 4-aligned inside a live shared mapping.
#[cfg(target_os = "linux")]
pub unsafe fn notify(p: *mut u8, count: u32) -> io::Result<u32> {
    let n = count.min(i32::MAX as u32);
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            p,
            libc::FUTEX_WAKE,
            n,
            0usize,
            0usize,
            0u32,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(rc as u32)
    }
}

#[cfg(not(target_os = "linux"))]
pub use super::portable::{ChangeWatch, notify, wait32};

/// Watches a file for modification by anyone, through inotify.
#[cfg(target_os = "linux")]
pub struct ChangeWatch {
    fd: std::os::fd::OwnedFd,
}

#[cfg(target_os = "linux")]
impl ChangeWatch {
    /// Starts watching `file` (through its /proc/self/fd link: no path is
    /// needed, and none is revealed).
    pub fn new(file: &File) -> io::Result<ChangeWatch> {
        use std::os::fd::{AsRawFd, FromRawFd};
        // SAFETY: inotify_init1 returns a new fd or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own from here on.
        let fd = unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) };
        let path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mask = libc::IN_MODIFY
            | libc::IN_ATTRIB
            | libc::IN_CLOSE_WRITE
            | libc::IN_DELETE_SELF
            | libc::IN_MOVE_SELF;
        // SAFETY: a valid fd and C string.
        if unsafe { libc::inotify_add_watch(fd.as_raw_fd(), path.as_ptr(), mask) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(ChangeWatch { fd })
    }

    /// Whether the file changed since the last call, waiting up to `timeout`.
    pub fn wait(&mut self, timeout: std::time::Duration) -> io::Result<bool> {
        use std::os::fd::AsRawFd;
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: libc::c_long::from(timeout.subsec_nanos() as i32),
        };
        // SAFETY: one valid pollfd and timespec (ppoll: sub-millisecond waits).
        let n = unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return if e.raw_os_error() == Some(libc::EINTR) {
                Ok(false)
            } else {
                Err(e)
            };
        }
        if n == 0 {
            return Ok(false);
        }
        // Drain every queued event: one answer covers them all.
        let mut buf = [0u8; 4096];
        // SAFETY: reads into our own buffer; the fd is non-blocking.
        while unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Touching pages of a truncated file through the guarded routines
    /// returns `Fault` (the SIGBUS was caught) and the process goes on.
    #[test]
    fn guard_turns_sigbus_into_fault() {
        let f = tempfile_in_tmp();
        f.set_len(3 * 4096).unwrap();
        let region = Region::map_file(&f, 0, 3 * 4096, Share::SharedWrite).unwrap();
        f.set_len(0).unwrap();
        let mut buf = [0u8; 16];
        for _ in 0..3 {
            // SAFETY: the ranges are inside the live mapping; the pages
            // behind them are gone, which is what the guard is for.
            unsafe {
                assert!(copy(buf.as_mut_ptr(), region.ptr().add(8192), 16).is_err());
                assert!(copy(region.ptr().add(4096), buf.as_ptr(), 16).is_err());
                assert!(gather(buf.as_mut_ptr(), region.ptr(), 8192, -2, 8).is_err());
                assert!(scatter(region.ptr(), buf.as_ptr(), 100, 3, 8).is_err());
            }
        }
        f.set_len(3 * 4096).unwrap();
        // SAFETY: as above; the file covers the pages again.
        unsafe {
            assert!(copy(region.ptr().add(8192), b"back".as_ptr(), 4).is_ok());
            assert!(copy(buf.as_mut_ptr(), region.ptr().add(8192), 4).is_ok());
        }
        assert_eq!(&buf[..4], b"back");
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
