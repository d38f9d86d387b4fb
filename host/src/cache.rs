//! A compiled-component cache on disk, so a guest is compiled once per
//! engine configuration instead of at every start (what `wasmtime run`'s
//! cache does), and loading of precompiled `.cwasm` files.
//!
//! An entry is keyed by SHA-256 of the engine's compatibility hash (the
//! wasmtime version, target and every setting that changes the code) and
//! the component's bytes. It holds a SHA-256 of the compiled artifact,
//! checked before the artifact is handed to wasmtime: deserializing trusts
//! its input, so a damaged entry (a torn disk write, a bit flip) is
//! recompiled and replaced, never loaded. Entries are written to a
//! temporary file and renamed into place, so concurrent hosts only ever
//! see whole entries. The directory is made private to the user (0700):
//! whoever can write it can make the host run any code.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::{Engine, Precompiled};

const MAGIC: &[u8; 8] = b"WMMCACH1";

/// What [`CompileCache::load`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheOutcome {
    /// Loaded a checked entry: nothing was compiled.
    Hit,
    /// No entry: compiled and stored.
    Miss,
    /// The entry failed its check (or wasmtime refused it): compiled
    /// again and replaced.
    Replaced,
}

/// A directory of compiled components.
#[derive(Clone, Debug)]
pub struct CompileCache {
    dir: PathBuf,
    max_bytes: u64,
}

/// The default bound on a cache directory's size: past it, the entries
/// used least recently go first.
pub const DEFAULT_CACHE_MAX_BYTES: u64 = 1 << 30;

struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0 // only `write` is used
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CompileCache {
    /// A cache in `dir` (created on first store), bounded by
    /// `$WASM_MMAP_CACHE_MAX_BYTES` (default [`DEFAULT_CACHE_MAX_BYTES`]).
    pub fn new(dir: impl Into<PathBuf>) -> CompileCache {
        let max_bytes = std::env::var("WASM_MMAP_CACHE_MAX_BYTES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_CACHE_MAX_BYTES);
        CompileCache {
            dir: dir.into(),
            max_bytes,
        }
    }

    /// Bounds the directory's size (entries used least recently go first;
    /// the entry just stored always stays).
    pub fn max_bytes(mut self, n: u64) -> CompileCache {
        self.max_bytes = n;
        self
    }

    /// The per-user default: `$WASM_MMAP_CACHE_DIR`, else
    /// `$XDG_CACHE_HOME/wasm-mmap`, else `~/.cache/wasm-mmap`
    /// (`%LOCALAPPDATA%\wasm-mmap` on Windows). `None` without a home.
    pub fn user_default() -> Option<CompileCache> {
        let env = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        if let Some(d) = env("WASM_MMAP_CACHE_DIR") {
            return Some(CompileCache::new(d));
        }
        let base = if cfg!(windows) {
            env("LOCALAPPDATA")
        } else {
            env("XDG_CACHE_HOME").or_else(|| env("HOME").map(|h| h.join(".cache")))
        };
        base.map(|b| CompileCache::new(b.join("wasm-mmap")))
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        h.0.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.0.update((wasm.len() as u64).to_le_bytes());
        h.0.update(wasm);
        self.dir.join(format!("{}.cwasm", hex(&h.0.finalize())))
    }

    /// The component `wasm` compiled for `engine`: from the cache when a
    /// checked entry is there, else compiled and stored. A cache that
    /// cannot be written (read-only, full) only costs the compilation.
    pub fn load(
        &self,
        engine: &Engine,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let path = self.entry(engine, wasm);
        let mut outcome = CacheOutcome::Miss;
        if let Ok(bytes) = std::fs::read(&path) {
            match checked_artifact(&bytes) {
                // SAFETY: the artifact is one this cache stored (its
                // checksum matches), compiled by wasmtime for an engine with
                // the same compatibility hash; wasmtime checks that too.
                Some(art) => match unsafe { Component::deserialize(engine, art) } {
                    Ok(c) => {
                        // Recently used: the last to be evicted.
                        if let Ok(f) = std::fs::File::options().write(true).open(&path) {
                            let _ = f.set_modified(std::time::SystemTime::now());
                        }
                        return Ok((c, CacheOutcome::Hit));
                    }
                    Err(_) => outcome = CacheOutcome::Replaced,
                },
                None => outcome = CacheOutcome::Replaced,
            }
        }
        let art = engine.precompile_component(wasm)?;
        if self.store(&path, &art).is_ok() {
            self.evict(&path);
        }
        // SAFETY: compiled a moment ago by this very engine.
        let c = unsafe { Component::deserialize(engine, &art)? };
        Ok((c, outcome))
    }

    fn store(&self, path: &Path, art: &[u8]) -> io::Result<()> {
        create_private_dir(&self.dir)?;
        let mut data = Vec::with_capacity(art.len() + 40);
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(&Sha256::digest(art));
        data.extend_from_slice(art);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let tmp = path.with_extension(format!("tmp.{}.{nanos}", std::process::id()));
        std::fs::write(&tmp, &data)?;
        std::fs::rename(&tmp, path).inspect_err(|_| {
            let _ = std::fs::remove_file(&tmp);
        })
    }
}

impl CompileCache {
    /// Removes the entries used least recently until the directory holds
    /// at most `max_bytes` (never `keep`, the entry just stored). Races
    /// with other hosts only cost a recompilation.
    fn evict(&self, keep: &Path) {
        let Ok(dir) = std::fs::read_dir(&self.dir) else {
            return;
        };
        let mut entries: Vec<(std::time::SystemTime, u64, PathBuf)> = dir
            .filter_map(|e| {
                let e = e.ok()?;
                let path = e.path();
                if path.extension()? != "cwasm" {
                    return None;
                }
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), path))
            })
            .collect();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        entries.sort();
        for (_, len, path) in entries {
            if total <= self.max_bytes {
                break;
            }
            if path != keep && std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }
}

/// The artifact in a cache entry, if the entry is whole and its checksum
/// matches.
fn checked_artifact(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    if rest.len() < 32 {
        return None;
    }
    let (sum, art) = rest.split_at(32);
    (Sha256::digest(art).as_slice() == sum).then_some(art)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Whether `bytes` are a precompiled component (`wasm-mmap compile`,
/// `wasmtime compile`) rather than a WebAssembly binary.
pub fn is_precompiled_component(bytes: &[u8]) -> bool {
    Engine::detect_precompiled(bytes) == Some(Precompiled::Component)
}

/// Loads a precompiled component.
///
/// # Safety
/// As [`Component::deserialize`]: `bytes` must come from a trusted
/// `precompile_component` (this loads and runs native code as it is).
/// wasmtime refuses artifacts from another version or configuration with
/// an error, which is the case a user meets.
pub unsafe fn load_precompiled(engine: &Engine, bytes: &[u8]) -> wasmtime::Result<Component> {
    // SAFETY: the caller's contract.
    unsafe { Component::deserialize(engine, bytes) }
}
