//! What the host allows a guest, in one place: the limits and the budget
//! that counts a guest's maps against them, the naming rule for shared
//! memory, and the rights a guest's descriptor gives a map.

use crate::error::{MmapError, over_limit, value_error};
use crate::map::{Allowance, FileRef, Footprint};
use wasmtime_wasi::OpenMode;
use wasmtime_wasi::filesystem::Descriptor;

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

/// A guest's use of the host's resources against its [`Limits`]: checked
/// before each growth ([`Allowance::admit`]), committed once the OS said
/// yes, released when a map closes.
#[derive(Debug)]
pub struct Budget {
    limits: Limits,
    used: Footprint,
}

impl Budget {
    /// Nothing used yet.
    pub fn new(limits: Limits) -> Budget {
        Budget {
            limits,
            used: Footprint::default(),
        }
    }

    /// Counts what a new map holds.
    pub fn commit(&mut self, add: Footprint) {
        self.used.maps += add.maps;
        self.used.bytes += add.bytes;
    }

    /// Gives back what a closed map held.
    pub fn release(&mut self, sub: Footprint) {
        self.used.maps -= sub.maps;
        self.used.bytes -= sub.bytes;
    }

    /// Follows a map whose holdings went from `before` to `after`.
    pub fn update(&mut self, before: Footprint, after: Footprint) {
        if before != after {
            self.release(before);
            self.commit(after);
        }
    }
}

impl Allowance for Budget {
    fn admit(&self, add: &Footprint, map_len: u64) -> Result<(), MmapError> {
        let l = &self.limits;
        if map_len > l.max_map_bytes {
            return Err(over_limit(
                &format!("a map of {map_len} bytes"),
                "max_map_bytes",
                l.max_map_bytes,
            ));
        }
        if add.maps > 0 && self.used.maps.saturating_add(add.maps) > l.max_maps as u64 {
            return Err(over_limit("another map", "max_maps", l.max_maps as u64));
        }
        if self.used.bytes.saturating_add(add.bytes) > l.max_mapped_bytes {
            return Err(over_limit(
                &format!("{} more mapped bytes", add.bytes),
                "max_mapped_bytes",
                l.max_mapped_bytes,
            ));
        }
        Ok(())
    }

    fn max_read(&self) -> usize {
        usize::try_from(self.limits.max_read_bytes).unwrap_or(usize::MAX)
    }
}

/// Longest name (guest's, namespace or allowed) for named shared memory.
pub const MAX_NAME: usize = 200;

/// Checks a name for named shared memory: the OS name is built from it, so
/// nothing in it may reach outside the prefix. `Err` says what is wrong.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() || name.len() > MAX_NAME || name.contains(['/', '\\', '\0']) {
        return Err(format!(
            "invalid shared memory name {name:?}: 1 to {MAX_NAME} bytes, without '/', '\\' or NUL"
        ));
    }
    Ok(())
}

/// Checks a namespace: a name without `.`, the separator between namespace
/// and name in the OS name, so that (namespace, name) → OS name is
/// one-to-one (else namespace `a` + name `b.c` would be namespace `a.b` +
/// name `c`).
pub fn check_namespace(namespace: &str) -> Result<(), String> {
    check_name(namespace)?;
    if namespace.contains('.') {
        return Err(format!(
            "invalid shared memory namespace {namespace:?}: '.' separates it from the names in it"
        ));
    }
    Ok(())
}

/// How guests' shared memory names become OS names.
#[derive(Clone, Debug)]
pub struct ShmNames {
    namespace: String,
    allow: Vec<String>,
}

impl ShmNames {
    /// Names in `namespace`, plus the OS names `allow` lists as they are.
    pub fn new(namespace: String, allow: Vec<String>) -> ShmNames {
        ShmNames { namespace, allow }
    }

    /// A namespace no other process has: the default, so that named shared
    /// memory is shared only between hosts told to share a namespace.
    pub fn private_namespace() -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("p{}-{nanos:08x}", std::process::id())
    }

    /// The OS name for a guest's name: in the namespace, unless allowed as
    /// is.
    pub fn os_name(&self, name: &str) -> Result<String, MmapError> {
        check_name(name).map_err(|e| value_error(&e))?;
        if self.allow.iter().any(|a| a == name) {
            return Ok(name.to_string());
        }
        Ok(format!("wasm-mmap.{}.{name}", self.namespace))
    }
}

/// The OS file behind a guest's descriptor, with the rights the descriptor
/// and its preopen give a map of it.
pub fn file_rights(desc: &Descriptor) -> FileRef {
    match desc {
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
    }
}
