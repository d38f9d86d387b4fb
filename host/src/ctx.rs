//! The per-guest state an embedder keeps in its store ([`MmapCtx`], made by
//! [`MmapCtxBuilder`]) and the borrowing view the host functions work on
//! ([`MmapView`]), as wasmtime's WASI crates shape theirs.

use crate::error::{Error, MmapError};
use crate::map::{Footprint, Mmap};
use crate::policy::{self, Budget, Limits, ShmNames};
use crate::window::{Truncation, WindowShared};
use std::sync::Arc;
use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::filesystem::Descriptor;

/// Builds an [`MmapCtx`].
#[derive(Default)]
pub struct MmapCtxBuilder {
    limits: Limits,
    shm_namespace: Option<String>,
    shm_allow: Vec<String>,
    truncation: Truncation,
}

impl MmapCtxBuilder {
    /// A builder with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
    }

    /// All limits at once.
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Most maps the guest may hold open at once.
    pub fn max_maps(mut self, n: usize) -> Self {
        self.limits.max_maps = n;
        self
    }

    /// Most bytes the guest's open maps may span together.
    pub fn max_mapped_bytes(mut self, n: u64) -> Self {
        self.limits.max_mapped_bytes = n;
        self
    }

    /// Longest single map (creation and resize).
    pub fn max_map_bytes(mut self, n: u64) -> Self {
        self.limits.max_map_bytes = n;
        self
    }

    /// Most bytes one call may copy out of a map (and the largest list it
    /// may pass in).
    pub fn max_read_bytes(mut self, n: u64) -> Self {
        self.limits.max_read_bytes = n;
        self
    }

    /// Most bytes of memory anonymous maps and created named objects hold.
    pub fn max_memory_bytes(mut self, n: u64) -> Self {
        self.limits.max_memory_bytes = n;
        self
    }

    /// Most kernel mappings (VMAs) the guest's maps may hold.
    pub fn max_mappings(mut self, n: u64) -> Self {
        self.limits.max_mappings = n;
        self
    }

    /// Most descriptors the guest's maps may keep open.
    pub fn max_fds(mut self, n: u64) -> Self {
        self.limits.max_fds = n;
        self
    }

    /// Most `wait-for-change` watches armed at once.
    pub fn max_watches(mut self, n: u64) -> Self {
        self.limits.max_watches = n;
        self
    }

    /// Most windows placed at once.
    pub fn max_windows(mut self, n: u64) -> Self {
        self.limits.max_windows = n;
        self
    }

    /// What a window does when another process shortens its file under it
    /// (default [`Truncation::Trap`]).
    pub fn on_truncation(mut self, policy: Truncation) -> Self {
        self.truncation = policy;
        self
    }

    /// The namespace of guests' shared memory names: hosts given the same
    /// namespace share names; the default is private to this process.
    /// Panics on a namespace [`check_shm_namespace`](crate::check_shm_namespace)
    /// refuses (an embedder's mistake, checked up front by the CLI).
    pub fn shm_namespace(mut self, namespace: &str) -> Self {
        if let Err(e) = policy::check_namespace(namespace) {
            panic!("shared memory namespace: {e}");
        }
        self.shm_namespace = Some(namespace.to_string());
        self
    }

    /// Lets guests use the OS name `name` itself (no namespace), to share
    /// memory with native programs that use it.
    pub fn shm_allow(mut self, name: &str) -> Self {
        self.shm_allow.push(name.to_string());
        self
    }

    /// The context. With the default, private namespace, objects left in
    /// earlier hosts' private namespaces by processes that no longer exist
    /// (killed before cleaning up) are removed first.
    pub fn build(self) -> MmapCtx {
        let private = self.shm_namespace.is_none();
        if private {
            static REAPED: std::sync::Once = std::sync::Once::new();
            REAPED.call_once(|| crate::sys::reap_stale_named(ShmNames::PRIVATE_PREFIX));
        }
        let namespace = self
            .shm_namespace
            .unwrap_or_else(ShmNames::private_namespace);
        MmapCtx {
            budget: Budget::new(self.limits),
            names: ShmNames::new(namespace, self.shm_allow),
            private,
            created: Vec::new(),
            truncation: self.truncation,
            windows: Vec::new(),
            seen_epoch: crate::sys::pending_epoch(),
        }
    }
}

/// Per-guest state of the mmap interface: what it may hold and what it
/// holds. One per store.
pub struct MmapCtx {
    pub(crate) budget: Budget,
    pub(crate) names: ShmNames,
    /// The namespace is this host's own: nobody else can ever open its
    /// objects, so they are removed when the context is dropped.
    private: bool,
    /// Named objects this guest created (OS name, size), counted as memory
    /// until removed.
    created: Vec<(String, u64)>,
    /// What a window does when its file is shortened under it.
    pub(crate) truncation: Truncation,
    /// The guest's windows, to see their faults.
    pub(crate) windows: Vec<Arc<WindowShared>>,
    /// The fault handlers' epoch when last checked.
    seen_epoch: u64,
}

impl MmapCtx {
    /// The limits in force (also what to give wasmtime's
    /// `Store::set_hostcall_fuel`: [`Limits::hostcall_fuel`]).
    pub fn limits(&self) -> &Limits {
        self.budget.limits()
    }

    /// Files whose pages vanished under one of this guest's windows (the
    /// file was shortened by another process): after a trap, what to tell
    /// the user.
    pub fn truncated_windows(&self) -> Vec<String> {
        self.windows
            .iter()
            .filter(|w| w.replaced())
            .map(|w| w.what.clone())
            .collect()
    }

    /// The trap the guest is owed, if host code (`memory.copy`, lifting
    /// arguments) touched a page of one of its windows that vanished under
    /// the `trap` policy: that access read zeros, so the guest must not
    /// finish as if it had read data. The host checks at every wasm-mmap
    /// call; an embedder also checks after the guest's last call returns
    /// (the CLI does), and treats `Some` as a trap.
    pub fn owed_window_trap(&self) -> Option<wasmtime::Error> {
        self.windows
            .iter()
            .find(|w| w.pending())
            .map(|w| owed_trap(&w.what))
    }

    /// [`MmapCtx::owed_window_trap`] at a call: one atomic load unless
    /// some window of the process faulted since the last check.
    pub(crate) fn check_windows(&mut self) -> Result<(), Error> {
        let epoch = crate::sys::pending_epoch();
        if epoch == self.seen_epoch {
            return Ok(());
        }
        self.seen_epoch = epoch;
        match self.owed_window_trap() {
            Some(t) => Err(Error::Trap(t)),
            None => Ok(()),
        }
    }

    /// Records a named object this guest created.
    pub(crate) fn created(&mut self, os_name: String, size: u64) {
        self.budget.commit(memory(size));
        self.created.push((os_name, size));
    }

    /// Forgets a named object that was removed.
    pub(crate) fn removed(&mut self, os_name: &str) {
        if let Some(i) = self.created.iter().position(|(n, _)| n == os_name) {
            let (_, size) = self.created.swap_remove(i);
            self.budget.release(memory(size));
        }
    }
}

/// The trap owed for a vanished window page of `what` read by host code.
pub(crate) fn owed_trap(what: &str) -> wasmtime::Error {
    wasmtime::format_err!(
        "a page of {what} under a window vanished (the file was shortened) and was read as \
         zeros on the guest's behalf; truncation policy: trap"
    )
}

fn memory(bytes: u64) -> Footprint {
    Footprint {
        memory: bytes,
        ..Footprint::default()
    }
}

impl Drop for MmapCtx {
    /// Removes the objects of a private namespace: no one else could ever
    /// open them, so they would only fill /dev/shm.
    fn drop(&mut self) {
        if self.private {
            for (name, _) in self.created.drain(..) {
                let _ = crate::sys::shm_unlink(&name);
            }
        }
    }
}

impl Default for MmapCtx {
    fn default() -> Self {
        MmapCtxBuilder::new().build()
    }
}

impl MmapCtx {
    /// Shorthand for [`MmapCtxBuilder::new`].
    pub fn builder() -> MmapCtxBuilder {
        MmapCtxBuilder::new()
    }
}

/// What the mmap host functions work on: a borrow of the guest's
/// [`MmapCtx`] and of the store's [`ResourceTable`] (shared with
/// wasmtime-wasi, where the guest's descriptors live).
pub struct MmapView<'a> {
    pub(crate) ctx: &'a mut MmapCtx,
    pub(crate) table: &'a mut ResourceTable,
}

impl<'a> MmapView<'a> {
    /// A view of `ctx` and `table`.
    pub fn new(ctx: &'a mut MmapCtx, table: &'a mut ResourceTable) -> Self {
        MmapView { ctx, table }
    }

    /// Puts a new map in the table and counts it in the budget.
    pub(crate) fn insert(&mut self, map: Result<Mmap, MmapError>) -> Result<Resource<Mmap>, Error> {
        self.ctx.check_windows()?;
        let map = map?;
        let footprint = map.footprint();
        let r = self.table.push(map)?;
        self.ctx.budget.commit(footprint);
        Ok(r)
    }

    /// The map behind a guest's handle.
    pub(crate) fn map(&mut self, r: &Resource<Mmap>) -> Result<&mut Mmap, Error> {
        self.ctx.check_windows()?;
        Ok(self.table.get_mut(r)?)
    }

    /// The file behind a guest's descriptor, with its rights.
    pub(crate) fn file(&self, d: &Resource<Descriptor>) -> Result<crate::map::FileRef, Error> {
        Ok(policy::file_rights(self.table.get(d)?))
    }

    /// Runs `f` on the map with the budget as its allowance, and keeps the
    /// budget in step with whatever `f` did to the map (close, resize).
    pub(crate) fn accounted<T>(
        &mut self,
        r: &Resource<Mmap>,
        f: impl FnOnce(&mut Mmap, &Budget) -> Result<T, MmapError>,
    ) -> Result<T, Error> {
        self.ctx.check_windows()?;
        let m = self.table.get_mut(r)?;
        let before = m.footprint();
        let out = f(m, &self.ctx.budget);
        let after: Footprint = m.footprint();
        self.ctx.budget.update(before, after);
        Ok(out?)
    }

    /// Removes the guest's handle, closing the map and releasing its share.
    pub(crate) fn remove(&mut self, r: Resource<Mmap>) -> Result<(), Error> {
        let map = self.table.delete(r)?;
        self.ctx.budget.release(map.footprint());
        Ok(())
    }
}

/// Selects [`MmapView`] as the data the generated host functions receive.
pub(crate) struct HasMmap;

impl HasData for HasMmap {
    type Data<'a> = MmapView<'a>;
}
