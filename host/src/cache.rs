//! A compiled-component cache on disk, so a guest is compiled once per
//! engine configuration instead of at every start (what `wasmtime run`'s
//! cache does), and loading of precompiled `.cwasm` files.
//!
//! An entry is keyed by SHA-256 of the engine's compatibility hash (the
//! wasmtime version, target and every setting that changes the code) and
//! the component's bytes. It is the compiled artifact followed by a
//! trailer holding its SHA-256, checked before the artifact is handed to
//! wasmtime: deserializing trusts its input, so a damaged entry (a torn
//! disk write, a bit flip) is recompiled and replaced, never loaded.
//! Entries are written to a temporary file and renamed into place, never
//! changed in place, so concurrent hosts only ever see whole entries. The
//! directory is made private to the user (0700): whoever can write it can
//! make the host run any code.
//!
//! Loading is a start-up cost, so a hit reads each file once, in chunks
//! (no copy of the component at all, only its hash), and wasmtime maps the
//! checked entry's file instead of copying it (`Component::deserialize_file`;
//! trailing bytes after the artifact do not disturb it). That the file
//! wasmtime mapped is the one checked is made sure by its identity (device,
//! inode, size) before and after.

use sha2::{Digest, Sha256};
use std::hash::{Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};
use wasmtime::component::Component;
use wasmtime::{Engine, Precompiled};

/// Ends an entry, before the artifact's SHA-256 (the trailer).
const MAGIC: &[u8; 8] = b"WMMCACH2";
const TRAILER: u64 = 8 + 32;
/// Files are hashed in chunks of this size, through one buffer.
const CHUNK: usize = 1 << 20;

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

    /// The key's hash state for a component of `len` bytes, before them.
    fn key(engine: &Engine, len: u64) -> Sha256 {
        let mut h = ShaHasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut h);
        h.0.update(env!("CARGO_PKG_VERSION").as_bytes());
        h.0.update(len.to_le_bytes());
        h.0
    }

    fn entry_of(&self, key: Sha256) -> PathBuf {
        self.dir.join(format!("{}.cwasm", hex(&key.finalize())))
    }

    fn entry(&self, engine: &Engine, wasm: &[u8]) -> PathBuf {
        let mut h = Self::key(engine, wasm.len() as u64);
        h.update(wasm);
        self.entry_of(h)
    }

    /// As [`CompileCache::load`], for the component in the file `wasm`:
    /// on a hit the component is only hashed, in chunks, never held whole.
    pub fn load_file(
        &self,
        engine: &Engine,
        wasm: &Path,
    ) -> wasmtime::Result<(Component, CacheOutcome)> {
        let mut f = std::fs::File::open(wasm)?;
        let len = f.metadata()?.len();
        let mut h = Self::key(engine, len);
        if hash_chunks(&mut f, len, &mut h)? {
            let path = self.entry_of(h);
            if let Some(c) = self.hit(engine, &path) {
                return Ok((c, CacheOutcome::Hit));
            }
        }
        // A miss, a bad entry or a file that changed while it was read:
        // the bytes compiled are the bytes the key is made of.
        self.load(engine, &std::fs::read(wasm)?)
    }

    /// The checked entry at `path` as a component, if there is one.
    fn hit(&self, engine: &Engine, path: &Path) -> Option<Component> {
        let mut f = std::fs::File::open(path).ok()?;
        let before = f.metadata().ok()?;
        let art_len = before.len().checked_sub(TRAILER)?;
        let mut sum = Sha256::new();
        if !hash_chunks(&mut f, art_len, &mut sum).ok()? {
            return None;
        }
        let mut trailer = [0u8; TRAILER as usize];
        io::Read::read_exact(&mut f, &mut trailer).ok()?;
        if &trailer[..8] != MAGIC || trailer[8..] != sum.finalize()[..] {
            return None;
        }
        // SAFETY: the file is an entry this cache stored (its checksum
        // matches), compiled by wasmtime for an engine with the same
        // compatibility hash, which wasmtime checks too; entries are
        // replaced by rename and never written in place, and the identity
        // check below makes sure wasmtime mapped the file just checked.
        let c = unsafe { Component::deserialize_file(engine, path) }.ok()?;
        let after = std::fs::metadata(path).ok()?;
        if !same_file(&before, &after) {
            return None;
        }
        // Recently used: the last to be evicted.
        if let Ok(f) = std::fs::File::options().write(true).open(path) {
            let _ = f.set_modified(std::time::SystemTime::now());
        }
        Some(c)
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
        if let Some(c) = self.hit(engine, &path) {
            return Ok((c, CacheOutcome::Hit));
        }
        let outcome = if path.exists() {
            CacheOutcome::Replaced
        } else {
            CacheOutcome::Miss
        };
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
        let mut data = Vec::with_capacity(art.len() + TRAILER as usize);
        data.extend_from_slice(art);
        data.extend_from_slice(MAGIC);
        data.extend_from_slice(&Sha256::digest(art));
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

/// Feeds the next `len` bytes of `f` to `h` through one buffer; false if
/// the file ended first.
fn hash_chunks(f: &mut std::fs::File, len: u64, h: &mut Sha256) -> io::Result<bool> {
    let mut buf = vec![0u8; CHUNK.min(usize::try_from(len).unwrap_or(CHUNK))];
    let mut left = len;
    while left > 0 {
        let n = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        match io::Read::read(f, &mut buf[..n])? {
            0 => return Ok(false),
            k => {
                h.update(&buf[..k]);
                left -= k as u64;
            }
        }
    }
    Ok(true)
}

/// Whether two looks at a path saw the same file. Entries are replaced by
/// rename, never written in place (their modification time is only the
/// LRU's clock), so the same file is the same bytes. (On Windows an open
/// file cannot be renamed over: the length is what is left to compare.)
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        if (a.dev(), a.ino()) != (b.dev(), b.ino()) {
            return false;
        }
    }
    a.len() == b.len()
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
