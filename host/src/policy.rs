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
    /// instead of allocating 100 GiB. Also sizes the largest list a guest
    /// may pass in (see [`Limits::hostcall_fuel`]).
    pub max_read_bytes: u64,
    /// Most bytes of memory (RAM or swap) the guest's anonymous maps and
    /// the named objects its host created may hold together.
    pub max_memory_bytes: u64,
    /// Most kernel mappings (VMAs) the guest's maps may hold: the kernel's
    /// per-process limit (`vm.max_map_count`, 65,530 by default) is shared
    /// with the host itself, which dies when it is reached.
    pub max_mappings: u64,
    /// Most descriptors the guest's maps may keep open.
    pub max_fds: u64,
    /// Most `wait-for-change` watches armed at once.
    pub max_watches: u64,
    /// Most windows placed at once (each also counts two kernel mappings:
    /// it splits the guest memory's). The fault handlers' table holds 4096
    /// windows for the whole process.
    pub max_windows: u64,
}

impl Default for Limits {
    /// Finite defaults, from the machine where it matters: memory is half
    /// the physical RAM, descriptors half of the process's limit (call
    /// [`raise_fd_limit`](crate::raise_fd_limit) first to raise it).
    fn default() -> Self {
        let ram = crate::sys::total_memory().unwrap_or(8 << 30);
        let fds = crate::sys::fd_limit().unwrap_or(1024);
        Limits {
            max_maps: 1024,
            max_mapped_bytes: 64 << 30,
            max_map_bytes: 16 << 30,
            max_read_bytes: 256 << 20,
            max_memory_bytes: ram / 2,
            max_mappings: 16_384,
            max_fds: (fds / 2).max(16),
            max_watches: 1024,
            max_windows: 1024,
        }
    }
}

impl Limits {
    /// What to give wasmtime's `Store::set_hostcall_fuel`: the largest list
    /// a guest may pass in one call (`write`, `find`'s needle, ...), the read
    /// limit plus room for the rest of the call. Larger lists trap in
    /// wasmtime before the host sees them (the host never allocates more).
    pub fn hostcall_fuel(&self) -> usize {
        usize::try_from(self.max_read_bytes.saturating_add(1 << 20))
            .unwrap_or(usize::MAX)
            .max(128 << 20)
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

    /// Counts what a new map (or object) holds.
    pub fn commit(&mut self, add: Footprint) {
        let u = &mut self.used;
        u.maps += add.maps;
        u.bytes += add.bytes;
        u.memory += add.memory;
        u.mappings += add.mappings;
        u.fds += add.fds;
        u.watches += add.watches;
        u.windows += add.windows;
    }

    /// Gives back what a closed map (or removed object) held.
    pub fn release(&mut self, sub: Footprint) {
        let u = &mut self.used;
        u.maps -= sub.maps;
        u.bytes -= sub.bytes;
        u.memory -= sub.memory;
        u.mappings -= sub.mappings;
        u.fds -= sub.fds;
        u.watches -= sub.watches;
        u.windows -= sub.windows;
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
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
        let u = &self.used;
        let checks = [
            (
                u.bytes,
                add.bytes,
                l.max_mapped_bytes,
                "mapped bytes",
                "max_mapped_bytes",
            ),
            (
                u.memory,
                add.memory,
                l.max_memory_bytes,
                "bytes of memory",
                "max_memory_bytes",
            ),
            (
                u.mappings,
                add.mappings,
                l.max_mappings,
                "kernel mappings",
                "max_mappings",
            ),
            (u.fds, add.fds, l.max_fds, "open descriptors", "max_fds"),
            (
                u.watches,
                add.watches,
                l.max_watches,
                "change watches",
                "max_watches",
            ),
            (
                u.windows,
                add.windows,
                l.max_windows,
                "windows",
                "max_windows",
            ),
        ];
        for (used, more, limit, what, name) in checks {
            if more > 0 && used.saturating_add(more) > limit {
                return Err(over_limit(&format!("{more} more {what}"), name, limit));
            }
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

    /// The OS-name prefix of every private namespace, before its process id.
    pub const PRIVATE_PREFIX: &str = "wasm-mmap.p";

    /// A namespace no other process has: the default, so that named shared
    /// memory is shared only between hosts told to share a namespace. It
    /// carries the process id, so objects a killed host left behind can be
    /// recognised and removed by the next one.
    pub fn private_namespace() -> String {
        static SEQ: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        format!("p{}-{nanos:08x}{seq:x}", std::process::id())
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
