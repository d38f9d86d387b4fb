//! [`Window`]: part of a map placed in this guest's own memory, so loads
//! and stores reach the mapped pages with no host call (the WIT `windows`
//! interface).

use crate::bindings::wasm_mmap::mmap::windows as raw;
use crate::error::{Error, Result};
use crate::mmap::{Mmap, allocation_granularity};
use crate::{ErrorCode, OsError};
use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::ptr;

/// A window: `len` bytes of a map at a fixed place in this guest's memory.
///
/// It owns an aligned allocation that the host replaces with the map's
/// pages; dropping it has the host put zero-filled memory back before the
/// allocation is freed, so nothing the allocator writes there later
/// reaches the file.
///
/// A `write` map's window is shared with the file and every other process
/// mapping it; a `read` or `copy` map's window is a private copy-on-write
/// view. The bytes can change at any moment (another process writes the
/// file), so the safe accessors copy or use volatile accesses and no
/// Rust reference to the bytes exists; [`Window::as_slice`] gives one, as
/// `unsafe` as memmap2's maps.
pub struct Window {
    // Dropped before the memory is freed (see `Drop`).
    raw: Option<raw::Window>,
    ptr: *mut u8,
    layout: Layout,
}

fn invalid(message: &str) -> Error {
    Error(ErrorCode::ValueError(message.to_string()))
}

fn out_of_range() -> Error {
    invalid("window index out of range")
}

impl Window {
    /// Places `len` bytes of `map` from `offset` (a multiple of
    /// [`allocation_granularity`]) in this guest's memory. `len` is rounded
    /// up to whole granules; the range must lie in the map (its last page
    /// rounded up).
    pub fn new(map: &Mmap, offset: u64, len: u64) -> Result<Window> {
        let gran = allocation_granularity() as usize;
        let len = usize::try_from(len)
            .ok()
            .and_then(|l| l.checked_next_multiple_of(gran))
            .filter(|&l| l > 0)
            .ok_or_else(|| invalid("window length must be between 1 and the memory's size"))?;
        let layout =
            Layout::from_size_align(len, gran).map_err(|_| invalid("window length too large"))?;
        // SAFETY: `layout` has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        if ptr.is_null() {
            return Err(Error(ErrorCode::OsError(OsError {
                errno: 12,
                message: "Cannot allocate memory for the window".to_string(),
            })));
        }
        // SAFETY: `ptr` is our own allocation of `len` bytes; the host only
        // takes its address (a borrowed list is passed as a pointer).
        let memory = unsafe { std::slice::from_raw_parts(ptr, len) };
        match raw::Window::place(map.raw(), memory, offset) {
            Ok(w) => Ok(Window {
                raw: Some(w),
                ptr,
                layout,
            }),
            Err(e) => {
                // SAFETY: allocated above with `layout`, never placed.
                unsafe { dealloc(ptr, layout) };
                Err(e.into())
            }
        }
    }

    /// The whole map (its length rounded up to whole granules).
    pub fn whole(map: &Mmap) -> Result<Window> {
        Window::new(map, 0, map.len()?)
    }

    fn raw(&self) -> &raw::Window {
        self.raw.as_ref().expect("a live window")
    }

    /// The window's length in bytes (whole granules).
    #[inline]
    pub fn len(&self) -> usize {
        self.layout.size()
    }

    /// Never: a window has at least one granule.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// Where the window starts in its map.
    pub fn offset(&self) -> u64 {
        self.raw().offset()
    }

    /// The first byte, for code that works on raw memory (C, SIMD).
    pub fn as_ptr(&self) -> *mut u8 {
        self.ptr
    }

    #[inline]
    fn check(&self, off: usize, n: usize) -> Result<()> {
        match off.checked_add(n) {
            Some(end) if end <= self.len() => Ok(()),
            _ => Err(out_of_range()),
        }
    }

    /// The byte at `i` (one volatile load: what the page holds now).
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn get(&self, i: usize) -> Result<u8> {
        self.check(i, 1)?;
        // SAFETY: inside the window (checked); a volatile load through a
        // raw pointer creates no reference.
        Ok(unsafe { ptr::read_volatile(self.ptr.add(i)) })
    }

    /// Stores `v` at `i` (one volatile store).
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn set(&self, i: usize, v: u8) -> Result<()> {
        self.check(i, 1)?;
        // SAFETY: inside the window (checked); the window is writable
        // memory (a private view keeps the store to itself).
        unsafe { ptr::write_volatile(self.ptr.add(i), v) };
        Ok(())
    }

    /// Copies `buf.len()` bytes from `off` into `buf` (a snapshot: another
    /// process writing meanwhile may be seen half-way, as with any memcpy
    /// of shared memory).
    #[inline]
    pub fn read_into(&self, off: usize, buf: &mut [u8]) -> Result<()> {
        self.check(off, buf.len())?;
        // SAFETY: source inside the window, destination our own buffer;
        // raw-pointer copy, no reference to the window's bytes.
        unsafe { ptr::copy_nonoverlapping(self.ptr.add(off), buf.as_mut_ptr(), buf.len()) };
        Ok(())
    }

    /// `n` bytes from `off`, copied out.
    pub fn read_vec(&self, off: usize, n: usize) -> Result<Vec<u8>> {
        let mut v = vec![0; n];
        self.read_into(off, &mut v)?;
        Ok(v)
    }

    /// Copies `data` into the window at `off`.
    #[inline]
    pub fn write_from(&self, off: usize, data: &[u8]) -> Result<()> {
        self.check(off, data.len())?;
        // SAFETY: destination inside the window, source our own slice.
        unsafe { ptr::copy_nonoverlapping(data.as_ptr(), self.ptr.add(off), data.len()) };
        Ok(())
    }

    #[inline]
    fn word(&self, off: usize, size: usize) -> Result<*mut u8> {
        self.check(off, size)?;
        if !off.is_multiple_of(size) {
            return Err(invalid("unaligned word access"));
        }
        // SAFETY: inside the window (checked).
        Ok(unsafe { self.ptr.add(off) })
    }

    /// The aligned u32 at `off`: one load that is never cached, so a spin
    /// loop sees another process's store. Wasm has no volatile: Rust's
    /// volatile stops LLVM, but the runtime's compiler (Cranelift) may
    /// reuse an earlier load of the same address when no store or call
    /// lies between them; so this, like `get`, `set` and the other word
    /// accessors, is an out-of-line function, and a call is a barrier to
    /// it. (Copies, `read_into`/`write_from`, are snapshots.) An aligned
    /// word is moved whole (single-copy atomic on every CPU wasmtime runs
    /// on), in the host CPU's order for plain loads and stores (x86: total
    /// store order). There is no read-modify-write here: wasm32-wasip2
    /// code has no atomic instructions, so `fetch_add` or compare-exchange
    /// on a window would not be atomic against other processes; use
    /// [`Mmap::add32`]/[`Mmap::cas32`] (a host call, a real atomic on the
    /// same page) for those, and for ordering stronger than the CPU's.
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn load32(&self, off: usize) -> Result<u32> {
        let p = self.word(off, 4)?;
        // SAFETY: an aligned word inside the window; raw volatile access.
        Ok(unsafe { ptr::read_volatile(p.cast::<u32>()) })
    }

    /// Stores the aligned u32 at `off` (one volatile store; see
    /// [`Window::load32`]).
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn store32(&self, off: usize, v: u32) -> Result<()> {
        let p = self.word(off, 4)?;
        // SAFETY: as for `load32`; the window is writable memory.
        unsafe { ptr::write_volatile(p.cast::<u32>(), v) };
        Ok(())
    }

    /// The aligned u64 at `off` (one volatile load; see [`Window::load32`]).
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn load64(&self, off: usize) -> Result<u64> {
        let p = self.word(off, 8)?;
        // SAFETY: as for `load32`.
        Ok(unsafe { ptr::read_volatile(p.cast::<u64>()) })
    }

    /// Stores the aligned u64 at `off` (one volatile store).
    // Out of line on purpose: see `load32`.
    #[inline(never)]
    pub fn store64(&self, off: usize, v: u64) -> Result<()> {
        let p = self.word(off, 8)?;
        // SAFETY: as for `store32`.
        unsafe { ptr::write_volatile(p.cast::<u64>(), v) };
        Ok(())
    }

    /// The window's bytes as a slice.
    ///
    /// # Safety
    /// As with memmap2's maps: the bytes can change under the slice when
    /// another process (or another window, or an `mmap` call) writes them,
    /// which Rust's aliasing rules forbid. Use it only when nothing else
    /// writes the range while the slice lives.
    pub unsafe fn as_slice(&self) -> &[u8] {
        // SAFETY: the caller's contract; the range is our live window.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len()) }
    }

    /// The window's bytes as a mutable slice.
    ///
    /// # Safety
    /// As [`Window::as_slice`], and nothing else may read or write the
    /// range while the slice lives.
    pub unsafe fn as_mut_slice(&mut self) -> &mut [u8] {
        // SAFETY: the caller's contract; `&mut self` excludes our own
        // accessors.
        unsafe { std::slice::from_raw_parts_mut(self.ptr, self.len()) }
    }

    /// msync of the whole window (`mmap.flush()`); nothing to do for a
    /// private one.
    pub fn flush(&self) -> Result<()> {
        Ok(self.raw().flush(0, self.len() as u64)?)
    }

    /// msync of `[start, start+size)` of the window (`start` page-aligned).
    pub fn flush_range(&self, start: u64, size: u64) -> Result<()> {
        Ok(self.raw().flush(start, size)?)
    }

    /// Whether a page was replaced because the file was shortened under
    /// the window (only seen under the host's `zero` truncation policy;
    /// under `trap` the guest does not live to ask).
    pub fn replaced(&self) -> bool {
        self.raw().replaced()
    }
}

impl std::fmt::Debug for Window {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Window")
            .field("address", &self.ptr)
            .field("len", &self.len())
            .finish()
    }
}

impl Drop for Window {
    fn drop(&mut self) {
        // The host puts zero-filled memory back before this returns...
        drop(self.raw.take());
        // SAFETY: ...so the allocation is plain memory again, and it was
        // made with `layout`.
        unsafe { dealloc(self.ptr, self.layout) };
    }
}
