//! Embedding wasm-mmap in your own wasmtime application: add WASI and the
//! mmap interface to your linker, keep both contexts in your store data.
//!
//! `cargo run --release --example embed -- GUEST.wasm DIR [ARGS...]` runs a
//! WASI command component with DIR preopened as `.`, zero-copy windows on.

use wasm_mmap::{MmapCtx, MmapView};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

/// The application's store data: WASI, mmap, and the resource table both
/// share (guests hand wasi:filesystem descriptors to mmap).
struct App {
    wasi: WasiCtx,
    mmap: MmapCtx,
    table: ResourceTable,
}

impl WasiView for App {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

fn main() -> wasmtime::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(guest), Some(dir)) = (args.next(), args.next()) else {
        eprintln!("usage: embed GUEST.wasm DIR");
        std::process::exit(2);
    };

    let mut config = Config::new();
    config.concurrency_support(false);
    // Zero-copy windows: the one call, before the first Engine.
    wasm_mmap::enable_windows(&mut config);
    let engine = Engine::new(&config)?;
    let mut linker = Linker::<App>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
    wasm_mmap::add_to_linker(&mut linker, |app: &mut App| {
        MmapView::new(&mut app.mmap, &mut app.table)
    })?;

    let app = App {
        wasi: WasiCtx::builder()
            .inherit_stdio()
            .arg(&guest)
            .args(&args.collect::<Vec<_>>())
            .preopened_dir(&dir, ".", FsPerms::ReadWrite)?
            .build(),
        // Host-side limits: this application allows 16 maps, 1 GiB in all.
        mmap: MmapCtx::builder()
            .max_maps(16)
            .max_mapped_bytes(1 << 30)
            .max_windows(64)
            .on_truncation(wasm_mmap::Truncation::Trap)
            .build(),
        table: ResourceTable::new(),
    };
    let fuel = app.mmap.limits().hostcall_fuel();
    let mut store = Store::new(&engine, app);
    // Lets the guest pass lists as large as the read limit (wasmtime's
    // default traps past 128 MiB).
    store.set_hostcall_fuel(fuel);
    // Compiled once per engine configuration, then loaded from the cache.
    let bytes = std::fs::read(&guest)?;
    let component = match wasm_mmap::CompileCache::user_default() {
        Some(cache) => cache.load(&engine, &bytes)?.0,
        None => Component::new(&engine, &bytes)?,
    };
    let command = Command::instantiate(&mut store, &component, &linker)?;
    if command.wasi_cli_run().call_run(&mut store)?.is_err() {
        std::process::exit(1);
    }
    Ok(())
}
