//! wasmtime-wasi's `open-at` blocks the host thread, forever, when a guest
//! opens a FIFO that has no writer (open(2) waits for a partner), and a
//! check made before the open can be raced by another process swapping the
//! name. A guest must not be able to hang its host, so [`guard_fifo_opens`]
//! replaces that function.

use crate::sys;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::filesystem::{Descriptor, WasiFilesystemView};
use wasmtime_wasi::p2::bindings::sync::filesystem::types::{
    self as fs, DescriptorFlags, ErrorCode, OpenFlags, PathFlags,
};

/// Replaces `wasi:filesystem/types.[method]descriptor.open-at` in `linker`
/// (after `wasmtime_wasi::p2::add_to_linker_sync`). On Linux the open is
/// made here in one non-blocking, confined step (`sys::open_beneath`): a
/// FIFO or socket is refused with `would-block`, whatever another process
/// does to the name meanwhile; flags and preopen permissions are checked as
/// wasmtime-wasi checks them, and descriptors it makes run their blocking
/// work off the current thread (wasmtime-wasi's default). Elsewhere a FIFO
/// found by a confined lookup is refused before wasmtime-wasi opens the path.
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
            if let Descriptor::Dir(d) = view.table.get(&fd)? {
                #[cfg(target_os = "linux")]
                {
                    let opened = open_here(d, path_flags, &path, oflags, flags);
                    return Ok((match opened {
                        Ok(desc) => Ok(view.table.push(desc)?),
                        Err(e) => Err(e),
                    },));
                }
                #[cfg(not(target_os = "linux"))]
                if sys::names_fifo(
                    &d.dir,
                    &path,
                    path_flags.contains(PathFlags::SYMLINK_FOLLOW),
                ) {
                    return Ok((Err(ErrorCode::WouldBlock),));
                }
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

/// wasmtime-wasi's `open-at` rules (flags, the preopen's permissions), with
/// the open itself done by `sys::open_beneath`.
#[cfg(target_os = "linux")]
fn open_here(
    dir: &wasmtime_wasi::filesystem::Dir,
    path_flags: PathFlags,
    path: &str,
    oflags: OpenFlags,
    flags: DescriptorFlags,
) -> Result<Descriptor, ErrorCode> {
    use wasmtime_wasi::OpenMode;
    use wasmtime_wasi::filesystem::{Dir, File};
    let create = oflags.contains(OpenFlags::CREATE);
    let truncate = oflags.contains(OpenFlags::TRUNCATE);
    let write = create || truncate || flags.contains(DescriptorFlags::WRITE);
    // Not opened for writing: opened for reading, as wasmtime-wasi does.
    let read = flags.contains(DescriptorFlags::READ) || !flags.contains(DescriptorFlags::WRITE);
    if flags.intersects(
        DescriptorFlags::FILE_INTEGRITY_SYNC
            | DescriptorFlags::DATA_INTEGRITY_SYNC
            | DescriptorFlags::REQUESTED_WRITE_SYNC,
    ) {
        return Err(ErrorCode::Unsupported);
    }
    let directory = oflags.contains(OpenFlags::DIRECTORY);
    if directory && (create || truncate || oflags.contains(OpenFlags::EXCLUSIVE)) {
        return Err(ErrorCode::Invalid);
    }
    if dir.perms.write_not_permitted() && write {
        return Err(ErrorCode::NotPermitted);
    }
    let mut mode = OpenMode::empty();
    if read {
        mode |= OpenMode::READ;
    }
    if write {
        mode |= OpenMode::WRITE;
    }
    let how = sys::OpenHow {
        read,
        write,
        create,
        exclusive: create && oflags.contains(OpenFlags::EXCLUSIVE),
        truncate,
        directory,
        follow: path_flags.contains(PathFlags::SYMLINK_FOLLOW),
    };
    match sys::open_beneath(&dir.dir, path, how) {
        Ok(sys::Opened::Dir(d)) => Ok(Descriptor::Dir(Dir::new(d, dir.perms, mode, false))),
        Ok(sys::Opened::File(f)) => Ok(Descriptor::File(File::new(f, dir.perms, mode, false))),
        Ok(sys::Opened::Fifo) => Err(ErrorCode::WouldBlock),
        Err(e) => Err(match e.raw_os_error() {
            // A path leading out of the preopen, as cap-std reports it.
            Some(libc::EXDEV) => ErrorCode::NotPermitted,
            // A FIFO opened write-only with no reader.
            Some(libc::ENXIO) => ErrorCode::WouldBlock,
            _ => wasmtime_wasi::p2::bindings::filesystem::types::ErrorCode::from(e).into(),
        }),
    }
}
