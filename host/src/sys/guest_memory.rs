//! Guest linear memories the host can place windows in (Unix).
//!
//! [`GuestMemoryCreator`] is given to wasmtime (`Config::with_host_memory`):
//! each linear memory reserves its whole address range (reservation plus
//! guard) up front as `PROT_NONE` and grows with `mprotect`, so it never
//! moves and the host knows where every guest byte lives. A window is then
//! one `mmap(MAP_FIXED)` of the file over part of that range, and dropping
//! it one anonymous `mmap(MAP_FIXED)` back.
//!
//! Every memory is listed in a process-wide registry so a host call can
//! find the memory holding a guest pointer (the address wasmtime lifted
//! from the guest's `list<u8>`). The reservation is unmapped only when the
//! last `Arc` goes: a window outliving its instance (in a table dropped
//! after the store's instances) still owns valid address space.
//!
//! The fault side (a window page whose file was shortened) is `guard.c`'s.

use super::{PlaceError, Share, WindowSource};
use std::io;
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex, Once, Weak};
use wasmtime::{LinearMemory, MemoryCreator, MemoryType};

unsafe extern "C" {
    fn wmm_install_segv(pagesize: usize) -> libc::c_int;
    fn wmm_slot_claim(start: usize, end: usize, policy: libc::c_uint) -> libc::c_int;
    fn wmm_slot_flags(slot: libc::c_int) -> libc::c_uint;
    fn wmm_slot_release(slot: libc::c_int);
    fn wmm_pending_epoch() -> libc::c_ulonglong;
}

/// The slot flag: a page was replaced.
pub const REPLACED: u32 = 1;
/// The slot flag: host code touched a page the `trap` policy had made
/// inaccessible; the guest must trap at its next call.
pub const PENDING: u32 = 4;

/// Whether windows can be placed on this OS at all.
pub const WINDOWS_SUPPORTED: bool = true;

static HANDLERS: Once = Once::new();

/// Installs the window fault handlers (SIGBUS and SIGSEGV), once. Must run
/// before wasmtime installs its own (the first `Engine::new`) so that
/// wasmtime sees faults first and hands on those of host code.
pub fn install_window_handlers() {
    super::os::install_guard();
    HANDLERS.call_once(|| {
        // SAFETY: installs a handler that acts only on addresses inside
        // registered windows and defers to the previous one otherwise.
        let rc = unsafe { wmm_install_segv(super::page_size()) };
        assert_eq!(rc, 0, "cannot install the SIGSEGV handler");
    });
}

/// A count that changes whenever host code touched a page made
/// inaccessible by the `trap` policy (cheap to poll on every call).
pub fn pending_epoch() -> u64 {
    // SAFETY: an atomic load.
    unsafe { wmm_pending_epoch() }
}

/// A registered window range in the fault handlers' table.
pub struct WindowSlot(libc::c_int);

impl WindowSlot {
    /// Registers `[start, start+len)` (`zero`: the zero policy, else trap).
    /// `None` when the process-wide table (4096 windows) is full.
    fn claim(start: usize, len: usize, zero: bool) -> Option<WindowSlot> {
        // SAFETY: stores plain integers in the table.
        let i = unsafe { wmm_slot_claim(start, start + len, libc::c_uint::from(zero)) };
        (i >= 0).then_some(WindowSlot(i))
    }

    /// The slot's flags ([`REPLACED`], [`PENDING`]).
    pub fn flags(&self) -> u32 {
        // SAFETY: an atomic load of our own slot.
        unsafe { wmm_slot_flags(self.0) }
    }
}

impl Drop for WindowSlot {
    fn drop(&mut self) {
        // SAFETY: frees our own slot.
        unsafe { wmm_slot_release(self.0) }
    }
}

/// The address range of one guest memory.
struct Reservation {
    base: usize,
    total: usize,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the range `new_memory` mapped, once, when
        // nothing (memory or window) refers to it any more.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.total) };
    }
}

/// One guest linear memory made by [`GuestMemoryCreator`].
pub struct GuestMemory {
    res: Reservation,
    /// Bytes wasm may address without growing (the reservation).
    capacity: usize,
    /// The windows placed in it, `(start, len)` relative to the base, and
    /// the accessible size: both under one lock, which every placement,
    /// removal and growth takes.
    state: Mutex<MemState>,
}

struct MemState {
    size: usize,
    windows: Vec<(usize, usize)>,
}

static REGISTRY: Mutex<Vec<Weak<GuestMemory>>> = Mutex::new(Vec::new());

/// The guest memory made by [`GuestMemoryCreator`] that holds host address
/// `addr`, if any.
pub fn find_memory(addr: usize) -> Option<Arc<GuestMemory>> {
    let reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
    reg.iter()
        .filter_map(Weak::upgrade)
        .find(|m| m.res.base <= addr && addr < m.res.base + m.res.total)
}

impl GuestMemory {
    /// The host address of the memory's first byte.
    pub fn base(&self) -> usize {
        self.res.base
    }

    /// Maps `source` over `[rel, rel+len)` of this memory (page-aligned,
    /// checked by the caller) and registers it for the fault handlers.
    pub fn place(
        self: &Arc<Self>,
        rel: usize,
        len: usize,
        source: &WindowSource<'_>,
        zero_policy: bool,
    ) -> Result<PlacedWindow, PlaceError> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match rel.checked_add(len) {
            Some(end) if end <= st.size => {}
            _ => return Err(PlaceError::Outside),
        }
        if st
            .windows
            .iter()
            .any(|&(s, l)| rel < s + l && s < rel + len)
        {
            return Err(PlaceError::Overlap);
        }
        let addr = self.res.base + rel;
        let slot = WindowSlot::claim(addr, len, zero_policy).ok_or(PlaceError::TableFull)?;
        // NORESERVE: a private window's copy-on-write pages are not charged
        // up front (as the guest memory's own pages are not), so placing
        // cannot fail on commit accounting after the old pages are gone.
        let flags = match source.share {
            Share::SharedWrite => libc::MAP_SHARED,
            Share::SharedRead | Share::Private => libc::MAP_PRIVATE | libc::MAP_NORESERVE,
        };
        let offset = libc::off_t::try_from(source.file_offset)
            .map_err(|_| PlaceError::Os(io::Error::from_raw_os_error(libc::EOVERFLOW)))?;
        // SAFETY: `[addr, addr+len)` lies inside this memory's reservation
        // (checked against its accessible size under the lock) and overlaps
        // no other window; MAP_FIXED replaces the guest's anonymous pages
        // there, which only wasm and wasmtime reach through raw pointers.
        let p = unsafe {
            libc::mmap(
                addr as *mut libc::c_void,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags | libc::MAP_FIXED,
                source.file.as_raw_fd(),
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // The range may be half-replaced: put the guest's memory back.
            // If even that fails, the range may be a hole the kernel could
            // give to an unrelated host mapping that wasm would then write:
            // stop the process rather than risk it (an uncharged anonymous
            // mapping of a range that was mapped a moment ago does not fail
            // short of the kernel's own exhaustion).
            if anon_fixed(addr, len).is_err() {
                std::process::abort();
            }
            return Err(PlaceError::Os(e));
        }
        st.windows.push((rel, len));
        Ok(PlacedWindow {
            memory: self.clone(),
            rel,
            len,
            slot,
        })
    }
}

/// `mmap(MAP_FIXED)` of zero-filled private memory over `[addr, addr+len)`,
/// with the reservation's own flags (NORESERVE: never charged, so it does
/// not fail on accounting, and it merges back with its neighbours).
fn anon_fixed(addr: usize, len: usize) -> io::Result<()> {
    // SAFETY: only called on ranges inside a reservation we own (a window's
    // range, or one a failed placement may have half-replaced).
    let p = unsafe {
        libc::mmap(
            addr as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A window in place: its range is the file's until this is dropped, which
/// puts zero-filled memory back and unregisters it.
pub struct PlacedWindow {
    memory: Arc<GuestMemory>,
    rel: usize,
    len: usize,
    slot: WindowSlot,
}

impl PlacedWindow {
    /// The guest address of the first byte.
    pub fn guest_address(&self) -> usize {
        self.rel
    }

    /// The length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The fault handlers' flags for this window.
    pub fn flags(&self) -> u32 {
        self.slot.flags()
    }

    /// msync(MS_SYNC) of `[off, off+n)` of the window (bounds checked by
    /// the caller; an unaligned `off` is the OS's EINVAL).
    pub fn msync(&self, off: usize, n: usize) -> io::Result<()> {
        if off.checked_add(n).is_none_or(|end| end > self.len) {
            return Err(io::Error::from_raw_os_error(libc::EINVAL));
        }
        let addr = self.memory.res.base + self.rel + off;
        // SAFETY: inside this window's live mapping; msync reads no memory
        // on our behalf.
        let rc = unsafe { libc::msync(addr as *mut libc::c_void, n, libc::MS_SYNC) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }
}

impl Drop for PlacedWindow {
    fn drop(&mut self) {
        let mut st = self.memory.state.lock().unwrap_or_else(|e| e.into_inner());
        // Zero memory goes back before the slot is freed: from then on no
        // access to the range can fault.
        if anon_fixed(self.memory.res.base + self.rel, self.len).is_err() {
            // Cannot happen short of the kernel running out of memory for
            // the VMA: the range still maps the file. Unregister anyway; the
            // guest's next store there would reach the file, so abort the
            // process rather than corrupt it.
            std::process::abort();
        }
        st.windows.retain(|&(s, _)| s != self.rel);
    }
}

/// The [`MemoryCreator`] behind windows: memories that never move.
pub struct GuestMemoryCreator;

/// wasmtime's handle on one [`GuestMemory`].
struct Linear {
    memory: Arc<GuestMemory>,
    size: usize,
}

// SAFETY: `as_ptr` is stable for the memory's life (the reservation never
// moves), `byte_size` bytes from it are readable and writable, and growth
// stays inside the reservation.
unsafe impl LinearMemory for Linear {
    fn byte_size(&self) -> usize {
        self.size
    }

    fn byte_capacity(&self) -> usize {
        self.memory.capacity
    }

    fn grow_to(&mut self, new_size: usize) -> wasmtime::Result<()> {
        if new_size > self.memory.capacity {
            wasmtime::bail!("memory cannot grow past its reservation");
        }
        if new_size > self.size {
            let mut st = self.memory.state.lock().unwrap_or_else(|e| e.into_inner());
            protect_rw(self.memory.res.base + self.size, new_size - self.size)?;
            self.size = new_size;
            st.size = new_size;
        }
        Ok(())
    }

    fn as_ptr(&self) -> *mut u8 {
        self.memory.res.base as *mut u8
    }
}

fn protect_rw(addr: usize, len: usize) -> io::Result<()> {
    if len == 0 {
        return Ok(());
    }
    // SAFETY: a range of our own PROT_NONE reservation beyond the memory's
    // current size, holding no window (windows lie below the size).
    let rc = unsafe {
        libc::mprotect(
            addr as *mut libc::c_void,
            len,
            libc::PROT_READ | libc::PROT_WRITE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

// SAFETY: every memory returned satisfies `LinearMemory`'s contract (see
// `Linear`) and reserves at least the `reserved_size_in_bytes` plus
// `guard_size_in_bytes` that wasmtime's code relies on for elided bounds
// checks.
unsafe impl MemoryCreator for GuestMemoryCreator {
    fn new_memory(
        &self,
        ty: MemoryType,
        minimum: usize,
        maximum: Option<usize>,
        reserved_size_in_bytes: Option<usize>,
        guard_size_in_bytes: usize,
    ) -> Result<Box<dyn LinearMemory>, String> {
        let page = super::page_size();
        // A memory here can never move, so it reserves all it may grow to:
        // up to 4 GiB for a 32-bit memory even if the engine's reservation
        // is smaller (then wasmtime's code checks bounds itself).
        let most = if ty.is_64() {
            0
        } else {
            maximum.unwrap_or(1 << 32).min(1 << 32)
        };
        let capacity = reserved_size_in_bytes.unwrap_or(0).max(minimum).max(most);
        let capacity = capacity.div_ceil(page) * page;
        let total = capacity
            .checked_add(guard_size_in_bytes)
            .ok_or("memory reservation overflows")?;
        // SAFETY: a fresh inaccessible reservation at an address of the
        // kernel's choosing.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                total,
                libc::PROT_NONE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(format!(
                "cannot reserve {total} bytes: {}",
                io::Error::last_os_error()
            ));
        }
        let res = Reservation {
            base: p as usize,
            total,
        };
        protect_rw(res.base, minimum).map_err(|e| e.to_string())?;
        let memory = Arc::new(GuestMemory {
            res,
            capacity,
            state: Mutex::new(MemState {
                size: minimum,
                windows: Vec::new(),
            }),
        });
        let mut reg = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        reg.retain(|w| w.strong_count() > 0);
        reg.push(Arc::downgrade(&memory));
        drop(reg);
        Ok(Box::new(Linear {
            memory,
            size: minimum,
        }))
    }
}

/// Turns windows on in `config`: memories from [`GuestMemoryCreator`],
/// data segments copied at instantiation (wasmtime's copy-on-write images
/// need its own memories), and the fault handlers installed.
pub fn enable(config: &mut wasmtime::Config) {
    install_window_handlers();
    config.with_host_memory(Arc::new(GuestMemoryCreator));
    config.memory_init_cow(false);
}
