//! wasmtime-wasi's `open-at` blocks the host thread, forever, when a guest
//! opens a FIFO that has no writer (open(2) waits for a partner). A guest
//! must not be able to hang its host, so [`guard_fifo_opens`] puts a check
//! in front of it.

use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};

/// Replaces `wasi:filesystem/types.[method]descriptor.open-at` in `linker`
/// (after `wasmtime_wasi::p2::add_to_linker_sync`) with a wrapper that
/// refuses a path naming a FIFO with `would-block`, then defers to
/// wasmtime-wasi's own `open-at` for everything else.
///
/// The check resolves the path with `openat2(O_PATH, RESOLVE_BENEATH |
/// RESOLVE_NO_MAGICLINKS)` from the directory descriptor: it cannot block,
/// and it never looks outside the preopen (an escaping path is left to
/// wasmtime-wasi to refuse, so no host file's type is revealed). On
/// systems without `openat2` the check is skipped.
pub fn guard_fifo_opens<T: WasiView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    let mut inst = linker.instance("wasi:filesystem/types@0.2.12")?;
    inst.func_wrap(
        "[method]descriptor.open-at",
        |mut store: StoreContextMut<'_, T>,
         (fd, path_flags, path, oflags, flags): (
            Resource<Descriptor>,
            PathFlags,
            String,
            OpenFlags,
            DescriptorFlags,
        )| {
            let mut view = store.data_mut().filesystem();
            if let Descriptor::Dir(d) = view.table.get(&fd)?
                && names_fifo(
                    &d.dir,
                    &path,
                    path_flags.contains(PathFlags::SYMLINK_FOLLOW),
                )
            {
                return Ok((Err(ErrorCode::WouldBlock),));
            }
            let opened =
                fs::HostDescriptor::open_at(&mut view, fd, path_flags, path, oflags, flags);
            Ok((match opened {
                Ok(r) => Ok(r),
                Err(e) => Err(fs::Host::convert_error_code(&mut view, e)?),
            },))
        },
    )?;
    linker.allow_shadowing(false);
    Ok(())
}

#[cfg(target_os = "linux")]
fn names_fifo(dir: &std::fs::File, path: &str, follow: bool) -> bool {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    let Ok(cpath) = std::ffi::CString::new(path) else {
        return false;
    };
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
    std::fs::File::from(fd)
        .metadata()
        .is_ok_and(|m| std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()))
}

#[cfg(not(target_os = "linux"))]
fn names_fifo(_dir: &std::fs::File, _path: &str, _follow: bool) -> bool {
    false
}
