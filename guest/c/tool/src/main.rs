//! The two steps of the C guest's build that need the component tooling,
//! done with the library crates behind `wit-bindgen c` and
//! `wasm-tools component new` (building those whole CLIs took minutes on a
//! fresh machine; these crates are a fraction of them):
//!
//! - `bindings WIT_DIR WORLD OUT_DIR`: the C bindings of WORLD (`WORLD.c`,
//!   `WORLD.h`, `WORLD_component_type.o`), with wit-bindgen c's defaults.
//! - `component CORE.wasm OUT.wasm`: the component of a wasi-libc core
//!   module (preview1 imports), adapted with wasmtime's preview1 reactor
//!   adapter and validated.

use anyhow::{Context, Result, bail};
use std::path::Path;
use wit_bindgen_core::Files;
use wit_bindgen_core::wit_parser::Resolve;

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["bindings", wit, world, out] => bindings(Path::new(wit), world, Path::new(out)),
        ["component", core, out] => component(Path::new(core), Path::new(out)),
        _ => bail!(
            "usage: wasm-mmap-c-tool bindings WIT_DIR WORLD OUT_DIR | component CORE.wasm OUT.wasm"
        ),
    }
}

fn bindings(wit: &Path, world: &str, out: &Path) -> Result<()> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve
        .push_path(wit)
        .with_context(|| format!("reading {}", wit.display()))?;
    let world = resolve.select_world(&[pkg], Some(world))?;
    let mut files = Files::default();
    wit_bindgen_c::Opts::default()
        .build()
        .generate(&mut resolve, world, &mut files)?;
    std::fs::create_dir_all(out)?;
    for (name, contents) in files.iter() {
        std::fs::write(out.join(name), contents)
            .with_context(|| format!("writing {name} in {}", out.display()))?;
    }
    Ok(())
}

fn component(core: &Path, out: &Path) -> Result<()> {
    let module = std::fs::read(core).with_context(|| format!("reading {}", core.display()))?;
    let adapter = wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER;
    let bytes = wit_component::ComponentEncoder::default()
        .module(&module)?
        .adapter("wasi_snapshot_preview1", adapter)?
        .validate(true)
        .encode()?;
    std::fs::write(out, bytes).with_context(|| format!("writing {}", out.display()))
}
