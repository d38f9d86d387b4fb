//! The model's call sequences made by a real guest through the component
//! boundary: each input decodes (as for `ops`) into a map setup and calls,
//! which the `diff_runner` guest (tests/programs) makes through the WIT,
//! in this process, with the host's default limits; its answers must be
//! the model's. So bindgen glue, resource tables, lifting and policy are
//! fuzzed, not only `Mmap`. A trap, a host panic or a divergence is a
//! finding.
//!
//! `cargo build --release` first (it builds the guest), then
//! `cd host && cargo +nightly fuzz run component -- -max_total_time=600`
//! (`WASM_MMAP_DIFF_RUNNER=path/to/diff_runner.wasm` to use another build).

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

use std::sync::OnceLock;
use wasm_mmap::{MmapCtx, MmapView};
use wasmtime::component::{Component, InstancePre, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::{Command, CommandPre};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxView, WasiView};

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

struct Harness {
    engine: Engine,
    /// Linked once: each input only instantiates.
    pre: CommandPre<App>,
    dir: std::path::PathBuf,
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let guest = std::env::var("WASM_MMAP_DIFF_RUNNER").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../target/wasm-guests/wasm32-wasip2/release/diff_runner.wasm"
            )
            .into()
        });
        let mut config = Config::new();
        config.concurrency_support(false);
        let engine = Engine::new(&config).unwrap();
        let mut linker = Linker::<App>::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).unwrap();
        wasm_mmap::add_to_linker(&mut linker, |app: &mut App| {
            MmapView::new(&mut app.mmap, &mut app.table)
        })
        .unwrap();
        let bytes = std::fs::read(&guest)
            .unwrap_or_else(|e| panic!("{guest}: {e} (cargo build --release builds it)"));
        let component = Component::new(&engine, &bytes).unwrap();
        let pre: InstancePre<App> = linker.instantiate_pre(&component).unwrap();
        let dir = std::env::temp_dir().join(format!("wasm-mmap-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Harness {
            engine,
            pre: CommandPre::new(pre).unwrap(),
            dir,
        }
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let h = harness();
    let (setup, mut ops) = model::decode(data);
    let (file, text) = model::runner_sequence("s0", &setup, &mut ops);
    if let Some((name, content)) = file {
        std::fs::write(h.dir.join(name), content).unwrap();
    }
    std::fs::write(h.dir.join("seqs.txt"), text).unwrap();
    let stdout = MemoryOutputPipe::new(1 << 24);
    let app = App {
        wasi: WasiCtx::builder()
            .stdout(stdout.clone())
            .args(&["diff_runner", "seqs.txt"])
            .preopened_dir(&h.dir, ".", FsPerms::ReadWrite)
            .unwrap()
            .build(),
        mmap: MmapCtx::builder().build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&h.engine, app);
    let command: Command = h.pre.instantiate(&mut store).unwrap();
    let ran = command.wasi_cli_run().call_run(&mut store);
    assert!(
        matches!(ran, Ok(Ok(()))),
        "the guest failed: {ran:?}\nsetup {setup:?}\nops {ops:?}"
    );
    let out = String::from_utf8(stdout.contents().to_vec()).unwrap();
    if let Err(e) = model::check_runner_output(&[(setup, ops)], &out) {
        panic!("{e}");
    }
});
