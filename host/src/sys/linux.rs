//! What only Linux has: shared futexes (waits that meet across processes),
//! inotify (a file changed, whoever wrote it), `openat2` (a lookup confined
//! to a directory that cannot block), and `mremap`.

use super::Waited;
use memmap2::MmapRaw;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::Duration;

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: d.as_secs() as libc::time_t,
        tv_nsec: libc::c_long::from(d.subsec_nanos() as i32),
    }
}

/// Blocks while the u32 at `p` equals `expected`, for at most `timeout`:
/// a shared (not process-private) futex, so waiters and wakers in other
/// processes mapping the same page meet. A vanished page is EFAULT from
/// the kernel, not a signal.
///
/// # Safety
/// `p` must be 4-aligned inside a live shared mapping.
pub unsafe fn wait32(p: *mut u8, expected: u32, timeout: Duration) -> io::Result<Waited> {
    let ts = timespec(timeout);
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

/// `mremap(MREMAP_MAYMOVE)` through memmap2.
pub fn remap(map: &mut MmapRaw, new_len: usize) -> io::Result<()> {
    // SAFETY: no reference into the map exists (raw-pointer access only);
    // for a file map the caller set the file's size first.
    unsafe { map.remap(new_len, memmap2::RemapOptions::new().may_move(true)) }
}

/// Watches a file for modification by anyone, through inotify.
pub struct ChangeWatch {
    fd: OwnedFd,
}

impl ChangeWatch {
    /// Starts watching `file` (through its /proc/self/fd link: no path is
    /// needed, and none is revealed).
    pub fn new(file: &File) -> io::Result<ChangeWatch> {
        // SAFETY: inotify_init1 returns a new fd or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: a fresh descriptor we own from here on.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
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
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.fd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ts = timespec(timeout);
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

/// Whether `path`, resolved beneath `dir`, names a FIFO. Resolved with
/// `openat2(O_PATH, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS)`: it cannot
/// block and never looks outside `dir` (an escaping path answers false and
/// is left to the caller to refuse, so no outside file's type is revealed).
pub fn names_fifo(dir: &File, path: &str, follow: bool) -> bool {
    let Ok(cpath) = std::ffi::CString::new(path) else {
        return false;
    };
    // SAFETY: all-zero is a valid `open_how` (no flags, no resolve bits).
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_PATH | libc::O_CLOEXEC | if follow { 0 } else { libc::O_NOFOLLOW }) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 reads the path and `how` and returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            cpath.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return false;
    }
    // SAFETY: the syscall returned a fresh descriptor we now own.
    let fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    File::from(fd)
        .metadata()
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
}
