//! wasmtime-wasi's `open-at` blocks the host thread, forever, when a guest
//! opens a FIFO that has no writer (open(2) waits for a partner). A guest
//! must not be able to hang its host, so [`guard_fifo_opens`] puts a check
//! in front of it.

use crate::sys;
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
/// wasmtime-wasi's own `open-at` for everything else. The lookup stays
/// inside the preopen and cannot block (see `sys::names_fifo`).
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
                && sys::names_fifo(
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
