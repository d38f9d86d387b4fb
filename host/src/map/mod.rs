//! [`Mmap`]: one Python `mmap.mmap` object over an OS mapping, every method
//! with CPython's argument checks, in CPython's order, with its messages.
//!
//! Nothing here knows about wasmtime or the WIT bindings, and nothing here
//! is `unsafe` (the OS layer, `sys`, owns every raw access): the same code
//! is driven by the component bindings, by tests and by a fuzzer.

#![forbid(unsafe_code)]

mod construct;
pub mod pyindex;
mod search;
mod types;

pub use crate::sys::Waited as WaitResult;
pub use construct::FileRef;
pub use types::{Access, Advice, CreateMode, MapFlags, MapOptions, Prot, Whence};

use crate::errno::{EACCES, EBADF, EINVAL, ENOMEM, ENOSPC};
use crate::error::{
    MmapError, closed, efault, index_error, os_error, over_limit, overflow_error, type_error,
    value_error,
};
use crate::sys::{self, AtomicOp, Fault, Region, Share};
use std::time::Duration;

/// The longest single `wait32` / `wait-for-change`: a guest loops for more,
/// and the host is never blocked past this bound.
const MAX_WAIT: Duration = Duration::from_secs(60);

/// Largest block `find`/`rfind`/`readline` copy out of the map at once: they
/// search copies, never the live pages.
const SEARCH_BLOCK: usize = 64 * 1024;

/// What an open map holds of the host's resources; all zero once closed.
/// The host's budget (`policy.rs`) adds these up across a guest's maps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Open maps: 1, or 0 once closed.
    pub maps: u64,
    /// Bytes mapped (address space).
    pub bytes: u64,
    /// Bytes of memory (RAM or swap) it consumes: anonymous memory, and the
    /// named objects a host created (counted by the host, not the map).
    pub memory: u64,
    /// Kernel mappings (VMAs): one per map, up to two more per `madvise`
    /// that may split it.
    pub mappings: u64,
    /// Descriptors it keeps open (the file's, for a file or named map).
    pub fds: u64,
    /// Change watches (`wait-for-change`).
    pub watches: u64,
    /// Windows placed in the guest's memory.
    pub windows: u64,
}

impl Footprint {
    /// A new map of `len` bytes; `anonymous` memory consumes RAM, a file
    /// map keeps its file's descriptor open.
    pub fn of_new_map(len: u64, anonymous: bool) -> Footprint {
        Footprint {
            maps: 1,
            bytes: len,
            memory: if anonymous { len } else { 0 },
            mappings: 1,
            fds: u64::from(!anonymous),
            watches: 0,
            windows: 0,
        }
    }
}

/// What the host allows: asked after Python's own argument checks, just
/// before the OS is (so Python's errors always win over a host limit).
pub trait Allowance {
    /// Refuses (typically ENOMEM, naming the limit) a growth by `add`.
    /// `map_len` is the map's length after the growth (a new map's, or a
    /// resized one's).
    fn admit(&self, add: &Footprint, map_len: u64) -> Result<(), MmapError>;
    /// Most bytes one call may copy out (the host allocates that much).
    fn max_read(&self) -> usize;
}

/// No limits: for tests and tools that drive [`Mmap`] directly.
pub struct Unlimited;

impl Allowance for Unlimited {
    fn admit(&self, _: &Footprint, _: u64) -> Result<(), MmapError> {
        Ok(())
    }
    fn max_read(&self) -> usize {
        usize::MAX
    }
}

/// A memory map with Python's `mmap.mmap` semantics. Closed when dropped.
pub struct Mmap {
    open: Option<Open>,
}

/// The state of an open map.
struct Open {
    region: Region,
    share: Share,
    access: Access,
    offset: u64,
    /// The cursor; may exceed the length after a shrinking `resize`.
    pos: usize,
    /// Most bytes one call may copy out.
    max_read: usize,
    /// Named shared memory: where the OS gives no file (Windows), `size()`
    /// is the map's own length, as CPython answers for a tagname map.
    named: bool,
    /// `wait-for-change`'s watch on the file, armed by its first call.
    watch: Option<sys::ChangeWatch>,
    /// Kernel mappings `madvise` may have split off (counted, never more
    /// than one per page).
    split_mappings: u64,
    /// Made with `prot` neither read nor write (`PROT_NONE`): a map that
    /// exists (as a guard, say) but whose bytes nothing may touch.
    inaccessible: bool,
}

/// What a fault in a guarded access means to the guest.
fn fault(f: Fault) -> MmapError {
    match f {
        Fault::Vanished => efault(),
        Fault::DiskFull => os_error(ENOSPC),
        Fault::OutOfRange => os_error(EINVAL),
    }
}

impl Mmap {
    fn open(&self) -> Result<&Open, MmapError> {
        self.open.as_ref().ok_or_else(closed)
    }

    fn open_mut(&mut self) -> Result<&mut Open, MmapError> {
        self.open.as_mut().ok_or_else(closed)
    }

    /// The open map, if writes are allowed (Python's `is_writable`).
    fn writable(&mut self) -> Result<&mut Open, MmapError> {
        let o = self.open_mut()?;
        if o.access == Access::Read {
            return Err(type_error("mmap can't modify a readonly memory map."));
        }
        Ok(o)
    }

    /// What the map holds of the host's resources.
    pub fn footprint(&self) -> Footprint {
        self.open.as_ref().map_or(Footprint::default(), |o| {
            let anonymous = o.region.file().is_none() && !o.named;
            let mut f = Footprint::of_new_map(o.region.len() as u64, anonymous);
            f.mappings += o.split_mappings;
            f.watches = u64::from(o.watch.is_some());
            f
        })
    }

    /// `m.close()`.
    pub fn close(&mut self) {
        self.open = None;
    }

    /// `m.closed`.
    pub fn closed(&self) -> bool {
        self.open.is_none()
    }

    /// `len(m)` (never 0 for an open map, so no `is_empty`).
    #[allow(clippy::len_without_is_empty)]
    pub fn len(&self) -> Result<u64, MmapError> {
        Ok(self.open()?.region.len() as u64)
    }

    /// `m.size()`: the file's current size.
    pub fn size(&self) -> Result<u64, MmapError> {
        let o = self.open()?;
        match o.region.file() {
            Some(f) => Ok(sys::file_size(f)?),
            None if o.named => Ok(o.region.len() as u64),
            None => Err(os_error(EBADF)),
        }
    }

    /// `m.tell()`.
    pub fn tell(&self) -> Result<u64, MmapError> {
        Ok(self.open()?.pos as u64)
    }

    /// `m.seek(pos, whence)`, returning the new position (Python 3.13).
    pub fn seek(&mut self, pos: i64, whence: Whence) -> Result<u64, MmapError> {
        let o = self.open_mut()?;
        let base: i128 = match whence {
            Whence::Set => 0,
            Whence::Cur => o.pos as i128,
            Whence::End => o.region.len() as i128,
        };
        let target = base + i128::from(pos);
        if target < 0 || target > o.region.len() as i128 {
            return Err(value_error("seek out of range"));
        }
        o.pos = target as usize;
        Ok(o.pos as u64)
    }

    /// `m.read(n)`.
    pub fn read(&mut self, n: Option<i64>) -> Result<Vec<u8>, MmapError> {
        let o = self.open_mut()?;
        let remaining = o.region.len().saturating_sub(o.pos);
        let n = match n {
            Some(k) if k >= 0 => remaining.min(usize::try_from(k).unwrap_or(usize::MAX)),
            _ => remaining,
        };
        let out = o.copy_out(o.pos, n)?;
        o.pos += n;
        Ok(out)
    }

    /// `m[offset:offset+n]`, clipped like a slice, without the cursor.
    pub fn read_at(&self, offset: u64, n: u64) -> Result<Vec<u8>, MmapError> {
        let o = self.open()?;
        let len = o.region.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(len - start);
        o.copy_out(start, n)
    }

    /// `m[offset:offset+len(data)] = data` without the cursor.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<u64, MmapError> {
        let o = self.writable()?;
        let len = o.region.len() as u64;
        if offset > len || len - offset < data.len() as u64 {
            return Err(value_error("data out of range"));
        }
        o.copy_in(offset as usize, data)?;
        Ok(data.len() as u64)
    }

    /// `m.read_byte()`.
    pub fn read_byte(&mut self) -> Result<u8, MmapError> {
        let o = self.open_mut()?;
        if o.pos >= o.region.len() {
            return Err(value_error("read byte out of range"));
        }
        let b = o.load(o.pos)?;
        o.pos += 1;
        Ok(b)
    }

    /// `m.readline()`.
    pub fn readline(&mut self) -> Result<Vec<u8>, MmapError> {
        let o = self.open_mut()?;
        let len = o.region.len();
        if o.pos >= len {
            return Ok(Vec::new());
        }
        let end = match o.search(b"\n", o.pos, len, Direction::Forward)? {
            Some(i) => i + 1,
            None => len,
        };
        let out = o.copy_out(o.pos, end - o.pos)?;
        o.pos = end;
        Ok(out)
    }

    /// `m.write(data)`: returns the count written.
    pub fn write(&mut self, data: &[u8]) -> Result<u64, MmapError> {
        let o = self.writable()?;
        let len = o.region.len();
        if o.pos > len || len - o.pos < data.len() {
            return Err(value_error("data out of range"));
        }
        o.copy_in(o.pos, data)?;
        o.pos += data.len();
        Ok(data.len() as u64)
    }

    /// `m.write_byte(value)`.
    pub fn write_byte(&mut self, value: u8) -> Result<(), MmapError> {
        let o = self.writable()?;
        if o.pos >= o.region.len() {
            return Err(value_error("write byte out of range"));
        }
        o.store(o.pos, value)?;
        o.pos += 1;
        Ok(())
    }

    /// `m.find(sub, start, end)`; -1 when absent.
    pub fn find(&self, sub: &[u8], start: Option<i64>, end: Option<i64>) -> Result<i64, MmapError> {
        self.find_in(sub, start, end, Direction::Forward)
    }

    /// `m.rfind(sub, start, end)`; -1 when absent.
    pub fn rfind(
        &self,
        sub: &[u8],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<i64, MmapError> {
        self.find_in(sub, start, end, Direction::Backward)
    }

    fn find_in(
        &self,
        sub: &[u8],
        start: Option<i64>,
        end: Option<i64>,
        dir: Direction,
    ) -> Result<i64, MmapError> {
        let o = self.open()?;
        let len = o.region.len();
        let start = start.map_or(o.pos.min(len), |s| pyindex::clamp(s, len));
        let end = end.map_or(len, |e| pyindex::clamp(e, len));
        if start > end {
            return Ok(-1);
        }
        if sub.is_empty() {
            return Ok(match dir {
                Direction::Forward => start,
                Direction::Backward => end,
            } as i64);
        }
        Ok(o.search(sub, start, end, dir)?.map_or(-1, |i| i as i64))
    }

    /// Where a window of `len` bytes at `offset` of this map gets its pages
    /// (the rules of the WIT's `window.place`, but for the guest memory).
    pub fn window_source(&self, offset: u64, len: u64) -> Result<sys::WindowSource<'_>, MmapError> {
        let o = self.open()?;
        o.bytes()?;
        let Some(file) = o.region.file() else {
            return Err(os_error(crate::errno::EOPNOTSUPP));
        };
        let gran = sys::allocation_granularity() as u64;
        if !offset.is_multiple_of(gran) {
            return Err(value_error(
                "window offset must be a multiple of allocation-granularity()",
            ));
        }
        let page = sys::page_size() as u64;
        let end = (o.region.len() as u64).div_ceil(page) * page;
        if offset.checked_add(len).is_none_or(|e| e > end) {
            return Err(value_error("window range past the end of the map"));
        }
        Ok(sys::WindowSource {
            file: file.as_ref(),
            file_offset: o.offset + offset,
            share: o.share,
        })
    }

    /// `m.flush(offset, size)`.
    pub fn flush(&self, offset: Option<i64>, size: Option<i64>) -> Result<(), MmapError> {
        let o = self.open()?;
        let len = o.region.len() as i64;
        let offset = offset.unwrap_or(0);
        let size = size.unwrap_or(len);
        if size < 0 || offset < 0 || len - offset < size {
            return Err(value_error("flush values out of range"));
        }
        if matches!(o.access, Access::Read | Access::Copy) {
            return Ok(());
        }
        Ok(o.region.flush(offset as usize, size as usize)?)
    }

    /// `m.madvise(option, start, length)`. Advice that changes a mapping's
    /// flags on part of it splits the kernel mapping: `allow` admits the
    /// (up to) two mappings it may add.
    pub fn madvise(
        &mut self,
        option: Advice,
        start: Option<i64>,
        length: Option<i64>,
        allow: &impl Allowance,
    ) -> Result<(), MmapError> {
        let o = self.open_mut()?;
        let len = o.region.len() as i64;
        let start = start.unwrap_or(0);
        if start < 0 || start >= len {
            return Err(value_error("madvise start out of bounds"));
        }
        let mut length = length.unwrap_or(len - start);
        if length < 0 {
            return Err(value_error("madvise length invalid"));
        }
        if i64::MAX - start < length {
            return Err(overflow_error("madvise length too large"));
        }
        if start + length > len {
            length = len - start;
        }
        let advice = sys::advice_value(option as usize).ok_or_else(|| os_error(EINVAL))?;
        let pages = (len as u64).div_ceil(sys::page_size() as u64);
        let splits = !matches!(option, Advice::WillNeed | Advice::DontNeed | Advice::Free)
            && (start, length) != (0, len);
        let add = if splits {
            2.min(pages.saturating_sub(1 + o.split_mappings))
        } else {
            0
        };
        if add > 0 {
            let f = Footprint {
                mappings: add,
                ..Footprint::default()
            };
            allow.admit(&f, len as u64)?;
        }
        o.region.advise(start as usize, length as usize, advice)?;
        o.split_mappings += add;
        Ok(())
    }

    /// `m.move(dest, src, count)`.
    pub fn move_(&mut self, dest: i64, src: i64, count: i64) -> Result<(), MmapError> {
        let o = self.writable()?;
        let len = o.region.len() as i64;
        if dest < 0 || src < 0 || count < 0 || len - dest < count || len - src < count {
            return Err(value_error("source, destination, or count out of range"));
        }
        let (dest, src, count) = (dest as usize, src as usize, count as usize);
        if count == 0 || dest == src {
            // Touches no byte, so it cannot fault; and a copy-on-write page
            // is not copied (glibc's memmove skips `dest == src` only above
            // a size threshold, so leaving it to libc would depend on it).
            return Ok(());
        }
        let r = o.bytes()?.move_within(dest, src, count);
        o.checked(r)
    }

    /// `m.resize(newsize)`; growth is admitted by `allow` after Python's
    /// checks and before the file or the mapping changes.
    pub fn resize(&mut self, newsize: i64, allow: &impl Allowance) -> Result<(), MmapError> {
        let o = self.open_mut()?;
        if !matches!(o.access, Access::Write | Access::Default) || o.share == Share::SharedRead {
            return Err(type_error(
                "mmap can't resize a readonly or copy-on-write memory map.",
            ));
        }
        let newsize = u64::try_from(newsize)
            .ok()
            .filter(|n| {
                n.checked_add(o.offset)
                    .is_some_and(|e| e <= i64::MAX as u64)
            })
            .ok_or_else(|| value_error("new size out of range"))?;
        let old = o.region.len() as u64;
        let grow = newsize.saturating_sub(old);
        let anonymous = o.region.file().is_none() && !o.named;
        let add = Footprint {
            bytes: grow,
            memory: if anonymous { grow } else { 0 },
            ..Footprint::default()
        };
        allow.admit(&add, newsize)?;
        if let Some(f) = o.region.file() {
            sys::set_len(f, o.offset + newsize)?;
        }
        // Like mremap(2) in CPython: a zero-length map is EINVAL (after the
        // file was already truncated, exactly as CPython leaves it).
        if newsize == 0 {
            return Err(os_error(EINVAL));
        }
        let new_len = usize::try_from(newsize).map_err(|_| os_error(ENOMEM))?;
        o.region.resize(new_len, o.offset, o.share)?;
        Ok(())
    }

    /// `m[index]`.
    pub fn get(&self, index: i64) -> Result<u8, MmapError> {
        let o = self.open()?;
        let i = o.index(index)?;
        o.load(i)
    }

    /// `m[index] = value`.
    pub fn set(&mut self, index: i64, value: u8) -> Result<(), MmapError> {
        let o = self.writable()?;
        let i = o.index(index)?;
        o.store(i, value)
    }

    /// `m[start:stop:step]`.
    pub fn get_slice(
        &self,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    ) -> Result<Vec<u8>, MmapError> {
        let o = self.open()?;
        let s = slice(o.region.len(), start, stop, step)?;
        if s.count == 0 {
            return Ok(Vec::new());
        }
        if s.step == 1 {
            return o.copy_out(s.first as usize, s.count);
        }
        o.check_read(s.count)?;
        // `first` is in [0, len) and, with count > 1, |step| < len, so the
        // step fits an isize (a lone element never uses the step).
        let step = isize::try_from(s.step).unwrap_or(0);
        let r = o.bytes()?.gather(s.first as usize, step, s.count);
        o.checked(r)
    }

    /// `m[start:stop:step] = data`.
    pub fn set_slice(
        &mut self,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
        data: &[u8],
    ) -> Result<(), MmapError> {
        let o = self.writable()?;
        let s = slice(o.region.len(), start, stop, step)?;
        if data.len() != s.count {
            return Err(index_error("mmap slice assignment is wrong size"));
        }
        if s.count == 0 {
            return Ok(());
        }
        if s.step == 1 {
            return o.copy_in(s.first as usize, data);
        }
        let step = isize::try_from(s.step).unwrap_or(0);
        let r = o.bytes()?.scatter(s.first as usize, step, data);
        o.checked(r)
    }

    /// Atomic load of the 4-aligned u32 at `offset`.
    pub fn atomic_load32(&mut self, offset: u64) -> Result<u32, MmapError> {
        self.word_op(AtomicOp::Load, offset, 4, |r, i| {
            r.atomic32(AtomicOp::Load, i, 0, 0)
        })
    }

    /// Atomic store to the u32 at `offset`.
    pub fn atomic_store32(&mut self, offset: u64, value: u32) -> Result<(), MmapError> {
        self.word_op(AtomicOp::Store, offset, 4, |r, i| {
            r.atomic32(AtomicOp::Store, i, value, 0)
        })
        .map(drop)
    }

    /// Compare-and-exchange on the u32 at `offset`; returns the old value.
    pub fn atomic_cas32(&mut self, offset: u64, expected: u32, new: u32) -> Result<u32, MmapError> {
        self.word_op(AtomicOp::Cas, offset, 4, |r, i| {
            r.atomic32(AtomicOp::Cas, i, expected, new)
        })
    }

    /// Fetch-add on the u32 at `offset`; returns the old value.
    pub fn atomic_add32(&mut self, offset: u64, delta: u32) -> Result<u32, MmapError> {
        self.word_op(AtomicOp::Add, offset, 4, |r, i| {
            r.atomic32(AtomicOp::Add, i, delta, 0)
        })
    }

    /// Atomic load of the 8-aligned u64 at `offset`.
    pub fn atomic_load64(&mut self, offset: u64) -> Result<u64, MmapError> {
        self.word_op(AtomicOp::Load, offset, 8, |r, i| {
            r.atomic64(AtomicOp::Load, i, 0, 0)
        })
    }

    /// Atomic store to the u64 at `offset`.
    pub fn atomic_store64(&mut self, offset: u64, value: u64) -> Result<(), MmapError> {
        self.word_op(AtomicOp::Store, offset, 8, |r, i| {
            r.atomic64(AtomicOp::Store, i, value, 0)
        })
        .map(drop)
    }

    /// Compare-and-exchange on the u64 at `offset`; returns the old value.
    pub fn atomic_cas64(&mut self, offset: u64, expected: u64, new: u64) -> Result<u64, MmapError> {
        self.word_op(AtomicOp::Cas, offset, 8, |r, i| {
            r.atomic64(AtomicOp::Cas, i, expected, new)
        })
    }

    /// Fetch-add on the u64 at `offset`; returns the old value.
    pub fn atomic_add64(&mut self, offset: u64, delta: u64) -> Result<u64, MmapError> {
        self.word_op(AtomicOp::Add, offset, 8, |r, i| {
            r.atomic64(AtomicOp::Add, i, delta, 0)
        })
    }

    /// Runs `f` on the `size`-aligned word at `offset`, through the same
    /// checks as every other access (closed, read-only unless loading,
    /// alignment and range, the fault guard).
    fn word_op<T>(
        &mut self,
        op: AtomicOp,
        offset: u64,
        size: u64,
        f: impl FnOnce(&Region, usize) -> Result<T, Fault>,
    ) -> Result<T, MmapError> {
        let o = if op == AtomicOp::Load {
            self.open_mut()?
        } else {
            self.writable()?
        };
        let i = o.word(offset, size)?;
        let r = f(o.bytes()?, i);
        o.checked(r)
    }

    /// Blocks while the u32 at `offset` equals `expected` (futex wait),
    /// at most `timeout_ns` (capped at [`MAX_WAIT`]).
    pub fn wait32(
        &self,
        offset: u64,
        expected: u32,
        timeout_ns: u64,
    ) -> Result<WaitResult, MmapError> {
        let o = self.open()?;
        let i = o.word(offset, 4)?;
        let timeout = Duration::from_nanos(timeout_ns).min(MAX_WAIT);
        Ok(o.bytes()?.wait32(i, expected, timeout)?)
    }

    /// Wakes up to `count` waiters on the u32 at `offset`.
    pub fn notify(&self, offset: u64, count: u32) -> Result<u32, MmapError> {
        let o = self.open()?;
        let i = o.word(offset, 4)?;
        Ok(o.region.notify(i, count)?)
    }

    /// Blocks until the mapped file changes (or `timeout_ns`, capped at
    /// [`MAX_WAIT`]); the first call arms the watch (admitted by `allow`)
    /// and answers true.
    pub fn wait_for_change(
        &mut self,
        timeout_ns: u64,
        allow: &impl Allowance,
    ) -> Result<bool, MmapError> {
        let o = self.open_mut()?;
        let Some(file) = o.region.file() else {
            return Err(os_error(EBADF));
        };
        let timeout = Duration::from_nanos(timeout_ns).min(MAX_WAIT);
        match &mut o.watch {
            Some(w) => Ok(w.wait(timeout)?),
            None => {
                let f = Footprint {
                    watches: 1,
                    ..Footprint::default()
                };
                allow.admit(&f, o.region.len() as u64)?;
                o.watch = Some(sys::ChangeWatch::new(file)?);
                Ok(true)
            }
        }
    }

    /// `repr(m)` in Python 3.13's format.
    pub fn repr(&self) -> String {
        match &self.open {
            None => "<mmap.mmap closed=True>".to_string(),
            Some(o) => format!(
                "<mmap.mmap closed=False, access={}, length={}, pos={}, offset={}>",
                match o.access {
                    Access::Default => "ACCESS_DEFAULT",
                    Access::Read => "ACCESS_READ",
                    Access::Write => "ACCESS_WRITE",
                    Access::Copy => "ACCESS_COPY",
                },
                o.region.len(),
                o.pos,
                o.offset
            ),
        }
    }
}

/// Which way `find` searches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Forward,
    Backward,
}

/// Python's slice of a map of `len` bytes; a zero step is its ValueError.
fn slice(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Result<pyindex::Slice, MmapError> {
    pyindex::slice(len, start, stop, step).ok_or_else(|| value_error("slice step cannot be zero"))
}

impl Open {
    /// The index of the aligned `size`-byte word at `offset`.
    fn word(&self, offset: u64, size: u64) -> Result<usize, MmapError> {
        if !offset.is_multiple_of(size) {
            return Err(value_error(&format!(
                "atomic offset must be a multiple of {size}"
            )));
        }
        match offset.checked_add(size) {
            Some(end) if end <= self.region.len() as u64 => Ok(offset as usize),
            _ => Err(index_error("atomic offset out of range")),
        }
    }

    /// Python's index rule for `m[i]`.
    fn index(&self, index: i64) -> Result<usize, MmapError> {
        pyindex::index(index, self.region.len())
            .ok_or_else(|| index_error("mmap index out of range"))
    }

    /// The answer of a guarded access. A read under a concurrent
    /// truncation has the semantics of memory, as in CPython: it returns
    /// what the pages held at that moment (the part of a file's last page
    /// past its end reads as zeros); only a page that no longer exists at
    /// all faults, and that fault becomes EFAULT (where CPython dies of
    /// SIGBUS). No file-size check is made per access: it cannot close the
    /// race (the file can shrink right after it) and it would cost a
    /// system call on every call.
    fn checked<T>(&self, r: Result<T, Fault>) -> Result<T, MmapError> {
        r.map_err(fault)
    }

    /// Refuses to copy out more than the read limit.
    fn check_read(&self, n: usize) -> Result<(), MmapError> {
        if n > self.max_read {
            return Err(over_limit(
                &format!("copying out {n} bytes"),
                "max_read_bytes",
                self.max_read as u64,
            ));
        }
        Ok(())
    }

    /// The region, to touch its bytes: a `PROT_NONE` map refuses with
    /// EACCES (where CPython's process dies of SIGSEGV).
    fn bytes(&self) -> Result<&Region, MmapError> {
        if self.inaccessible {
            return Err(os_error(EACCES));
        }
        Ok(&self.region)
    }

    /// Copies `[off, off+n)` out of the map into a new vector.
    fn copy_out(&self, off: usize, n: usize) -> Result<Vec<u8>, MmapError> {
        if n == 0 {
            return Ok(Vec::new());
        }
        self.check_read(n)?;
        let r = self.bytes()?.read_vec(off, n);
        self.checked(r)
    }

    /// Copies a search block out: not subject to the read limit, since
    /// its size is bounded by the block and the needle the guest passed.
    fn copy_block(&self, off: usize, n: usize, buf: &mut Vec<u8>) -> Result<(), MmapError> {
        let r = self.bytes()?.read_to(off, n, buf);
        self.checked(r)
    }

    /// Copies `data` into the map at `off`.
    fn copy_in(&self, off: usize, data: &[u8]) -> Result<(), MmapError> {
        if data.is_empty() {
            return Ok(());
        }
        let r = self.bytes()?.write_from(off, data);
        self.checked(r)
    }

    fn load(&self, i: usize) -> Result<u8, MmapError> {
        let r = self.bytes()?.read_byte(i);
        self.checked(r)
    }

    fn store(&self, i: usize, v: u8) -> Result<(), MmapError> {
        let r = self.bytes()?.write_from(i, &[v]);
        self.checked(r)
    }

    /// First (or last) index of non-empty `needle` in `[start, end)`, in
    /// linear time, searching block-wise copies (never the live pages):
    /// `search.rs` says how.
    fn search(
        &self,
        needle: &[u8],
        start: usize,
        end: usize,
        dir: Direction,
    ) -> Result<Option<usize>, MmapError> {
        search::search(
            needle,
            start,
            end,
            dir == Direction::Forward,
            SEARCH_BLOCK,
            |off, n, buf| self.copy_block(off, n, buf),
        )
    }
}
