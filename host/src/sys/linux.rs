//! What only Linux has: shared futexes (waits that meet across processes),
//! inotify (a file changed, whoever wrote it), `openat2` (a lookup confined
//! to a directory that cannot block), and `mremap`.

use super::Waited;
use memmap2::MmapRaw;
use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::{Mutex, OnceLock};
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

/// The process's one inotify instance (the user's instances are few: 128
/// by default, shared by all their processes), and per watch descriptor how
/// many changes were seen and how many watches share it (the kernel gives
/// one descriptor per inode, whoever asks).
struct Inotify {
    fd: OwnedFd,
    watches: Mutex<HashMap<i32, (u64, usize)>>,
}

static INOTIFY: OnceLock<Option<Inotify>> = OnceLock::new();

fn inotify() -> Option<&'static Inotify> {
    INOTIFY
        .get_or_init(|| {
            // SAFETY: inotify_init1 returns a new fd or -1.
            let fd = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
            (fd >= 0).then(|| Inotify {
                // SAFETY: a fresh descriptor, owned from here on.
                fd: unsafe { OwnedFd::from_raw_fd(fd) },
                watches: Mutex::new(HashMap::new()),
            })
        })
        .as_ref()
}

impl Inotify {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<i32, (u64, usize)>> {
        self.watches.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reads every queued event and counts it against its watch.
    fn drain(&self) {
        self.drain_locked(&mut self.lock());
    }

    /// As `drain`, under the caller's lock: held across the reads, so a
    /// thread that finds the queue empty also finds every event another
    /// thread read already counted.
    fn drain_locked(&self, watches: &mut HashMap<i32, (u64, usize)>) {
        let mut buf = [0u8; 4096];
        loop {
            // SAFETY: reads into our own buffer; the fd is non-blocking.
            let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
            let Ok(n) = usize::try_from(n) else { return };
            if n == 0 {
                return;
            }
            let mut at = 0;
            let head = std::mem::size_of::<libc::inotify_event>();
            while at + head <= n {
                // SAFETY: the kernel wrote whole events; read_unaligned
                // copies the header out of our byte buffer.
                let ev: libc::inotify_event =
                    unsafe { std::ptr::read_unaligned(buf.as_ptr().add(at).cast()) };
                if let Some(w) = watches.get_mut(&ev.wd) {
                    w.0 += 1;
                }
                at += head + ev.len as usize;
            }
        }
    }
}

/// Watches a file for modification by anyone: through the process's one
/// inotify instance, or by polling its size and time where inotify refuses
/// (no instance or no watch left).
pub struct ChangeWatch {
    how: Watch,
}

enum Watch {
    Inotify { wd: i32, seen: u64 },
    Poll(super::portable::PollWatch),
}

impl ChangeWatch {
    /// Starts watching `file` (through its /proc/self/fd link: no path is
    /// needed, and none is revealed).
    pub fn new(file: &File) -> io::Result<ChangeWatch> {
        let poll = || {
            Ok(ChangeWatch {
                how: Watch::Poll(super::portable::PollWatch::new(file)?),
            })
        };
        let Some(ino) = inotify() else {
            return poll();
        };
        let path = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd()))
            .map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        let mask = libc::IN_MODIFY
            | libc::IN_ATTRIB
            | libc::IN_CLOSE_WRITE
            | libc::IN_DELETE_SELF
            | libc::IN_MOVE_SELF;
        let mut watches = ino.lock();
        // SAFETY: a valid fd and C string.
        let wd = unsafe { libc::inotify_add_watch(ino.fd.as_raw_fd(), path.as_ptr(), mask) };
        if wd < 0 {
            drop(watches);
            return poll();
        }
        // Changes queued before this watch was armed (on an inode another
        // watch shares) are counted first, so they are not news to it.
        ino.drain_locked(&mut watches);
        let w = watches.entry(wd).or_insert((0, 0));
        w.1 += 1;
        Ok(ChangeWatch {
            how: Watch::Inotify { wd, seen: w.0 },
        })
    }

    /// Whether the file changed since the last call, waiting up to `timeout`.
    pub fn wait(&mut self, timeout: Duration) -> io::Result<bool> {
        let (wd, seen) = match &mut self.how {
            Watch::Poll(p) => return p.wait(timeout),
            Watch::Inotify { wd, seen } => (*wd, seen),
        };
        let Some(ino) = inotify() else {
            return Ok(false);
        };
        let deadline = std::time::Instant::now() + timeout;
        loop {
            ino.drain();
            if let Some(&(count, _)) = ino.lock().get(&wd)
                && count != *seen
            {
                *seen = count;
                return Ok(true);
            }
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                return Ok(false);
            }
            // Another thread of this process may drain the events meant for
            // us: wait in slices, so such a change is seen within 50 ms.
            let mut pfd = libc::pollfd {
                fd: ino.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            let ts = timespec(left.min(Duration::from_millis(50)));
            // SAFETY: one valid pollfd and timespec (ppoll: sub-millisecond waits).
            if unsafe { libc::ppoll(&mut pfd, 1, &ts, std::ptr::null()) } < 0 {
                let e = io::Error::last_os_error();
                if e.raw_os_error() != Some(libc::EINTR) {
                    return Err(e);
                }
            }
        }
    }
}

impl Drop for ChangeWatch {
    fn drop(&mut self) {
        if let (Watch::Inotify { wd, .. }, Some(ino)) = (&self.how, inotify()) {
            let mut watches = ino.lock();
            if let Some(w) = watches.get_mut(wd) {
                w.1 -= 1;
                if w.1 == 0 {
                    watches.remove(wd);
                    // SAFETY: removes our own watch; an already-gone one is EINVAL.
                    unsafe { libc::inotify_rm_watch(ino.fd.as_raw_fd(), *wd) };
                }
            }
        }
    }
}

/// Removes the named objects of earlier hosts' private namespaces whose
/// process is gone (killed before it could clean up): their names begin
/// with `prefix` followed by the dead process's id and `-`.
pub fn reap_stale_named(prefix: &str) {
    let Ok(dir) = std::fs::read_dir("/dev/shm") else {
        return;
    };
    for entry in dir.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(rest) = name.strip_prefix(prefix) else {
            continue;
        };
        let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<i32>().ok()) else {
            continue;
        };
        // SAFETY: kill with signal 0 only checks that the process exists.
        let gone = pid > 0
            && unsafe { libc::kill(pid, 0) } != 0
            && io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH);
        if gone {
            let _ = super::os::shm_unlink(name);
        }
    }
}

/// What a confined, non-blocking open found at a path.
pub enum Opened {
    /// A directory.
    Dir(File),
    /// A regular file or a device, switched back to blocking mode.
    File(File),
    /// A FIFO or a socket: opening it for real could block the host.
    Fifo,
}

/// How to open a path beneath a directory.
#[derive(Clone, Copy, Debug, Default)]
pub struct OpenHow {
    /// Open for reading.
    pub read: bool,
    /// Open for writing.
    pub write: bool,
    /// Create if absent.
    pub create: bool,
    /// With `create`: fail if it exists.
    pub exclusive: bool,
    /// Truncate to 0.
    pub truncate: bool,
    /// Must be a directory.
    pub directory: bool,
    /// Follow a symlink in the last component.
    pub follow: bool,
}

/// Opens `path` beneath `dir` in one step that cannot block and cannot
/// escape: `openat2` with `O_NONBLOCK` (a FIFO opens at once instead of
/// waiting for a partner) and `RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS`;
/// the type is then read from the opened descriptor itself, so no swap of
/// the name between a check and the open can fool it.
pub fn open_beneath(dir: &File, path: &str, how: OpenHow) -> io::Result<Opened> {
    let cpath =
        std::ffi::CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
    let mut flags = libc::O_CLOEXEC | libc::O_NONBLOCK | libc::O_NOCTTY;
    flags |= match (how.read, how.write) {
        (_, false) => libc::O_RDONLY,
        (false, true) => libc::O_WRONLY,
        (true, true) => libc::O_RDWR,
    };
    if how.create {
        flags |= libc::O_CREAT;
    }
    if how.exclusive {
        flags |= libc::O_EXCL;
    }
    if how.truncate {
        flags |= libc::O_TRUNC;
    }
    if how.directory {
        flags |= libc::O_DIRECTORY;
    }
    if !how.follow {
        flags |= libc::O_NOFOLLOW;
    }
    // SAFETY: all-zero is a valid `open_how`.
    let mut oh: libc::open_how = unsafe { std::mem::zeroed() };
    oh.flags = flags as u64;
    oh.mode = if how.create { 0o666 } else { 0 };
    oh.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_MAGICLINKS;
    // SAFETY: openat2 reads the path and `oh` and returns a new fd or -1.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dir.as_raw_fd(),
            cpath.as_ptr(),
            &oh as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the syscall returned a fresh descriptor we now own.
    let file = File::from(unsafe { OwnedFd::from_raw_fd(fd as i32) });
    let kind = file.metadata()?.file_type();
    use std::os::unix::fs::FileTypeExt;
    if kind.is_dir() {
        return Ok(Opened::Dir(file));
    }
    if kind.is_fifo() || kind.is_socket() {
        return Ok(Opened::Fifo);
    }
    // Back to blocking mode, as wasmtime-wasi's own opens are.
    // SAFETY: F_GETFL/F_SETFL on our own descriptor.
    unsafe {
        let fl = libc::fcntl(file.as_raw_fd(), libc::F_GETFL);
        if fl >= 0 {
            libc::fcntl(file.as_raw_fd(), libc::F_SETFL, fl & !libc::O_NONBLOCK);
        }
    }
    Ok(Opened::File(file))
}
