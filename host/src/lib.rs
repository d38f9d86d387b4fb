//! # wasm-mmap: real memory-mapped files for WebAssembly components
//!
//! This crate implements the `wasm-mmap:mmap` WIT package (Python 3's `mmap`
//! module as a component interface) for wasmtime, with real OS mappings:
//! a guest's `write` map of a file is `MAP_SHARED`, so other processes see
//! its writes and the file receives them.
//!
//! Embedding follows wasmtime's WASI crates: keep an [`MmapCtx`] and the
//! [`ResourceTable`] in your store data, and give [`add_to_linker`] a
//! function returning an [`MmapView`] of them. The table must be the one
//! wasmtime-wasi uses, because guests pass `wasi:filesystem` descriptors.
//!
//! ```no_run
//! use wasmtime::component::{Component, Linker, ResourceTable};
//! use wasmtime::{Config, Engine, Store};
//! use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
//! use wasm_mmap::{MmapCtx, MmapView};
//!
//! struct State {
//!     wasi: WasiCtx,
//!     mmap: MmapCtx,
//!     table: ResourceTable,
//! }
//!
//! impl WasiView for State {
//!     fn ctx(&mut self) -> WasiCtxView<'_> {
//!         WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
//!     }
//! }
//!
//! # fn main() -> wasmtime::Result<()> {
//! let engine = Engine::new(Config::new().concurrency_support(false))?;
//! let mut linker = Linker::<State>::new(&engine);
//! wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
//! wasm_mmap::add_to_linker(&mut linker, |s: &mut State| MmapView::new(&mut s.mmap, &mut s.table))?;
//!
//! let state = State {
//!     wasi: WasiCtx::builder().inherit_stdio().build(),
//!     mmap: MmapCtx::builder().max_maps(64).build(),
//!     table: ResourceTable::new(),
//! };
//! let mut store = Store::new(&engine, state);
//! let component = Component::from_file(&engine, "guest.wasm")?;
//! let command =
//!     wasmtime_wasi::p2::bindings::sync::Command::instantiate(&mut store, &component, &linker)?;
//! let _ = command.wasi_cli_run().call_run(&mut store)?;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

// Layers, top to bottom; a file uses only those below it:
// lib/host_impl/fs_guard (WIT glue) → ctx/policy (what a guest may hold)
// → map (Python's semantics) → errno/error → sys (the OS, all `unsafe`).
mod bindings;
mod cache;
mod ctx;
mod errno;
mod error;
mod fs_guard;
mod host_impl;
mod map;
mod policy;
mod sys;
mod window;

pub use cache::{
    CacheOutcome, CompileCache, DEFAULT_CACHE_MAX_BYTES, is_precompiled_component, load_precompiled,
};
pub use ctx::{MmapCtx, MmapCtxBuilder, MmapView};
pub use error::{Error, MmapError};
pub use fs_guard::guard_fifo_opens;
pub use map::{
    Access, Advice, Allowance, CreateMode, FileRef, Footprint, MapFlags, MapOptions, Mmap, Prot,
    Unlimited, WaitResult, Whence, pyindex,
};
pub use policy::{
    Limits, MAX_NAME as MAX_SHM_NAME, check_name as check_shm_name,
    check_namespace as check_shm_namespace,
};
pub use window::{Truncation, Window, enable_windows};

/// The WIT types as bindgen generates them, for embedders that call the
/// interface directly.
pub mod wit {
    pub use crate::bindings::wit::*;
}

use wasmtime::component::Linker;

/// Raises this process's soft limit on open descriptors to its hard limit,
/// as servers do; call it before building contexts, whose default
/// descriptor budget is half the limit in force.
pub fn raise_fd_limit() {
    sys::raise_fd_limit();
}

/// Adds the `wasm-mmap:mmap/mmap` and `wasm-mmap:mmap/windows` interfaces
/// to `linker`. `get` returns the [`MmapView`] of the store's data; its
/// table must be wasmtime-wasi's. Windows also need [`enable_windows`] on
/// the engine's `Config`; without it `place` answers `EOPNOTSUPP`.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> MmapView<'_>,
) -> wasmtime::Result<()> {
    bindings::wit::add_to_linker::<T, ctx::HasMmap>(linker, get)?;
    window::add_to_linker(linker, get)
}
