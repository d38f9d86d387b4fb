//! The model's call sequences made by a real guest through the component
//! boundary, in this process: each input decodes (host/tests/model) into a
//! setup and calls, which the `diff_runner` guest (tests/programs) makes
//! through the WIT, windows included, under the limits, truncation policy
//! and namespace the input chose; its answers must be the model's. So
//! bindgen glue, resource tables, lifting, the budget and the window fault
//! handlers are fuzzed, not only `Mmap`. A trap the model does not
//! expect, a host panic or a divergence is a finding.
//!
//! Shared by the `component` fuzz target and `tests/tests/fuzz.rs` (CI),
//! which include this file with `#[path]`.

#![allow(dead_code)]

#[path = "../../tests/model/mod.rs"]
pub mod model;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use wasm_mmap::wit::{self, HostMmap};
use wasm_mmap::{MmapCtx, MmapView, Truncation};
use wasmtime::component::{Component, InstancePre, Linker, Resource, ResourceTable};
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
}

static GUEST: OnceLock<String> = OnceLock::new();

/// The `diff_runner` guest to use when `WASM_MMAP_DIFF_RUNNER` is unset;
/// before the first [`run_one`] (the fuzz target's default is this
/// workspace's release build).
pub fn set_default_guest(path: &str) {
    let _ = GUEST.set(path.to_string());
}

fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let guest = std::env::var("WASM_MMAP_DIFF_RUNNER").unwrap_or_else(|_| {
            GUEST
                .get_or_init(|| {
                    concat!(
                        env!("CARGO_MANIFEST_DIR"),
                        "/../../target/wasm-guests/wasm32-wasip2/release/diff_runner.wasm"
                    )
                    .into()
                })
                .clone()
        });
        let mut config = Config::new();
        config.concurrency_support(false);
        // Windows on, as the CLI has them: the guest places them.
        wasm_mmap::enable_windows(&mut config);
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
        Harness {
            engine,
            pre: CommandPre::new(pre).unwrap(),
        }
    })
}

/// A directory and shared memory names of one input, removed when it is
/// done (also when a check panics): a run leaves nothing behind.
struct Scratch {
    dir: PathBuf,
    shm: Vec<String>,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        for name in &self.shm {
            let _ = std::fs::remove_file(format!("/dev/shm/{name}"));
        }
    }
}

/// The builder's limits as the input chose them.
fn ctx_builder(s: &model::Setup) -> wasm_mmap::MmapCtxBuilder {
    let l = &s.limits;
    let mut b = MmapCtx::builder();
    if let Some(n) = l.max_maps {
        b = b.max_maps(n as usize);
    }
    if let Some(n) = l.max_mapped_bytes {
        b = b.max_mapped_bytes(n);
    }
    if let Some(n) = l.max_map_bytes {
        b = b.max_map_bytes(n);
    }
    if let Some(n) = l.max_read_bytes {
        b = b.max_read_bytes(n);
    }
    if let Some(n) = l.max_memory_bytes {
        b = b.max_memory_bytes(n);
    }
    if let Some(n) = l.max_mappings {
        b = b.max_mappings(n);
    }
    if let Some(n) = l.max_fds {
        b = b.max_fds(n);
    }
    if let Some(n) = l.max_watches {
        b = b.max_watches(n);
    }
    if let Some(n) = l.max_windows {
        b = b.max_windows(n);
    }
    b.on_truncation(if s.zero {
        Truncation::Zero
    } else {
        Truncation::Trap
    })
}

/// Another guest's context, in namespace `ns`, makes the setup's prelude
/// objects (through the WIT functions a guest calls), then lets them go:
/// in a shared namespace they outlive it.
fn make_prelude(ns: &str, seq: &str, setup: &model::Setup) -> Result<(), String> {
    let mut ctx = MmapCtx::builder().shm_namespace(ns).build();
    let mut table = ResourceTable::new();
    let mut view = MmapView::new(&mut ctx, &mut table);
    let options = wit::MapOptions {
        flags: wit::MapFlags::SHARED,
        prot: wit::Prot::READ | wit::Prot::WRITE,
        access: wit::Access::Default,
        offset: 0,
    };
    for (name, content) in model::prelude(seq, setup) {
        let len = content.len() as i64;
        let mode = wit::CreateMode::CreateNew;
        let m = HostMmap::open_named(&mut view, name.clone(), len, mode, options)
            .map_err(|e| format!("the other context's {name:?}: {e:?}"))?;
        let borrowed = Resource::<wasm_mmap::Mmap>::new_borrow(m.rep());
        HostMmap::write_at(&mut view, borrowed, 0, content).map_err(|e| format!("{e:?}"))?;
        HostMmap::drop(&mut view, m).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// One input, exactly as the `component` fuzz target runs it: decoded,
/// made by the guest in a fresh store, checked against the model. The
/// number of calls checked, or the finding.
pub fn run_one(data: &[u8]) -> Result<usize, String> {
    run_one_in(data, &std::env::temp_dir())
}

/// [`run_one`] with the input's files in `dir` (filesystems differ in what
/// they keep past a file's end).
pub fn run_one_in(data: &[u8], dir: &Path) -> Result<usize, String> {
    static RUN: AtomicU64 = AtomicU64::new(0);
    let h = harness();
    let n = RUN.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    let seq = "s0";
    let (setup, mut ops) = model::decode(data);
    // Namespaces unique to this input: runs side by side never meet.
    let ns = format!("fz{pid}x{n}");
    let other = if setup.same_ns {
        ns.clone()
    } else {
        format!("fz{pid}y{n}")
    };
    let scratch = Scratch {
        dir: dir.join(format!("wasm-mmap-fuzz-{pid}-{n}")),
        shm: [&ns, &other]
            .iter()
            .flat_map(|ns| {
                (0..4).map(move |i| format!("wasm-mmap.{ns}.{}", model::guest_name(seq, i)))
            })
            .collect(),
    };
    std::fs::create_dir_all(&scratch.dir).map_err(|e| e.to_string())?;
    if !setup.prelude.is_empty() {
        make_prelude(&other, seq, &setup)?;
    }
    let (file, text) = model::runner_sequence(seq, &setup, &mut ops);
    if let Some((name, content)) = file {
        std::fs::write(scratch.dir.join(name), content).map_err(|e| e.to_string())?;
    }
    std::fs::write(scratch.dir.join("seqs.txt"), text).map_err(|e| e.to_string())?;
    let stdout = MemoryOutputPipe::new(1 << 24);
    let mut builder = ctx_builder(&setup);
    if !setup.private_ns {
        builder = builder.shm_namespace(&ns);
    }
    let app = App {
        wasi: WasiCtx::builder()
            .stdout(stdout.clone())
            // File calls on this thread, not a tokio pool's: the pool's
            // wake-ups were a tenth of an execution.
            .allow_blocking_current_thread(true)
            .args(&["diff_runner", "seqs.txt"])
            .preopened_dir(&scratch.dir, ".", FsPerms::ReadWrite)
            .map_err(|e| e.to_string())?
            .build(),
        mmap: builder.build(),
        table: ResourceTable::new(),
    };
    let mut store = Store::new(&h.engine, app);
    let command: Command = h.pre.instantiate(&mut store).map_err(|e| e.to_string())?;
    let ran = command.wasi_cli_run().call_run(&mut store);
    // A trap the model expects is a window's, and the host says which.
    let window_trap = ran.is_err() && !store.data().mmap.truncated_windows().is_empty();
    drop(store);
    let out = String::from_utf8_lossy(&stdout.contents()).into_owned();
    let cases = [(setup, ops)];
    let (calls, ending) = model::check_runner_run(&cases, &out)?;
    let context = || {
        format!(
            "setup {:?}\nops:{}",
            cases[0].0,
            model::ops_text(&cases[0].1)
        )
    };
    match (ending, &ran) {
        (model::Ending::Exit, Ok(Ok(()))) => {}
        (model::Ending::Trap, Err(_)) if window_trap => {}
        (model::Ending::Either, Ok(Ok(()))) => {}
        (model::Ending::Either, Err(_)) if window_trap => {}
        _ => {
            return Err(format!(
                "the guest ended with {ran:?}, the model expects {ending:?}\n{}",
                context()
            ));
        }
    }
    Ok(calls)
}
