//! The per-guest state an embedder keeps in its store ([`MmapCtx`], made by
//! [`MmapCtxBuilder`]) and the borrowing view the host functions work on
//! ([`MmapView`]), as wasmtime's WASI crates shape theirs.

use crate::error::{Error, MmapError};
use crate::map::{Footprint, Mmap};
use crate::policy::{self, Budget, Limits, ShmNames};
use wasmtime::component::{HasData, Resource, ResourceTable};
use wasmtime_wasi::filesystem::Descriptor;

/// Builds an [`MmapCtx`].
pub struct MmapCtxBuilder {
    limits: Limits,
    shm_namespace: String,
    shm_allow: Vec<String>,
}

impl Default for MmapCtxBuilder {
    fn default() -> Self {
        MmapCtxBuilder {
            limits: Limits::default(),
            shm_namespace: ShmNames::private_namespace(),
            shm_allow: Vec::new(),
        }
    }
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

    /// Most bytes one call may copy out of a map.
    pub fn max_read_bytes(mut self, n: u64) -> Self {
        self.limits.max_read_bytes = n;
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
        self.shm_namespace = namespace.to_string();
        self
    }

    /// Lets guests use the OS name `name` itself (no namespace), to share
    /// memory with native programs that use it.
    pub fn shm_allow(mut self, name: &str) -> Self {
        self.shm_allow.push(name.to_string());
        self
    }

    /// The context.
    pub fn build(self) -> MmapCtx {
        MmapCtx {
            budget: Budget::new(self.limits),
            names: ShmNames::new(self.shm_namespace, self.shm_allow),
        }
    }
}

/// Per-guest state of the mmap interface: what it may hold and what it
/// holds. One per store.
pub struct MmapCtx {
    pub(crate) budget: Budget,
    pub(crate) names: ShmNames,
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
        let map = map?;
        let footprint = map.footprint();
        let r = self.table.push(map)?;
        self.ctx.budget.commit(footprint);
        Ok(r)
    }

    /// The map behind a guest's handle.
    pub(crate) fn map(&mut self, r: &Resource<Mmap>) -> Result<&mut Mmap, Error> {
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
