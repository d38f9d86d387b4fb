//! [`Mmap`], Python's `mmap.mmap` over the WIT `mmap` resource, with
//! its options, the module-level functions and the `std::io` traits.

use crate::bindings::wasi::filesystem::types::Descriptor;
use crate::bindings::wasm_mmap::mmap::mmap as raw;
use crate::error::Result;
use raw::{Access, Advice, CreateMode, MapFlags, Prot, WaitResult, Whence};
use std::io;
use std::ops::{Bound, RangeBounds};

/// The keyword arguments of `mmap.mmap(...)`, with Python's defaults:
/// `flags=MAP_SHARED, prot=PROT_READ|PROT_WRITE, access=ACCESS_DEFAULT,
/// offset=0`.
#[derive(Clone, Copy, Debug)]
pub struct MmapOptions(raw::MapOptions);

impl Default for MmapOptions {
    fn default() -> Self {
        MmapOptions(raw::MapOptions {
            flags: MapFlags::SHARED,
            prot: Prot::READ | Prot::WRITE,
            access: Access::Default,
            offset: 0,
        })
    }
}

impl MmapOptions {
    /// Python's defaults.
    pub fn new() -> Self {
        Self::default()
    }
    /// `access=...`.
    pub fn access(mut self, access: Access) -> Self {
        self.0.access = access;
        self
    }
    /// `flags=...`.
    pub fn flags(mut self, flags: MapFlags) -> Self {
        self.0.flags = flags;
        self
    }
    /// `prot=...`.
    pub fn prot(mut self, prot: Prot) -> Self {
        self.0.prot = prot;
        self
    }
    /// `offset=...` (a multiple of [`allocation_granularity`]).
    pub fn offset(mut self, offset: i64) -> Self {
        self.0.offset = offset;
        self
    }
}

/// Removes a shared memory name (`shm_unlink`); open maps keep working.
pub fn remove_named(name: &str) -> Result<()> {
    Ok(raw::remove_named(name)?)
}

/// `mmap.PAGESIZE`.
pub fn pagesize() -> u64 {
    raw::pagesize()
}

/// `mmap.ALLOCATIONGRANULARITY`.
pub fn allocation_granularity() -> u64 {
    raw::allocation_granularity()
}

/// A memory map (Python's `mmap.mmap`). Dropping it closes the map.
///
/// Implements [`io::Read`], [`io::Write`] and [`io::Seek`] over the map's
/// cursor; the other methods are Python's, with `Option` where Python
/// returns -1 and Rust ranges where Python takes slices.
pub struct Mmap {
    raw: raw::Mmap,
}

fn bound_to_i64(b: Bound<&usize>, inclusive_bump: bool) -> Option<i64> {
    match b {
        Bound::Included(&i) => Some(i as i64 + i64::from(inclusive_bump)),
        Bound::Excluded(&i) => Some(i as i64 + i64::from(!inclusive_bump)),
        Bound::Unbounded => None,
    }
}

fn range_args(r: impl RangeBounds<usize>) -> (Option<i64>, Option<i64>) {
    (
        bound_to_i64(r.start_bound(), false),
        bound_to_i64(r.end_bound(), true),
    )
}

fn found(i: i64) -> Option<usize> {
    usize::try_from(i).ok()
}

impl Mmap {
    /// `mmap.mmap(f.fileno(), length, ...)`: `length` 0 maps the whole file
    /// from the offset.
    pub fn map(file: &Descriptor, length: u64, opts: MmapOptions) -> Result<Mmap> {
        let length = i64::try_from(length).unwrap_or(i64::MAX);
        Ok(Mmap {
            raw: raw::Mmap::open(file, length, opts.0)?,
        })
    }

    /// `mmap.mmap(-1, length, ...)`: anonymous zero-filled memory.
    pub fn anonymous(length: u64, opts: MmapOptions) -> Result<Mmap> {
        let length = i64::try_from(length).unwrap_or(i64::MAX);
        Ok(Mmap {
            raw: raw::Mmap::anonymous(length, opts.0)?,
        })
    }

    /// `mmap.mmap(-1, length, tagname=name)`: named shared memory, shared
    /// by every process using the name (in the host's namespace).
    pub fn named(name: &str, length: u64, mode: CreateMode, opts: MmapOptions) -> Result<Mmap> {
        let length = i64::try_from(length).unwrap_or(i64::MAX);
        Ok(Mmap {
            raw: raw::Mmap::open_named(name, length, mode, opts.0)?,
        })
    }

    /// The WIT resource, for calls exactly as Python spells them
    /// (signed indices, -1 from `find`, ...).
    pub fn raw(&self) -> &raw::Mmap {
        &self.raw
    }

    /// `m.close()`; dropping the `Mmap` does the same.
    pub fn close(&self) {
        self.raw.close()
    }

    /// `m.closed`.
    pub fn closed(&self) -> bool {
        self.raw.closed()
    }

    /// `len(m)`.
    pub fn len(&self) -> Result<u64> {
        Ok(self.raw.len()?)
    }

    /// `len(m) == 0` (never true for an open map).
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.raw.len()? == 0)
    }

    /// `m.size()`: the file's current size.
    pub fn size(&self) -> Result<u64> {
        Ok(self.raw.size()?)
    }

    /// `m.tell()`.
    pub fn tell(&self) -> Result<u64> {
        Ok(self.raw.tell()?)
    }

    /// `m.seek(pos, whence)`: the new position.
    pub fn seek_to(&self, pos: i64, whence: Whence) -> Result<u64> {
        Ok(self.raw.seek(pos, whence)?)
    }

    /// `m.read(n)`; `None` reads to the end.
    pub fn read_up_to(&self, n: Option<u64>) -> Result<Vec<u8>> {
        Ok(self
            .raw
            .read(n.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))?)
    }

    /// `m[offset:offset+n]` in one call, leaving the cursor alone.
    pub fn read_at(&self, offset: u64, n: u64) -> Result<Vec<u8>> {
        Ok(self.raw.read_at(offset, n)?)
    }

    /// `m[offset:offset+len(data)] = data` in one call; the count written.
    pub fn write_at(&self, offset: u64, data: &[u8]) -> Result<u64> {
        Ok(self.raw.write_at(offset, data)?)
    }

    /// `m.read_byte()`.
    pub fn read_byte(&self) -> Result<u8> {
        Ok(self.raw.read_byte()?)
    }

    /// `m.readline()`.
    pub fn readline(&self) -> Result<Vec<u8>> {
        Ok(self.raw.readline()?)
    }

    /// `m.write(data)`: the count written.
    pub fn write_bytes(&self, data: &[u8]) -> Result<u64> {
        Ok(self.raw.write(data)?)
    }

    /// `m.write_byte(value)`.
    pub fn write_byte(&self, value: u8) -> Result<()> {
        Ok(self.raw.write_byte(value)?)
    }

    /// `m.find(sub)` from the cursor; `None` where Python returns -1 (also
    /// when the map is closed; use [`Mmap::find_in`] to see errors).
    pub fn find(&self, sub: &[u8]) -> Option<usize> {
        self.raw.find(sub, None, None).ok().and_then(found)
    }

    /// `m.find(sub, start, end)` with Python's optional, signed bounds.
    pub fn find_in(
        &self,
        sub: &[u8],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Option<usize>> {
        Ok(found(self.raw.find(sub, start, end)?))
    }

    /// `m.rfind(sub)` from the cursor.
    pub fn rfind(&self, sub: &[u8]) -> Option<usize> {
        self.raw.rfind(sub, None, None).ok().and_then(found)
    }

    /// `m.rfind(sub, start, end)`.
    pub fn rfind_in(
        &self,
        sub: &[u8],
        start: Option<i64>,
        end: Option<i64>,
    ) -> Result<Option<usize>> {
        Ok(found(self.raw.rfind(sub, start, end)?))
    }

    /// `m.flush()`: the whole map.
    pub fn flush(&self) -> Result<()> {
        Ok(self.raw.flush(None, None)?)
    }

    /// `m.flush(offset, size)`.
    pub fn flush_range(&self, offset: u64, size: u64) -> Result<()> {
        Ok(self.raw.flush(Some(offset as i64), Some(size as i64))?)
    }

    /// `m.madvise(option, start, length)`.
    pub fn madvise(&self, advice: Advice, start: Option<i64>, length: Option<i64>) -> Result<()> {
        Ok(self.raw.madvise(advice, start, length)?)
    }

    /// `m.move(dest, src, count)`.
    pub fn move_within(&self, dest: u64, src: u64, count: u64) -> Result<()> {
        let c = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Ok(self.raw.move_(c(dest), c(src), c(count))?)
    }

    /// `m.resize(newsize)`.
    pub fn resize(&self, newsize: u64) -> Result<()> {
        Ok(self
            .raw
            .resize(i64::try_from(newsize).unwrap_or(i64::MAX))?)
    }

    /// `m[index]`; negative counts from the end.
    pub fn get(&self, index: i64) -> Result<u8> {
        Ok(self.raw.get(index)?)
    }

    /// `m[index] = value`.
    pub fn set(&self, index: i64, value: u8) -> Result<()> {
        Ok(self.raw.set(index, value)?)
    }

    /// `m[a:b]` for a Rust range (`..`, `a..b`, `a..=b`, `a..`, `..b`).
    pub fn slice(&self, range: impl RangeBounds<usize>) -> Result<Vec<u8>> {
        let (a, b) = range_args(range);
        Ok(self.raw.get_slice(a, b, None)?)
    }

    /// `m[start:stop:step]` with Python's optional, signed values.
    pub fn slice_step(
        &self,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
    ) -> Result<Vec<u8>> {
        Ok(self.raw.get_slice(start, stop, step)?)
    }

    /// `m[a:b] = data` (`data` must have the slice's length).
    pub fn set_slice(&self, range: impl RangeBounds<usize>, data: &[u8]) -> Result<()> {
        let (a, b) = range_args(range);
        Ok(self.raw.set_slice(a, b, None, data)?)
    }

    /// `m[start:stop:step] = data`.
    pub fn set_slice_step(
        &self,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
        data: &[u8],
    ) -> Result<()> {
        Ok(self.raw.set_slice(start, stop, step, data)?)
    }

    /// `m[:]`: a copy of the whole map.
    pub fn to_vec(&self) -> Result<Vec<u8>> {
        Ok(self.raw.get_slice(None, None, None)?)
    }

    /// Atomic load of the u32 at `offset` (4-aligned).
    pub fn load32(&self, offset: u64) -> Result<u32> {
        Ok(self.raw.atomic_load32(offset)?)
    }

    /// Atomic store of a u32.
    pub fn store32(&self, offset: u64, value: u32) -> Result<()> {
        Ok(self.raw.atomic_store32(offset, value)?)
    }

    /// Atomic fetch-add of a u32; the previous value.
    pub fn add32(&self, offset: u64, delta: u32) -> Result<u32> {
        Ok(self.raw.atomic_add32(offset, delta)?)
    }

    /// Atomic compare-exchange of a u32; the previous value.
    pub fn cas32(&self, offset: u64, expected: u32, replacement: u32) -> Result<u32> {
        Ok(self.raw.atomic_cas32(offset, expected, replacement)?)
    }

    /// Atomic load of the u64 at `offset` (8-aligned).
    pub fn load64(&self, offset: u64) -> Result<u64> {
        Ok(self.raw.atomic_load64(offset)?)
    }

    /// Atomic store of a u64.
    pub fn store64(&self, offset: u64, value: u64) -> Result<()> {
        Ok(self.raw.atomic_store64(offset, value)?)
    }

    /// Atomic fetch-add of a u64; the previous value.
    pub fn add64(&self, offset: u64, delta: u64) -> Result<u64> {
        Ok(self.raw.atomic_add64(offset, delta)?)
    }

    /// Atomic compare-exchange of a u64; the previous value.
    pub fn cas64(&self, offset: u64, expected: u64, replacement: u64) -> Result<u64> {
        Ok(self.raw.atomic_cas64(offset, expected, replacement)?)
    }

    /// Blocks while the u32 at `offset` equals `expected`, until `notify`
    /// (from any process sharing the memory) or `timeout`.
    pub fn wait32(
        &self,
        offset: u64,
        expected: u32,
        timeout: std::time::Duration,
    ) -> Result<WaitResult> {
        let ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        Ok(self.raw.wait32(offset, expected, ns)?)
    }

    /// Wakes up to `count` waiters on the u32 at `offset`.
    pub fn notify(&self, offset: u64, count: u32) -> Result<u32> {
        Ok(self.raw.notify(offset, count)?)
    }

    /// Blocks until the mapped file changes (anyone's `write()`,
    /// truncation...) or `timeout`; whether it changed. The first call
    /// arms the watch and returns true at once.
    pub fn wait_for_change(&self, timeout: std::time::Duration) -> Result<bool> {
        let ns = u64::try_from(timeout.as_nanos()).unwrap_or(u64::MAX);
        Ok(self.raw.wait_for_change(ns)?)
    }

    /// `repr(m)`.
    pub fn repr(&self) -> String {
        self.raw.repr()
    }
}

impl std::fmt::Debug for Mmap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.raw.repr())
    }
}

impl io::Read for Mmap {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let data = self.read_up_to(Some(buf.len() as u64))?;
        buf[..data.len()].copy_from_slice(&data);
        Ok(data.len())
    }
}

impl io::Write for Mmap {
    /// Writes what fits before the end of the map (all of `buf` if it fits;
    /// Python's `write` would refuse the whole call instead).
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = self.len()?.saturating_sub(self.tell()?);
        let n = buf.len().min(usize::try_from(room).unwrap_or(usize::MAX));
        if n == 0 && !buf.is_empty() {
            return Ok(0);
        }
        Ok(self.write_bytes(&buf[..n])? as usize)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(Mmap::flush(self)?)
    }
}

impl io::Seek for Mmap {
    fn seek(&mut self, pos: io::SeekFrom) -> io::Result<u64> {
        let (off, whence) = match pos {
            io::SeekFrom::Start(n) => (
                i64::try_from(n).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
                Whence::Set,
            ),
            io::SeekFrom::Current(n) => (n, Whence::Cur),
            io::SeekFrom::End(n) => (n, Whence::End),
        };
        Ok(self.seek_to(off, whence)?)
    }
}

/// Exits the guest with `code` as the host process's exit status
/// (`wasi:cli/exit.exit-with-code`). Rust's `std::process::exit` predates
/// it and can only report success (0) or failure (1).
pub fn exit(code: u8) -> ! {
    crate::bindings::wasi::cli::exit::exit_with_code(code);
    unreachable!("exit-with-code returned")
}
