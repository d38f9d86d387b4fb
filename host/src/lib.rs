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

mod error;
mod fifo;
mod map;
mod sys;

pub use error::Error;
pub use fifo::guard_fifo_opens;
pub use map::{FileRef, Mmap};

use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::OpenMode;
use wasmtime_wasi::filesystem::Descriptor;

/// Bindings generated from `wit/` for the `host` world.
mod bindings {
    #![allow(missing_docs)]
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "wasm-mmap:mmap/host",
        imports: { default: trappable },
        trappable_error_type: {
            "wasm-mmap:mmap/mmap.error-code" => crate::Error,
        },
        with: {
            "wasi": wasmtime_wasi::p2::bindings::sync,
            "wasm-mmap:mmap/mmap.mmap": crate::Mmap,
        },
        require_store_data_send: true,
    });
}

use bindings::wasm_mmap::mmap::mmap as wit;
pub use sys::{AtomicOp, Waited};
pub use wit::{
    Access, Advice, CreateMode, ErrorCode, MapFlags, MapOptions, OsError, Prot, WaitResult, Whence,
};

/// Limits a host puts on one guest's maps. Defaults are generous but finite.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Most maps a guest may hold open at once.
    pub max_maps: usize,
    /// Most bytes all of a guest's open maps may span together.
    pub max_mapped_bytes: u64,
    /// Longest single map, at creation and through `resize`.
    pub max_map_bytes: u64,
    /// Most bytes one call may copy out (`read`, `readline`, a slice): the
    /// host allocates that much, so `read()` of a 100 GiB map is refused
    /// instead of allocating 100 GiB.
    pub max_read_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_maps: 1024,
            max_mapped_bytes: 64 << 30,
            max_map_bytes: 16 << 30,
            max_read_bytes: 256 << 20,
        }
    }
}

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
            shm_namespace: private_namespace(),
            shm_allow: Vec::new(),
        }
    }
}

/// A namespace no other process has: the default, so that named shared
/// memory is shared only between hosts told to share a namespace.
fn private_namespace() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("p{}-{nanos:08x}", std::process::id())
}

/// Longest guest name for named shared memory, in bytes.
const MAX_NAME: usize = 200;

/// Checks a name (guest's or namespace) for named shared memory: the OS
/// name is built from it, so nothing in it may reach outside the prefix.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME && !name.contains(['/', '\\', '\0'])
}

impl MmapCtxBuilder {
    /// A builder with the default [`Limits`].
    pub fn new() -> Self {
        Self::default()
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
    /// Panics on a name with `/`, `\`, NUL, empty or over 200 bytes.
    pub fn shm_namespace(mut self, namespace: &str) -> Self {
        assert!(
            valid_name(namespace),
            "invalid shared memory namespace {namespace:?}"
        );
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
            shm_namespace: self.shm_namespace,
            shm_allow: self.shm_allow,
            limits: self.limits,
            maps: 0,
            mapped_bytes: 0,
        }
    }
}

/// Per-guest state of the mmap interface: its limits and what it holds.
/// One per store.
pub struct MmapCtx {
    limits: Limits,
    shm_namespace: String,
    shm_allow: Vec<String>,
    maps: usize,
    mapped_bytes: u64,
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

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The namespace of guests' shared memory names.
    pub fn shm_namespace(&self) -> &str {
        &self.shm_namespace
    }

    /// The OS name for a guest's shared memory name: in the namespace,
    /// unless allowed as is.
    pub fn shm_os_name(&self, name: &str) -> Result<String, ErrorCode> {
        if !valid_name(name) {
            return Err(ErrorCode::ValueError(format!(
                "invalid shared memory name {name:?}: 1 to {MAX_NAME} bytes, without '/', '\\' or NUL"
            )));
        }
        if self.shm_allow.iter().any(|a| a == name) {
            return Ok(name.to_string());
        }
        Ok(format!("wasm-mmap.{}.{name}", self.shm_namespace))
    }

    /// Forgets a map of `bytes` that was closed (0: it already was).
    fn release(&mut self, bytes: u64) {
        if bytes > 0 {
            self.maps -= 1;
            self.mapped_bytes -= bytes;
        }
    }

    /// Refuses a new map of `bytes` (or growth by `bytes` when `new_map` is
    /// false) that would break a limit: Python would get `ENOMEM` from the
    /// OS in the same place, so does the guest, with the limit named.
    fn reserve(&self, bytes: u64, new_map: bool) -> Result<(), ErrorCode> {
        if new_map && self.maps >= self.limits.max_maps {
            return Err(error::over_limit(
                "another map",
                self.limits.max_maps as u64,
                "max-maps",
            ));
        }
        if self.mapped_bytes.saturating_add(bytes) > self.limits.max_mapped_bytes {
            return Err(error::over_limit(
                &format!("{bytes} more mapped bytes"),
                self.limits.max_mapped_bytes,
                "max-mapped-bytes",
            ));
        }
        Ok(())
    }

    /// Refuses a single map longer than the limit.
    fn check_map_len(&self, bytes: u64) -> Result<(), ErrorCode> {
        if bytes > self.limits.max_map_bytes {
            return Err(error::over_limit(
                &format!("a map of {bytes} bytes"),
                self.limits.max_map_bytes,
                "max-map-bytes",
            ));
        }
        Ok(())
    }
}

/// What the mmap host functions work on: a borrow of the guest's
/// [`MmapCtx`] and of the store's [`ResourceTable`] (shared with
/// wasmtime-wasi, where the guest's descriptors live).
pub struct MmapView<'a> {
    ctx: &'a mut MmapCtx,
    table: &'a mut ResourceTable,
}

impl<'a> MmapView<'a> {
    /// A view of `ctx` and `table`.
    pub fn new(ctx: &'a mut MmapCtx, table: &'a mut ResourceTable) -> Self {
        MmapView { ctx, table }
    }

    /// The limits a new map of `bytes` must pass (given to the
    /// constructors, which ask after Python's own argument checks).
    fn admit(ctx: &MmapCtx) -> impl FnOnce(u64) -> Result<(), ErrorCode> + '_ {
        move |bytes| {
            ctx.check_map_len(bytes)?;
            ctx.reserve(bytes, true)
        }
    }

    fn push(&mut self, map: Result<Mmap, ErrorCode>) -> Result<Resource<Mmap>, Error> {
        let mut map = map?;
        let bytes = map.mapped_bytes() as u64;
        map.set_read_limit(usize::try_from(self.ctx.limits.max_read_bytes).unwrap_or(usize::MAX));
        let r = self.table.push(map)?;
        self.ctx.maps += 1;
        self.ctx.mapped_bytes += bytes;
        Ok(r)
    }

    /// The OS file behind a guest's descriptor, with the rights the
    /// descriptor and its preopen give.
    fn file_ref(&self, file: &Resource<Descriptor>) -> Result<FileRef, Error> {
        Ok(match self.table.get(file)? {
            Descriptor::File(f) => FileRef {
                file: f.file.clone(),
                readable: f.open_mode.contains(OpenMode::READ),
                writable: f.open_mode.contains(OpenMode::WRITE) && !f.perms.write_not_permitted(),
            },
            // Python maps a directory's fd and mmap(2) refuses it; the same
            // answer comes from the size checks on a non-regular file.
            Descriptor::Dir(d) => FileRef {
                file: d.dir.clone(),
                readable: true,
                writable: false,
            },
        })
    }

    fn map(&mut self, r: &Resource<Mmap>) -> Result<&mut Mmap, Error> {
        Ok(self.table.get_mut(r)?)
    }

    /// Runs `f` on the map and keeps the byte count in step with whatever
    /// `f` did to its size (close, resize).
    fn accounted<T>(
        &mut self,
        r: &Resource<Mmap>,
        f: impl FnOnce(&mut Mmap, &MmapCtx, u64) -> Result<T, ErrorCode>,
    ) -> Result<T, Error> {
        let m = self.table.get_mut(r)?;
        let before = m.mapped_bytes() as u64;
        let out = f(m, self.ctx, before);
        let after = m.mapped_bytes() as u64;
        if after == 0 {
            self.ctx.release(before);
        } else {
            self.ctx.mapped_bytes = self.ctx.mapped_bytes - before + after;
        }
        Ok(out?)
    }
}

struct HasMmap;

impl HasData for HasMmap {
    type Data<'a> = MmapView<'a>;
}

/// Adds the `wasm-mmap:mmap/mmap` interface to `linker`. `get` returns the
/// [`MmapView`] of the store's data; its table must be wasmtime-wasi's.
pub fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    get: fn(&mut T) -> MmapView<'_>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasMmap>(linker, get)
}

impl wit::Host for MmapView<'_> {
    fn convert_error_code(&mut self, err: Error) -> wasmtime::Result<ErrorCode> {
        match err {
            Error::Guest(e) => Ok(e),
            Error::Trap(t) => Err(t),
        }
    }

    fn remove_named(&mut self, name: String) -> Result<(), Error> {
        let os_name = self.ctx.shm_os_name(&name)?;
        Ok(sys::shm_unlink(&os_name)?)
    }

    fn pagesize(&mut self) -> wasmtime::Result<u64> {
        Ok(sys::page_size() as u64)
    }

    fn allocation_granularity(&mut self) -> wasmtime::Result<u64> {
        Ok(sys::allocation_granularity() as u64)
    }
}

impl wit::HostMmap for MmapView<'_> {
    fn open(
        &mut self,
        file: Resource<Descriptor>,
        length: i64,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let file = self.file_ref(&file)?;
        let map = Mmap::open_file(file, length, options, Self::admit(self.ctx));
        self.push(map)
    }

    fn open_named(
        &mut self,
        name: String,
        length: i64,
        mode: CreateMode,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let os_name = self.ctx.shm_os_name(&name)?;
        let map = Mmap::open_named(&os_name, length, mode, options, Self::admit(self.ctx));
        self.push(map)
    }

    fn open_tagged(
        &mut self,
        file: Resource<Descriptor>,
        length: i64,
        tagname: String,
        options: MapOptions,
    ) -> Result<Resource<Mmap>, Error> {
        let tag = self.ctx.shm_os_name(&tagname)?;
        let file = self.file_ref(&file)?;
        let map = Mmap::open_file_tagged(file, length, options, Some(&tag), Self::admit(self.ctx));
        self.push(map)
    }

    fn anonymous(&mut self, length: i64, options: MapOptions) -> Result<Resource<Mmap>, Error> {
        let map = Mmap::anonymous(length, options, Self::admit(self.ctx));
        self.push(map)
    }

    fn close(&mut self, m: Resource<Mmap>) -> wasmtime::Result<()> {
        let map = self.table.get_mut(&m)?;
        let bytes = map.mapped_bytes() as u64;
        map.close();
        self.ctx.release(bytes);
        Ok(())
    }

    fn closed(&mut self, m: Resource<Mmap>) -> wasmtime::Result<bool> {
        Ok(self.table.get(&m)?.closed())
    }

    fn len(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.len()?)
    }

    fn size(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.size()?)
    }

    fn tell(&mut self, m: Resource<Mmap>) -> Result<u64, Error> {
        Ok(self.map(&m)?.tell()?)
    }

    fn seek(&mut self, m: Resource<Mmap>, pos: i64, whence: Whence) -> Result<u64, Error> {
        Ok(self.map(&m)?.seek(pos, whence)?)
    }

    fn seekable(&mut self, _m: Resource<Mmap>) -> wasmtime::Result<bool> {
        Ok(true)
    }

    fn read(&mut self, m: Resource<Mmap>, n: Option<i64>) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.read(n)?)
    }

    fn read_at(&mut self, m: Resource<Mmap>, offset: u64, n: u64) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.read_at(offset, n)?)
    }

    fn write_at(&mut self, m: Resource<Mmap>, offset: u64, data: Vec<u8>) -> Result<u64, Error> {
        Ok(self.map(&m)?.write_at(offset, &data)?)
    }

    fn read_byte(&mut self, m: Resource<Mmap>) -> Result<u8, Error> {
        Ok(self.map(&m)?.read_byte()?)
    }

    fn readline(&mut self, m: Resource<Mmap>) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.readline()?)
    }

    fn write(&mut self, m: Resource<Mmap>, data: Vec<u8>) -> Result<u64, Error> {
        Ok(self.map(&m)?.write(&data)?)
    }

    fn write_byte(&mut self, m: Resource<Mmap>, value: u8) -> Result<(), Error> {
        Ok(self.map(&m)?.write_byte(value)?)
    }

    fn find(
        &mut self,
        m: Resource<Mmap>,
        sub: Vec<u8>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<i64, Error> {
        Ok(self.map(&m)?.find(&sub, start, end, false)?)
    }

    fn rfind(
        &mut self,
        m: Resource<Mmap>,
        sub: Vec<u8>,
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<i64, Error> {
        Ok(self.map(&m)?.find(&sub, start, end, true)?)
    }

    fn flush(
        &mut self,
        m: Resource<Mmap>,
        offset: Option<i64>,
        size: Option<i64>,
    ) -> Result<(), Error> {
        Ok(self.map(&m)?.flush(offset, size)?)
    }

    fn madvise(
        &mut self,
        m: Resource<Mmap>,
        option: Advice,
        start: Option<i64>,
        length: Option<i64>,
    ) -> Result<(), Error> {
        Ok(self.map(&m)?.madvise(option, start, length)?)
    }

    fn move_(&mut self, m: Resource<Mmap>, dest: i64, src: i64, count: i64) -> Result<(), Error> {
        Ok(self.map(&m)?.move_(dest, src, count)?)
    }

    fn resize(&mut self, m: Resource<Mmap>, newsize: i64) -> Result<(), Error> {
        self.accounted(&m, |m, ctx, before| {
            // Growth counts against the byte limit before the OS is asked.
            if let Ok(n) = u64::try_from(newsize)
                && !m.closed()
            {
                ctx.check_map_len(n)?;
                if n > before {
                    ctx.reserve(n - before, false)?;
                }
            }
            m.resize(newsize)
        })
    }

    fn get(&mut self, m: Resource<Mmap>, index: i64) -> Result<u8, Error> {
        Ok(self.map(&m)?.get(index)?)
    }

    fn set(&mut self, m: Resource<Mmap>, index: i64, value: u8) -> Result<(), Error> {
        Ok(self.map(&m)?.set(index, value)?)
    }

    fn get_slice(
        &mut self,
        m: Resource<Mmap>,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    ) -> Result<Vec<u8>, Error> {
        Ok(self.map(&m)?.get_slice(start, stop, step)?)
    }

    fn set_slice(
        &mut self,
        m: Resource<Mmap>,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
        data: Vec<u8>,
    ) -> Result<(), Error> {
        Ok(self.map(&m)?.set_slice(start, stop, step, &data)?)
    }

    fn atomic_load32(&mut self, m: Resource<Mmap>, offset: u64) -> Result<u32, Error> {
        Ok(self.map(&m)?.atomic32(AtomicOp::Load, offset, 0, 0)?)
    }

    fn atomic_store32(&mut self, m: Resource<Mmap>, offset: u64, value: u32) -> Result<(), Error> {
        self.map(&m)?.atomic32(AtomicOp::Store, offset, value, 0)?;
        Ok(())
    }

    fn atomic_cas32(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u32,
        replacement: u32,
    ) -> Result<u32, Error> {
        Ok(self
            .map(&m)?
            .atomic32(AtomicOp::Cas, offset, expected, replacement)?)
    }

    fn atomic_add32(&mut self, m: Resource<Mmap>, offset: u64, delta: u32) -> Result<u32, Error> {
        Ok(self.map(&m)?.atomic32(AtomicOp::Add, offset, delta, 0)?)
    }

    fn atomic_load64(&mut self, m: Resource<Mmap>, offset: u64) -> Result<u64, Error> {
        Ok(self.map(&m)?.atomic64(AtomicOp::Load, offset, 0, 0)?)
    }

    fn atomic_store64(&mut self, m: Resource<Mmap>, offset: u64, value: u64) -> Result<(), Error> {
        self.map(&m)?.atomic64(AtomicOp::Store, offset, value, 0)?;
        Ok(())
    }

    fn atomic_cas64(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u64,
        replacement: u64,
    ) -> Result<u64, Error> {
        Ok(self
            .map(&m)?
            .atomic64(AtomicOp::Cas, offset, expected, replacement)?)
    }

    fn atomic_add64(&mut self, m: Resource<Mmap>, offset: u64, delta: u64) -> Result<u64, Error> {
        Ok(self.map(&m)?.atomic64(AtomicOp::Add, offset, delta, 0)?)
    }

    fn wait32(
        &mut self,
        m: Resource<Mmap>,
        offset: u64,
        expected: u32,
        timeout_ns: u64,
    ) -> Result<WaitResult, Error> {
        Ok(match self.map(&m)?.wait32(offset, expected, timeout_ns)? {
            Waited::Woken => WaitResult::Woken,
            Waited::Mismatch => WaitResult::Mismatch,
            Waited::TimedOut => WaitResult::TimedOut,
        })
    }

    fn notify(&mut self, m: Resource<Mmap>, offset: u64, count: u32) -> Result<u32, Error> {
        Ok(self.map(&m)?.notify(offset, count)?)
    }

    fn wait_for_change(&mut self, m: Resource<Mmap>, timeout_ns: u64) -> Result<bool, Error> {
        Ok(self.map(&m)?.wait_for_change(timeout_ns)?)
    }

    fn repr(&mut self, m: Resource<Mmap>) -> wasmtime::Result<String> {
        Ok(self.table.get(&m)?.repr())
    }

    fn drop(&mut self, m: Resource<Mmap>) -> wasmtime::Result<()> {
        let map = self.table.delete(m)?;
        self.ctx.release(map.mapped_bytes() as u64);
        Ok(())
    }
}
