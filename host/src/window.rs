//! Zero-copy windows (the WIT's `windows` interface): a range of a map
//! placed in the guest's own linear memory, so guest loads and stores reach
//! the mapped pages with no host call.
//!
//! The guest names the bytes to replace with a borrowed `list<u8>`; the
//! canonical ABI lifts it as a pointer into the guest's memory, already
//! bounds-checked by wasmtime, and [`WasmList::as_le_slice`] turns it into
//! the host address. That is why these functions are linked by hand
//! (`func_wrap`) instead of through bindgen's trait, which would copy the
//! list into a `Vec`. The memory must be one made by
//! [`enable_windows`]'s memory creator (found by address in its registry);
//! anything else is `EOPNOTSUPP`.

use crate::bindings::wit::ErrorCode;
use crate::ctx::MmapView;
use crate::errno::{EINVAL, EOPNOTSUPP};
use crate::error::{Error, MmapError, os_error, over_limit, value_error};
use crate::map::{Allowance, Footprint, Mmap};
use crate::sys::{self, PlaceError, PlacedWindow};
use std::sync::Arc;
use wasmtime::component::{Linker, Resource, ResourceType, WasmList};
use wasmtime::{Config, StoreContextMut};

/// What a window does when another process shortens its file so that one
/// of its pages no longer exists (where a native program would die of
/// SIGBUS).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Truncation {
    /// The guest's load or store that touched the page traps; the host
    /// lives. The default: a program reading data that is gone should stop,
    /// not compute on zeros it cannot tell from data.
    #[default]
    Trap,
    /// The page reads as zeros from then on; stores to it stay in the
    /// guest's memory and no longer reach the file. The window reports it
    /// (`replaced`).
    Zero,
}

/// Turns windows on for engines built from `config`, the one call an
/// embedder needs: linear memories come from wasm-mmap's memory creator
/// (they never move, so the host can place file pages in them), data
/// segments are copied at instantiation (wasmtime's copy-on-write images
/// need wasmtime's own memories), and the fault handlers are installed.
///
/// Call it before the process's first `Engine::new`, so wasmtime's signal
/// handler runs first and passes on only faults it does not own. Use the
/// default on-demand instance allocator: the pooling allocator ignores
/// memory creators (its guests then get `EOPNOTSUPP` from `place`). Where
/// the OS has no windows (Windows) this leaves `config` as it is.
pub fn enable_windows(config: &mut Config) -> &mut Config {
    sys::enable_windows(config);
    config
}

/// A guest's window: the host side of the WIT `window` resource.
pub struct Window {
    shared: Arc<WindowShared>,
    offset: u64,
}

/// What the context also keeps of a window, to see its faults.
pub(crate) struct WindowShared {
    placed: PlacedWindow,
    /// The file, for messages.
    pub(crate) what: String,
}

impl WindowShared {
    /// A page was replaced after a truncation.
    pub(crate) fn replaced(&self) -> bool {
        self.placed.flags() & sys::REPLACED != 0
    }

    /// Host code touched a page the `trap` policy made inaccessible.
    pub(crate) fn pending(&self) -> bool {
        self.placed.flags() & sys::PENDING != 0
    }
}

/// A window splits the guest memory's mapping in three (+2), and a
/// truncation under it may add one more (its replaced suffix).
fn footprint() -> Footprint {
    Footprint {
        windows: 1,
        mappings: 3,
        ..Footprint::default()
    }
}

impl MmapView<'_> {
    /// `window.place`: `addr` is the host address of the guest's list.
    fn place(
        &mut self,
        map: &Resource<Mmap>,
        addr: usize,
        len: usize,
        offset: u64,
    ) -> Result<Resource<Window>, Error> {
        self.ctx.check_windows()?;
        let m = self.table.get(map)?;
        if m.closed() {
            return Err(crate::error::closed().into());
        }
        let gran = sys::allocation_granularity();
        let Some(memory) = sys::find_memory(addr) else {
            return Err(windows_off());
        };
        let rel = addr - memory.base();
        if len == 0 || !rel.is_multiple_of(gran) || !len.is_multiple_of(gran) {
            return Err(value_error(
                "window memory must be non-empty, its address and length multiples of \
                 allocation-granularity()",
            )
            .into());
        }
        let source = m.window_source(offset, len as u64)?;
        self.ctx.budget.admit(&footprint(), 0)?;
        let zero = self.ctx.truncation == Truncation::Zero;
        let placed = memory.place(rel, len, &source, zero).map_err(|e| match e {
            PlaceError::Outside => value_error("window memory outside the guest's memory"),
            PlaceError::Overlap => value_error("window memory overlaps another window"),
            PlaceError::TableFull => over_limit("another window", "the process's windows", 4096),
            PlaceError::Os(e) => e.into(),
        })?;
        let what = sys::file_path(source.file)
            .map_or_else(|| "a mapped file".to_string(), |p| p.display().to_string());
        let shared = Arc::new(WindowShared { placed, what });
        let r = self.table.push(Window {
            shared: shared.clone(),
            offset,
        })?;
        self.ctx.budget.commit(footprint());
        self.ctx.windows.push(shared);
        Ok(r)
    }

    fn window(&mut self, w: &Resource<Window>) -> Result<&Window, Error> {
        self.ctx.check_windows()?;
        Ok(self.table.get(w)?)
    }

    fn drop_window(&mut self, w: Resource<Window>) -> Result<(), Error> {
        let w = self.table.delete(w)?;
        self.ctx.windows.retain(|s| !Arc::ptr_eq(s, &w.shared));
        self.ctx.budget.release(footprint());
        // The trap this window owes the guest, if host code read zeros
        // from it for the guest, is not forgotten with the window.
        let owed = w.shared.pending().then(|| w.shared.what.clone());
        // Dropping the last reference puts zero memory back.
        drop(w);
        match owed {
            Some(what) => Err(Error::Trap(crate::ctx::owed_trap(&what))),
            None => Ok(()),
        }
    }
}

fn windows_off() -> Error {
    let mut e = os_error(EOPNOTSUPP);
    if let MmapError::OsError { message, .. } = &mut e {
        message.push_str(if sys::WINDOWS_SUPPORTED {
            ": windows are off for this guest's memory (the CLI's --no-windows, an embedder \
             without wasm_mmap::enable_windows, or the pooling allocator, which ignores memory \
             creators)"
        } else {
            ": this host's OS has no windows"
        });
    }
    e.into()
}

/// A host call's outcome as the component sees it: a guest error is a
/// value, a trap aborts the guest.
fn lower<T>(r: Result<T, Error>) -> wasmtime::Result<(Result<T, ErrorCode>,)> {
    match r {
        Ok(v) => Ok((Ok(v),)),
        Err(Error::Guest(e)) => Ok((Err(e.into()),)),
        Err(Error::Trap(t)) => Err(t),
    }
}

/// Adds `wasm-mmap:mmap/windows` to `linker`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> MmapView<'_>,
) -> wasmtime::Result<()> {
    let mut inst = linker.instance("wasm-mmap:mmap/windows@0.1.0")?;
    inst.resource(
        "window",
        ResourceType::host::<Window>(),
        move |mut store, rep| match get(store.data_mut()).drop_window(Resource::new_own(rep)) {
            Err(Error::Trap(t)) => Err(t),
            _ => Ok(()),
        },
    )?;
    inst.func_wrap(
        "[static]window.place",
        move |mut store: StoreContextMut<'_, T>,
              (map, memory, offset): (Resource<Mmap>, WasmList<u8>, u64)| {
            let bytes = memory.as_le_slice(&store);
            // Only the address is kept: no reference into guest memory
            // outlives this line.
            let (addr, len) = (bytes.as_ptr() as usize, bytes.len());
            lower(get(store.data_mut()).place(&map, addr, len, offset))
        },
    )?;
    inst.func_wrap(
        "[method]window.address",
        move |mut store: StoreContextMut<'_, T>, (w,): (Resource<Window>,)| {
            let mut v = get(store.data_mut());
            let w = v.window(&w).map_err(trap_only)?;
            Ok((u32::try_from(w.shared.placed.guest_address()).unwrap_or(u32::MAX),))
        },
    )?;
    inst.func_wrap(
        "[method]window.len",
        move |mut store: StoreContextMut<'_, T>, (w,): (Resource<Window>,)| {
            let mut v = get(store.data_mut());
            let w = v.window(&w).map_err(trap_only)?;
            Ok((w.shared.placed.len() as u64,))
        },
    )?;
    inst.func_wrap(
        "[method]window.offset",
        move |mut store: StoreContextMut<'_, T>, (w,): (Resource<Window>,)| {
            let mut v = get(store.data_mut());
            Ok((v.window(&w).map_err(trap_only)?.offset,))
        },
    )?;
    inst.func_wrap(
        "[method]window.replaced",
        move |mut store: StoreContextMut<'_, T>, (w,): (Resource<Window>,)| {
            let mut v = get(store.data_mut());
            Ok((v.window(&w).map_err(trap_only)?.shared.replaced(),))
        },
    )?;
    inst.func_wrap(
        "[method]window.flush",
        move |mut store: StoreContextMut<'_, T>, (w, start, size): (Resource<Window>, u64, u64)| {
            let mut v = get(store.data_mut());
            lower(v.window(&w).and_then(|w| flush(w, start, size)))
        },
    )?;
    Ok(())
}

/// `window.flush`: `mmap.flush`'s rules over the window's range.
fn flush(w: &Window, start: u64, size: u64) -> Result<(), Error> {
    let len = w.shared.placed.len() as u64;
    if start.checked_add(size).is_none_or(|end| end > len) {
        return Err(value_error("flush values out of range").into());
    }
    if !start.is_multiple_of(sys::page_size() as u64) {
        return Err(os_error(EINVAL).into());
    }
    Ok(w.shared.placed.msync(start as usize, size as usize)?)
}

/// For calls whose WIT result has no error case: only a trap can come out.
fn trap_only(e: Error) -> wasmtime::Error {
    match e {
        Error::Trap(t) => t,
        Error::Guest(e) => wasmtime::format_err!("{e}"),
    }
}
