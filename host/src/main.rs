//! `wasm-mmap`: runs a WebAssembly component (a WASI command) with the
//! `wasm-mmap:mmap` interface, shaped like `wasmtime run`.

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use wasm_mmap::{MmapCtx, MmapView};
use wasmtime::component::{Component, Linker, ResourceTable};
use wasmtime::{Config, Engine, Store};
use wasmtime_wasi::p2::bindings::sync::Command;
use wasmtime_wasi::{FsPerms, I32Exit, WasiCtx, WasiCtxView, WasiView};

/// The library's default limits, computed once (they read the machine).
static DEFAULTS: std::sync::LazyLock<wasm_mmap::Limits> =
    std::sync::LazyLock::new(wasm_mmap::Limits::default);

/// Exit status for a guest trap, as `wasmtime run` uses (128 + SIGABRT).
const TRAP_EXIT: u8 = 134;

#[derive(Parser)]
#[command(
    name = "wasm-mmap",
    version,
    about = "Run WebAssembly components with real memory-mapped files (Python's mmap)",
    long_about = "Run WebAssembly components with real memory-mapped files.\n\n\
        Guests import wasm-mmap:mmap (Python 3's mmap module as a WIT interface) and map files \
        they opened in their preopened directories; the maps are real OS mappings, so a \
        MAP_SHARED map is shared with every other process that maps or reads the file."
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a component's `wasi:cli/run` (like `wasmtime run`): stdio is
    /// inherited and the guest's exit code becomes this process's.
    Run(Box<RunArgs>),
    /// Compile a component ahead of time (like `wasmtime compile`), for
    /// `run --allow-precompiled`.
    Compile(CompileArgs),
}

#[derive(Parser)]
struct CompileArgs {
    /// The component to compile (built for wasm32-wasip2).
    #[arg(value_name = "GUEST.wasm")]
    wasm: PathBuf,

    /// Where to write the compiled component.
    #[arg(short, long, value_name = "OUT.cwasm")]
    output: PathBuf,

    /// Compile for `run --no-windows` (the engine settings must match).
    #[arg(long)]
    no_windows: bool,
}

#[derive(Parser)]
struct RunArgs {
    /// Give the guest a host directory, read-write, at GUEST (default: the
    /// same path). Repeatable.
    #[arg(long = "dir", value_name = "HOST[::GUEST]")]
    dirs: Vec<String>,

    /// Like --dir, but read-only: the guest can neither change files there
    /// nor map them writable (shared). Repeatable.
    #[arg(long = "ro-dir", value_name = "HOST[::GUEST]")]
    ro_dirs: Vec<String>,

    /// Set an environment variable for the guest. Repeatable.
    #[arg(long = "env", value_name = "NAME=VALUE")]
    envs: Vec<String>,

    /// Most maps the guest may hold open at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_maps)]
    max_maps: usize,

    /// Most bytes the guest's open maps may span together.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULTS.max_mapped_bytes)]
    max_mapped_bytes: u64,

    /// Longest single map, at creation and through resize.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULTS.max_map_bytes)]
    max_map_bytes: u64,

    /// Most bytes one call may copy out of a map (read, readline, a slice),
    /// and the largest list a guest may pass in one call.
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULTS.max_read_bytes)]
    max_read_bytes: u64,

    /// Most bytes of memory the guest's anonymous maps and the named objects
    /// it created may hold together (default: half the machine's RAM).
    #[arg(long, value_name = "BYTES", default_value_t = DEFAULTS.max_memory_bytes)]
    max_memory_bytes: u64,

    /// Most kernel mappings (VMAs) the guest's maps may hold (each map is
    /// one; an madvise on part of a map may split off two more).
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_mappings)]
    max_mappings: u64,

    /// Most descriptors the guest's maps may keep open (default: half the
    /// process's descriptor limit, raised to its hard limit at start).
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_fds)]
    max_fds: u64,

    /// Most wait-for-change watches armed at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_watches)]
    max_watches: u64,

    /// Most windows (zero-copy views of a map in the guest's memory) placed
    /// at once.
    #[arg(long, value_name = "N", default_value_t = DEFAULTS.max_windows)]
    max_windows: u64,

    /// Turn windows off: guest memories are wasmtime's own (copy-on-write
    /// images) and `window.place` answers EOPNOTSUPP.
    #[arg(long)]
    no_windows: bool,

    /// What a window does when another process shortens its file under it:
    /// `trap` the guest that touches the vanished page (the host lives), or
    /// let the page read as `zero`s (stores to it no longer reach the file).
    #[arg(long, value_enum, value_name = "POLICY", default_value = "trap")]
    on_truncation: OnTruncation,

    /// Compile the component every time instead of using the compile cache
    /// (by default in $WASM_MMAP_CACHE_DIR, $XDG_CACHE_HOME/wasm-mmap or
    /// ~/.cache/wasm-mmap; WASM_MMAP_LOG=cache says hit or miss on stderr).
    #[arg(long)]
    no_cache: bool,

    /// The compile cache's directory.
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    cache_dir: Option<PathBuf>,

    /// Accept a precompiled component (`wasm-mmap compile`): it is native
    /// code, loaded as it is, so only run files you compiled yourself.
    #[arg(long)]
    allow_precompiled: bool,

    /// Namespace of the guest's named shared memory: hosts given the same
    /// namespace share names (default: private to this process).
    #[arg(long, value_name = "NAME")]
    shm_namespace: Option<String>,

    /// Let the guest use this exact OS shared memory name, to share with
    /// native programs. Repeatable.
    #[arg(long = "shm-allow", value_name = "NAME")]
    shm_allow: Vec<String>,

    /// The component to run (built for wasm32-wasip2).
    #[arg(value_name = "GUEST.wasm")]
    wasm: PathBuf,

    /// Arguments for the guest (its argv[1..]).
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum OnTruncation {
    Trap,
    Zero,
}

struct State {
    wasi: WasiCtx,
    mmap: MmapCtx,
    table: ResourceTable,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// `HOST[::GUEST]`; neither part may be empty.
fn split_dir(spec: &str) -> Result<(&str, &str), String> {
    let (host, guest) = spec.split_once("::").unwrap_or((spec, spec));
    if host.is_empty() || guest.is_empty() {
        return Err(format!(
            "--dir {spec:?}: expected HOST[::GUEST], both non-empty"
        ));
    }
    Ok((host, guest))
}

/// Prints one diagnostic line on stderr. Never panics: a closed or full
/// stderr loses the line, not the exit status.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

/// A one-line message for a failure, never a backtrace.
fn one_line(e: &wasmtime::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}

/// The engine every command uses: `run` and `compile` must agree, or a
/// precompiled component is refused.
fn engine(no_windows: bool) -> Result<Engine, String> {
    let mut config = Config::new();
    // No async component features are used; this halves every host call.
    config.concurrency_support(false);
    if !no_windows {
        wasm_mmap::enable_windows(&mut config);
    }
    Engine::new(&config).map_err(|e| one_line(&e))
}

/// What a file given to `run` or `compile` is.
enum Input {
    /// A precompiled component (its bytes).
    Precompiled(Vec<u8>),
    /// A component binary, still in the file: the compile cache only
    /// hashes it, so it is read whole only when it must be compiled.
    Component,
}

/// Tells a component file from a precompiled one, refusing anything else
/// with one clear line.
fn inspect(wasm: &std::path::Path) -> Result<Input, String> {
    let cannot = |e: std::io::Error| format!("cannot read {}: {e}", wasm.display());
    let mut head = [0u8; 8];
    let n = std::io::Read::read(&mut std::fs::File::open(wasm).map_err(cannot)?, &mut head)
        .map_err(cannot)?;
    let head = &head[..n];
    if head.starts_with(b"\x7fELF") {
        let bytes = std::fs::read(wasm).map_err(cannot)?;
        if wasm_mmap::is_precompiled_component(&bytes) {
            return Ok(Input::Precompiled(bytes));
        }
    }
    if !head.starts_with(b"\0asm") {
        return Err(format!("{} is not a WebAssembly file", wasm.display()));
    }
    // The 4-byte version field tells a core module (1) from a component.
    if head.get(4..8) == Some(&[1, 0, 0, 0]) {
        return Err(format!(
            "{} is a core WebAssembly module, not a component (build it for wasm32-wasip2)",
            wasm.display()
        ));
    }
    Ok(Input::Component)
}

/// Reads a component file, refusing anything else with one clear line.
fn read_component(wasm: &std::path::Path) -> Result<Vec<u8>, String> {
    match inspect(wasm)? {
        Input::Precompiled(bytes) => Ok(bytes),
        Input::Component => {
            std::fs::read(wasm).map_err(|e| format!("cannot read {}: {e}", wasm.display()))
        }
    }
}

fn compile(args: CompileArgs) -> Result<ExitCode, String> {
    let bytes = read_component(&args.wasm)?;
    if wasm_mmap::is_precompiled_component(&bytes) {
        return Err(format!("{} is already compiled", args.wasm.display()));
    }
    let engine = engine(args.no_windows)?;
    let art = engine.precompile_component(&bytes).map_err(|e| {
        format!(
            "{} is not a valid component: {}",
            args.wasm.display(),
            one_line(&e)
        )
    })?;
    std::fs::write(&args.output, art)
        .map_err(|e| format!("cannot write {}: {e}", args.output.display()))?;
    Ok(ExitCode::SUCCESS)
}

fn load(args: &RunArgs, engine: &Engine, input: Input) -> Result<Component, String> {
    let wasm = &args.wasm;
    if let Input::Precompiled(bytes) = input {
        if !args.allow_precompiled {
            return Err(format!(
                "{} is a precompiled component: run it with --allow-precompiled (native code, \
                 loaded as it is: only files you compiled yourself)",
                wasm.display()
            ));
        }
        // SAFETY: the user vouched for the file (--allow-precompiled);
        // wasmtime refuses another version's or configuration's artifact.
        return unsafe { wasm_mmap::load_precompiled(engine, &bytes) }.map_err(|e| {
            format!(
                "cannot load {}: compiled by another wasm-mmap/wasmtime or with other settings \
                 (compile it again with `wasm-mmap compile`): {}",
                wasm.display(),
                one_line(&e)
            )
        });
    }
    let invalid = |e: wasmtime::Error| {
        format!(
            "{} is not a valid component: {}",
            wasm.display(),
            one_line(&e)
        )
    };
    let cache = match &args.cache_dir {
        _ if args.no_cache => None,
        Some(d) => Some(wasm_mmap::CompileCache::new(d)),
        None => wasm_mmap::CompileCache::user_default(),
    };
    let Some(cache) = cache else {
        return Component::new(engine, read_component(wasm)?).map_err(invalid);
    };
    let (component, outcome) = cache.load_file(engine, wasm).map_err(invalid)?;
    let log = std::env::var("WASM_MMAP_LOG").unwrap_or_default();
    if log.split(',').any(|w| w == "cache") {
        let what = match outcome {
            wasm_mmap::CacheOutcome::Hit => "hit",
            wasm_mmap::CacheOutcome::Miss => "miss, compiled and stored",
            wasm_mmap::CacheOutcome::Replaced => "bad entry, compiled again and replaced",
        };
        say(&format!(
            "wasm-mmap: cache {what} ({})",
            cache.dir().display()
        ));
    }
    Ok(component)
}

fn run(args: RunArgs) -> Result<ExitCode, String> {
    let wasm = &args.wasm;
    let input = inspect(wasm)?;
    let engine = engine(args.no_windows)?;
    let component = load(&args, &engine, input)?;

    let mut wasi = WasiCtx::builder();
    wasi.inherit_stdio();
    let name = wasm
        .file_name()
        .map_or("guest".into(), |n| n.to_string_lossy().into_owned());
    wasi.arg(name);
    wasi.args(&args.args);
    for kv in &args.envs {
        let (k, v) = kv
            .split_once('=')
            .filter(|(k, _)| !k.is_empty())
            .ok_or_else(|| format!("--env {kv:?}: expected NAME=VALUE with a non-empty NAME"))?;
        wasi.env(k, v);
    }
    for (spec, writable) in args
        .dirs
        .iter()
        .map(|d| (d, true))
        .chain(args.ro_dirs.iter().map(|d| (d, false)))
    {
        let (host, guest) = split_dir(spec)?;
        let perms = if writable {
            FsPerms::ReadWrite
        } else {
            FsPerms::ReadOnly
        };
        wasi.preopened_dir(host, guest, perms)
            .map_err(|e| format!("cannot open directory {host}: {}", one_line(&e)))?;
    }

    let mut linker = Linker::<State>::new(&engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| one_line(&e))?;
    wasm_mmap::guard_fifo_opens(&mut linker).map_err(|e| one_line(&e))?;
    wasm_mmap::add_to_linker(&mut linker, |s: &mut State| {
        MmapView::new(&mut s.mmap, &mut s.table)
    })
    .map_err(|e| one_line(&e))?;

    let mut mmap = MmapCtx::builder()
        .max_maps(args.max_maps)
        .max_mapped_bytes(args.max_mapped_bytes)
        .max_map_bytes(args.max_map_bytes)
        .max_read_bytes(args.max_read_bytes)
        .max_memory_bytes(args.max_memory_bytes)
        .max_mappings(args.max_mappings)
        .max_fds(args.max_fds)
        .max_watches(args.max_watches)
        .max_windows(args.max_windows)
        .on_truncation(match args.on_truncation {
            OnTruncation::Trap => wasm_mmap::Truncation::Trap,
            OnTruncation::Zero => wasm_mmap::Truncation::Zero,
        });
    if let Some(ns) = &args.shm_namespace {
        wasm_mmap::check_shm_namespace(ns).map_err(|e| format!("--shm-namespace: {e}"))?;
        mmap = mmap.shm_namespace(ns);
    }
    for name in &args.shm_allow {
        mmap = mmap.shm_allow(name);
    }
    let state = State {
        wasi: wasi.build(),
        mmap: mmap.build(),
        table: ResourceTable::new(),
    };
    let fuel = state.mmap.limits().hostcall_fuel();
    let mut store = Store::new(&engine, state);
    // Lists up to the read limit may be passed in (wasmtime's default caps
    // them at 128 MiB and traps the guest past it).
    store.set_hostcall_fuel(fuel);
    let command = Command::instantiate(&mut store, &component, &linker)
        .map_err(|e| format!("cannot instantiate {}: {}", wasm.display(), one_line(&e)))?;
    let outcome = command.wasi_cli_run().call_run(&mut store);
    // Host code may have read zeros from a vanished window page for the
    // guest, which then finished: under `trap` that is still a trap.
    let outcome = match (outcome, store.data().mmap.owed_window_trap()) {
        (Ok(_), Some(t)) => Err(t),
        (Err(e), Some(t)) if e.downcast_ref::<I32Exit>().is_some() => Err(t),
        (o, _) => o,
    };
    match outcome {
        Ok(Ok(())) => Ok(ExitCode::SUCCESS),
        Ok(Err(())) => Ok(ExitCode::FAILURE),
        Err(e) => {
            if let Some(exit) = e.downcast_ref::<I32Exit>() {
                return Ok(ExitCode::from(u8::try_from(exit.0).unwrap_or(1)));
            }
            say(&format!("error: guest trapped: {}", trap_text(&e)));
            if matches!(args.on_truncation, OnTruncation::Trap) {
                for file in store.data().mmap.truncated_windows() {
                    say(&format!(
                        "error: a page of {file} under a window vanished: the file was shortened \
                         (--on-truncation trap)"
                    ));
                }
            }
            Ok(ExitCode::from(TRAP_EXIT))
        }
    }
}

/// The trap's own words (e.g. "wasm `unreachable` instruction executed").
fn trap_text(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<wasmtime::Trap>() {
        Some(t) => t.to_string(),
        None => e.chain().last().map_or_else(
            || one_line(e),
            |c| c.to_string().lines().next().unwrap_or("").to_string(),
        ),
    }
}

fn main() -> ExitCode {
    // Before the defaults are computed from it: the descriptor budget is
    // half the limit in force.
    wasm_mmap::raise_fd_limit();
    let cli = Cli::parse();
    let outcome = match cli.command {
        Cmd::Run(args) => run(*args),
        Cmd::Compile(args) => compile(args),
    };
    outcome.unwrap_or_else(|msg| {
        say(&format!("error: {msg}"));
        ExitCode::FAILURE
    })
}
