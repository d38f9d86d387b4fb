//! Builds every guest the tests run, for wasm32-wasip2, into
//! `<target>/wasm-guests` (its own target directory, so the inner cargo
//! never waits on the outer one's lock), and writes their paths as
//! constants plus one `foreach_<suite>!` macro per suite of test programs.
//!
//! It also installs the wasm32-wasip2 target with rustup when missing, so
//! `cargo test` works on a machine that has only Rust.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let here = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = here.parent().unwrap().to_path_buf();
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    // OUT_DIR is <target>/<profile>/build/<pkg>-<hash>/out.
    let target_dir = out.ancestors().nth(4).unwrap().join("wasm-guests");
    for p in [
        "guest/src",
        "guest/examples",
        "guest/Cargo.toml",
        "guest/Cargo.lock",
        "wit",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(p).display());
    }
    for p in ["programs/src", "programs/Cargo.toml", "programs/Cargo.lock"] {
        println!("cargo:rerun-if-changed={}", here.join(p).display());
    }

    ensure_wasm_target();
    cargo_build(&root.join("guest/Cargo.toml"), &target_dir, "--examples");
    cargo_build(&here.join("programs/Cargo.toml"), &target_dir, "--bins");

    let release = target_dir.join("wasm32-wasip2/release");
    let mut code = String::new();
    for example in ["writer", "watcher"] {
        let path = release.join("examples").join(format!("{example}.wasm"));
        constant(&mut code, example, &path);
    }
    let mut programs: Vec<String> = fs::read_dir(here.join("programs/src/bin"))
        .unwrap()
        .filter_map(|e| {
            let p = e.unwrap().path();
            (p.extension()? == "rs").then(|| p.file_stem().unwrap().to_string_lossy().into_owned())
        })
        .collect();
    programs.sort();
    let mut suites: Vec<(String, Vec<String>)> = Vec::new();
    for name in &programs {
        constant(&mut code, name, &release.join(format!("{name}.wasm")));
        let suite = name.split('_').next().unwrap().to_string();
        match suites.iter_mut().find(|(s, _)| *s == suite) {
            Some((_, v)) => v.push(name.clone()),
            None => suites.push((suite, vec![name.clone()])),
        }
    }
    for (suite, names) in &suites {
        writeln!(
            code,
            "/// Calls `$m!(name)` for every `{suite}_*` test program."
        )
        .unwrap();
        writeln!(
            code,
            "#[macro_export]\nmacro_rules! foreach_{suite} {{ ($m:ident) => {{"
        )
        .unwrap();
        for n in names {
            writeln!(code, "    $m!({n});").unwrap();
        }
        writeln!(code, "}} }}").unwrap();
    }
    fs::write(out.join("programs.rs"), code).unwrap();
}

fn constant(code: &mut String, name: &str, path: &Path) {
    assert!(path.exists(), "guest build produced no {}", path.display());
    writeln!(code, "/// `{}`", path.display()).unwrap();
    writeln!(
        code,
        "pub const {}: &str = {:?};",
        name.to_uppercase(),
        path.to_str().unwrap()
    )
    .unwrap();
}

fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .unwrap();
    let sysroot = PathBuf::from(String::from_utf8(sysroot.stdout).unwrap().trim());
    if sysroot.join("lib/rustlib/wasm32-wasip2").exists() {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", "wasm32-wasip2"])
        .status();
    assert!(
        matches!(status, Ok(s) if s.success()),
        "the wasm32-wasip2 target is missing and `rustup target add wasm32-wasip2` failed"
    );
}

fn cargo_build(manifest: &Path, target_dir: &Path, what: &str) {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args([
        "build",
        "--release",
        "--target",
        "wasm32-wasip2",
        what,
        "--manifest-path",
    ])
    .arg(manifest)
    .arg("--target-dir")
    .arg(target_dir);
    // The outer build's settings are for the host, not for the guests.
    for (k, _) in env::vars() {
        let host_only = (k.starts_with("CARGO_") && k != "CARGO_HOME")
            || k.contains("RUSTFLAGS")
            || k.starts_with("RUSTC_") // RUSTC_WRAPPER, clippy's RUSTC_WORKSPACE_WRAPPER
            || k.starts_with("CLIPPY_");
        if host_only {
            cmd.env_remove(k);
        }
    }
    let status = cmd.status().expect("cannot run cargo to build the guests");
    assert!(
        status.success(),
        "building the guests in {} failed",
        manifest.display()
    );
}
