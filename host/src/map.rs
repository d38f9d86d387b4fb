//! [`Mmap`]: one Python `mmap.mmap` object over a [`Region`], every method
//! with CPython's argument checks, in CPython's order, with its messages.
//!
//! Nothing here knows about wasmtime, so the same code can be driven by the
//! component bindings, by tests and by a fuzzer.

use crate::error::{closed, efault, errno, index_error, overflow_error, type_error, value_error};
use crate::sys::{self, AtomicOp, Region, Share, Waited};
use std::time::Duration;

/// The longest single `wait32` / `wait-for-change`: a guest loops for more,
/// and the host is never blocked past this bound.
const MAX_WAIT: Duration = Duration::from_secs(60);
use crate::{Access, Advice, CreateMode, ErrorCode, MapFlags, MapOptions, Prot, Whence};
use std::fs::File;
use std::sync::Arc;

/// Largest block `find`/`rfind`/`readline` copy out of the map at once: they
/// search copies, never the live pages (see the `sys` module).
const SEARCH_BLOCK: usize = 64 * 1024;

/// The file behind a map, as the guest's descriptor allowed it.
pub struct FileRef {
    /// The OS file, shared with the guest's descriptor (Python `dup()`s the
    /// fd for the same reason: the map outlives the guest's handle).
    pub file: Arc<File>,
    /// The descriptor was opened for reading.
    pub readable: bool,
    /// The descriptor was opened for writing and its preopen allows writes.
    pub writable: bool,
}

/// A memory map with Python's `mmap.mmap` semantics. Closed when dropped.
pub struct Mmap {
    open: Option<Open>,
}

struct Open {
    region: Region,
    /// `None` for anonymous memory.
    file: Option<Arc<File>>,
    share: Share,
    access: Access,
    offset: u64,
    /// The cursor; may exceed the length after a shrinking `resize`.
    pos: usize,
    /// Most bytes one call may copy out (the host allocates that much).
    max_read: usize,
    /// Named shared memory: where the OS gives no file (Windows), `size()`
    /// is the map's own length, as CPython answers for a tagname map.
    named: bool,
    /// `wait-for-change`'s watch on the file, armed by its first call.
    watch: Option<sys::ChangeWatch>,
}

/// Python's `access` after `flags`/`prot` are folded in, and the OS sharing
/// (`None`: mmap(2) would refuse with EINVAL, reported where it would be).
fn resolve_access(opts: &MapOptions) -> Result<(Access, Option<Share>), ErrorCode> {
    let rw = Prot::READ | Prot::WRITE;
    if opts.access != Access::Default && (opts.flags != MapFlags::SHARED || opts.prot != rw) {
        return Err(value_error(
            "mmap can't specify both access and flags, prot.",
        ));
    }
    let (access, prot, flags) = match opts.access {
        Access::Read => (Access::Read, Prot::READ, MapFlags::SHARED),
        Access::Write => (Access::Write, rw, MapFlags::SHARED),
        Access::Copy => (Access::Copy, rw, MapFlags::PRIVATE),
        // CPython: read+write stays DEFAULT, write alone is WRITE, else READ.
        Access::Default if opts.prot.contains(rw) => (Access::Default, opts.prot, opts.flags),
        Access::Default if opts.prot.contains(Prot::WRITE) => {
            (Access::Write, opts.prot, opts.flags)
        }
        Access::Default => (Access::Read, opts.prot, opts.flags),
    };
    let share = if prot == Prot::empty() {
        None
    } else if flags.contains(MapFlags::SHARED) {
        Some(if access == Access::Read {
            Share::SharedRead
        } else {
            Share::SharedWrite
        })
    } else if flags.contains(MapFlags::PRIVATE) {
        Some(Share::Private)
    } else {
        None
    };
    Ok((access, share))
}

/// Python's construction checks on `length` and `offset`.
fn check_sizes(length: i64, offset: i64) -> Result<(u64, u64), ErrorCode> {
    let length = u64::try_from(length)
        .map_err(|_| overflow_error("memory mapped length must be positive"))?;
    let offset = u64::try_from(offset)
        .map_err(|_| overflow_error("memory mapped offset must be positive"))?;
    Ok((length, offset))
}

fn aligned(offset: u64) -> bool {
    offset.is_multiple_of(sys::allocation_granularity() as u64)
}

fn to_usize(n: u64) -> Result<usize, ErrorCode> {
    usize::try_from(n).map_err(|_| errno(libc_errno::ENOMEM))
}

/// POSIX errno numbers as Linux numbers them: the WIT promises these on
/// every host OS.
pub(crate) mod libc_errno {
    pub const EBADF: i32 = 9;
    pub const ENOMEM: i32 = 12;
    pub const EACCES: i32 = 13;
    pub const ENODEV: i32 = 19;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
}

/// Python's slice index adjustment (`PySlice_AdjustIndices`) for a sequence
/// of `len`: the first index, the step, and how many elements.
fn slice_indices(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Result<(i128, i128, usize), ErrorCode> {
    let step = i128::from(step.unwrap_or(1));
    if step == 0 {
        return Err(value_error("slice step cannot be zero"));
    }
    let len = len as i128;
    let adjust = |v: Option<i64>, default: i128| -> i128 {
        let Some(v) = v else { return default };
        let mut v = i128::from(v);
        if v < 0 {
            v += len;
            if v < 0 {
                v = if step < 0 { -1 } else { 0 };
            }
        } else if v >= len {
            v = if step < 0 { len - 1 } else { len };
        }
        v
    };
    let (start, stop) = if step < 0 {
        (adjust(start, len - 1), adjust(stop, -1))
    } else {
        (adjust(start, 0), adjust(stop, len))
    };
    let count = if step < 0 {
        if stop < start {
            (start - stop - 1) / (-step) + 1
        } else {
            0
        }
    } else if start < stop {
        (stop - start - 1) / step + 1
    } else {
        0
    };
    // count <= len, which is a usize.
    Ok((start, step, count as usize))
}

/// The bytes `[lo, hi)` a slice with `count > 0` elements touches.
fn slice_span(first: i128, step: i128, count: usize) -> (usize, usize) {
    let last = first + step * (count as i128 - 1);
    (first.min(last) as usize, first.max(last) as usize + 1)
}

/// Python's clamping of `find`'s `start`/`end` against `len`.
fn clamp_index(v: i64, len: usize) -> usize {
    let len_i = len as i128;
    let mut v = i128::from(v);
    if v < 0 {
        v += len_i;
        if v < 0 {
            v = 0;
        }
    } else if v > len_i {
        v = len_i;
    }
    v as usize
}

impl Mmap {
    /// `mmap.mmap(fileno, length, flags, prot, access, offset)` over a file.
    /// `admit` sees the final length after Python's argument checks and
    /// before the OS is asked: a host's limits go there.
    pub fn open_file(
        file: FileRef,
        length: i64,
        opts: MapOptions,
        admit: impl FnOnce(u64) -> Result<(), ErrorCode>,
    ) -> Result<Mmap, ErrorCode> {
        Self::open_file_tagged(file, length, opts, None, admit)
    }

    /// [`Mmap::open_file`] whose mapping object is also named `tag` (an OS
    /// name checked against the host's policy): Python's `tagname` for a
    /// file on Windows. Unix has no such thing (EOPNOTSUPP).
    pub fn open_file_tagged(
        file: FileRef,
        length: i64,
        opts: MapOptions,
        tag: Option<&str>,
        admit: impl FnOnce(u64) -> Result<(), ErrorCode>,
    ) -> Result<Mmap, ErrorCode> {
        let (length, offset) = check_sizes(length, opts.offset)?;
        let (access, share) = resolve_access(&opts)?;
        let meta = file.file.metadata()?;
        let map_len = if meta.is_file() {
            let size = meta.len();
            if length == 0 {
                if size == 0 {
                    return Err(value_error("cannot mmap an empty file"));
                }
                if offset >= size {
                    return Err(value_error("mmap offset is greater than file size"));
                }
                usize::try_from(size - offset)
                    .map_err(|_| value_error("mmap length is too large"))?
            } else {
                if offset > size || size - offset < length {
                    return Err(value_error("mmap length is greater than file size"));
                }
                to_usize(length)?
            }
        } else {
            // Python skips its size checks for non-regular files and lets
            // mmap(2) refuse: EINVAL for length 0, ENODEV otherwise.
            return Err(errno(if length == 0 {
                libc_errno::EINVAL
            } else {
                libc_errno::ENODEV
            }));
        };
        let share = share.ok_or_else(|| errno(libc_errno::EINVAL))?;
        if !aligned(offset) {
            return Err(errno(libc_errno::EINVAL));
        }
        // mmap(2)'s own permission rule, enforced here against the guest's
        // descriptor and preopen rights, not just the host's fd.
        if !file.readable || (share == Share::SharedWrite && !file.writable) {
            return Err(errno(libc_errno::EACCES));
        }
        admit(map_len as u64)?;
        let region = match tag {
            None => Region::map_file(&file.file, offset, map_len, share)?,
            Some(tag) => sys::map_file_tagged(&file.file, tag, offset, map_len, share)?,
        };
        Ok(Mmap {
            open: Some(Open {
                region,
                file: Some(file.file),
                share,
                access,
                offset,
                pos: 0,
                max_read: usize::MAX,
                named: false,
                watch: None,
            }),
        })
    }

    /// `mmap.mmap(-1, length, flags, prot, access, offset)`: anonymous
    /// memory. `admit` as for [`Mmap::open_file`].
    pub fn anonymous(
        length: i64,
        opts: MapOptions,
        admit: impl FnOnce(u64) -> Result<(), ErrorCode>,
    ) -> Result<Mmap, ErrorCode> {
        let (length, offset) = check_sizes(length, opts.offset)?;
        let (access, share) = resolve_access(&opts)?;
        let share = share.ok_or_else(|| errno(libc_errno::EINVAL))?;
        // Linux takes MAP_SHARED|MAP_PRIVATE (MAP_SHARED_VALIDATE) for a
        // file but refuses it for anonymous memory.
        let both = MapFlags::SHARED | MapFlags::PRIVATE;
        if length == 0
            || !aligned(offset)
            || (opts.access == Access::Default && opts.flags.contains(both))
        {
            return Err(errno(libc_errno::EINVAL));
        }
        admit(length)?;
        let region = Region::map_anon(to_usize(length)?)?;
        Ok(Mmap {
            open: Some(Open {
                region,
                file: None,
                share,
                access,
                offset,
                pos: 0,
                max_read: usize::MAX,
                named: false,
                watch: None,
            }),
        })
    }

    /// `mmap.mmap(-1, length, tagname=...)`: the named shared memory object
    /// `os_name` (already checked against the host's naming policy).
    /// `admit` as for [`Mmap::open_file`].
    pub fn open_named(
        os_name: &str,
        length: i64,
        mode: CreateMode,
        opts: MapOptions,
        admit: impl FnOnce(u64) -> Result<(), ErrorCode>,
    ) -> Result<Mmap, ErrorCode> {
        let (length, offset) = check_sizes(length, opts.offset)?;
        let (access, share) = resolve_access(&opts)?;
        let share = share.ok_or_else(|| errno(libc_errno::EINVAL))?;
        if !aligned(offset) || (mode == CreateMode::CreateNew && length == 0) {
            return Err(errno(libc_errno::EINVAL));
        }
        // Nothing of 0 bytes can be created: with length 0, create-or-open
        // only opens (and an absent name is EINVAL, not ENOENT).
        let create =
            mode == CreateMode::CreateNew || (mode == CreateMode::CreateOrOpen && length > 0);
        let end = offset.checked_add(length).filter(|&e| e <= i64::MAX as u64);
        let end = end.ok_or_else(|| errno(libc_errno::EINVAL))?;
        let (object, _created) = sys::open_named(
            os_name,
            create.then_some(end),
            mode == CreateMode::CreateNew,
            share != Share::SharedRead,
        )
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound if mode == CreateMode::CreateOrOpen => {
                errno(libc_errno::EINVAL)
            }
            _ => e.into(),
        })?;
        // The object's size comes from the OS, never from the caller.
        let size = object.size()?;
        let map_len = if length == 0 {
            if size == 0 {
                return Err(value_error("cannot mmap an empty file"));
            }
            if offset >= size {
                return Err(value_error("mmap offset is greater than file size"));
            }
            size - offset
        } else if end > size {
            // Windows refuses a view larger than the object (access denied).
            return Err(errno(libc_errno::EACCES));
        } else {
            length
        };
        admit(map_len)?;
        let region = object.map(offset, to_usize(map_len)?, share)?;
        Ok(Mmap {
            open: Some(Open {
                region,
                file: object.into_file().map(Arc::new),
                share,
                access,
                offset,
                pos: 0,
                max_read: usize::MAX,
                named: true,
                watch: None,
            }),
        })
    }

    fn open(&self) -> Result<&Open, ErrorCode> {
        self.open.as_ref().ok_or_else(closed)
    }

    fn open_mut(&mut self) -> Result<&mut Open, ErrorCode> {
        self.open.as_mut().ok_or_else(closed)
    }

    /// The open map, if writes are allowed (Python's `is_writable`).
    fn writable(&mut self) -> Result<&mut Open, ErrorCode> {
        let o = self.open_mut()?;
        if o.access == Access::Read {
            return Err(type_error("mmap can't modify a readonly memory map."));
        }
        Ok(o)
    }

    /// Caps what one call may copy out of the map (`read`, `readline`,
    /// slices): over it, the call fails with ENOMEM before allocating.
    pub fn set_read_limit(&mut self, bytes: usize) {
        if let Some(o) = &mut self.open {
            o.max_read = bytes;
        }
    }

    /// `m.close()`.
    pub fn close(&mut self) {
        self.open = None;
    }

    /// `m.closed`.
    pub fn closed(&self) -> bool {
        self.open.is_none()
    }

    /// `len(m)`.
    pub fn len(&self) -> Result<u64, ErrorCode> {
        Ok(self.open()?.region.len() as u64)
    }

    /// Whether `len(m) == 0` (never, for an open map; errors when closed).
    pub fn is_empty(&self) -> Result<bool, ErrorCode> {
        Ok(self.len()? == 0)
    }

    /// Bytes mapped, 0 once closed: what a host counts against its limits.
    pub fn mapped_bytes(&self) -> usize {
        self.open.as_ref().map_or(0, |o| o.region.len())
    }

    /// `m.size()`: the file's current size.
    pub fn size(&self) -> Result<u64, ErrorCode> {
        let o = self.open()?;
        match &o.file {
            Some(f) => Ok(f.metadata()?.len()),
            None if o.named => Ok(o.region.len() as u64),
            None => Err(errno(libc_errno::EBADF)),
        }
    }

    /// `m.tell()`.
    pub fn tell(&self) -> Result<u64, ErrorCode> {
        Ok(self.open()?.pos as u64)
    }

    /// `m.seek(pos, whence)`, returning the new position (Python 3.13).
    pub fn seek(&mut self, pos: i64, whence: Whence) -> Result<u64, ErrorCode> {
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
    pub fn read(&mut self, n: Option<i64>) -> Result<Vec<u8>, ErrorCode> {
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
    pub fn read_at(&self, offset: u64, n: u64) -> Result<Vec<u8>, ErrorCode> {
        let o = self.open()?;
        let len = o.region.len();
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(len);
        let n = usize::try_from(n).unwrap_or(usize::MAX).min(len - start);
        o.copy_out(start, n)
    }

    /// `m[offset:offset+len(data)] = data` without the cursor.
    pub fn write_at(&mut self, offset: u64, data: &[u8]) -> Result<u64, ErrorCode> {
        let o = self.writable()?;
        let len = o.region.len() as u64;
        if offset > len || len - offset < data.len() as u64 {
            return Err(value_error("data out of range"));
        }
        o.copy_in(offset as usize, data)?;
        Ok(data.len() as u64)
    }

    /// `m.read_byte()`.
    pub fn read_byte(&mut self) -> Result<u8, ErrorCode> {
        let o = self.open_mut()?;
        if o.pos >= o.region.len() {
            return Err(value_error("read byte out of range"));
        }
        let b = o.load(o.pos)?;
        o.pos += 1;
        Ok(b)
    }

    /// `m.readline()`.
    pub fn readline(&mut self) -> Result<Vec<u8>, ErrorCode> {
        let o = self.open_mut()?;
        let len = o.region.len();
        if o.pos >= len {
            return Ok(Vec::new());
        }
        let end = match o.search(b"\n", o.pos, len, false)? {
            Some(i) => i + 1,
            None => len,
        };
        let out = o.copy_out(o.pos, end - o.pos)?;
        o.pos = end;
        Ok(out)
    }

    /// `m.write(data)`: returns the count written.
    pub fn write(&mut self, data: &[u8]) -> Result<u64, ErrorCode> {
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
    pub fn write_byte(&mut self, value: u8) -> Result<(), ErrorCode> {
        let o = self.writable()?;
        if o.pos >= o.region.len() {
            return Err(value_error("write byte out of range"));
        }
        o.store(o.pos, value)?;
        o.pos += 1;
        Ok(())
    }

    /// `m.find(sub, start, end)` (`reverse`: `m.rfind`); -1 when absent.
    pub fn find(
        &self,
        sub: &[u8],
        start: Option<i64>,
        end: Option<i64>,
        reverse: bool,
    ) -> Result<i64, ErrorCode> {
        let o = self.open()?;
        let len = o.region.len();
        let start = start.map_or(o.pos.min(len), |s| clamp_index(s, len));
        let end = end.map_or(len, |e| clamp_index(e, len));
        if start > end {
            return Ok(-1);
        }
        if sub.is_empty() {
            return Ok((if reverse { end } else { start }) as i64);
        }
        Ok(o.search(sub, start, end, reverse)?.map_or(-1, |i| i as i64))
    }

    /// `m.flush(offset, size)`.
    pub fn flush(&self, offset: Option<i64>, size: Option<i64>) -> Result<(), ErrorCode> {
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
        Ok(o.region.msync(offset as usize, size as usize)?)
    }

    /// `m.madvise(option, start, length)`.
    pub fn madvise(
        &self,
        option: Advice,
        start: Option<i64>,
        length: Option<i64>,
    ) -> Result<(), ErrorCode> {
        let o = self.open()?;
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
        let advice = sys::advice_value(option as usize).ok_or_else(|| errno(libc_errno::EINVAL))?;
        Ok(o.region.madvise(start as usize, length as usize, advice)?)
    }

    /// `m.move(dest, src, count)`.
    pub fn move_(&mut self, dest: i64, src: i64, count: i64) -> Result<(), ErrorCode> {
        let o = self.writable()?;
        let len = o.region.len() as i64;
        if dest < 0 || src < 0 || count < 0 || len - dest < count || len - src < count {
            return Err(value_error("source, destination, or count out of range"));
        }
        let (dest, src, count) = (dest as usize, src as usize, count as usize);
        if count == 0 {
            return Ok(()); // touches no byte, so it cannot fault
        }
        let base = o.region.ptr();
        o.access(dest.min(src), dest.max(src) + count, true, || {
            // SAFETY: both ranges were checked to lie inside the live
            // region; the copy is memmove, so they may overlap.
            unsafe { sys::copy(base.add(dest), base.add(src), count) }
        })
    }

    /// `m.resize(newsize)`.
    pub fn resize(&mut self, newsize: i64) -> Result<(), ErrorCode> {
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
        if let Some(f) = &o.file {
            f.set_len(o.offset + newsize)?;
        }
        // Like mremap(2) in CPython: a zero-length map is EINVAL (after the
        // file was already truncated, exactly as CPython leaves it).
        if newsize == 0 {
            return Err(errno(libc_errno::EINVAL));
        }
        let new_len = to_usize(newsize)?;
        let file = o.file.as_deref().map(|f| (f, o.offset, o.share));
        o.region.resize(new_len, file)?;
        Ok(())
    }

    /// `m[index]`.
    pub fn get(&self, index: i64) -> Result<u8, ErrorCode> {
        let o = self.open()?;
        let i = o.index(index)?;
        o.load(i)
    }

    /// `m[index] = value`.
    pub fn set(&mut self, index: i64, value: u8) -> Result<(), ErrorCode> {
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
    ) -> Result<Vec<u8>, ErrorCode> {
        let o = self.open()?;
        let (first, step, count) = slice_indices(o.region.len(), start, stop, step)?;
        if count == 0 {
            return Ok(Vec::new());
        }
        if step == 1 {
            return o.copy_out(first as usize, count);
        }
        o.check_read(count)?;
        // `first` is in [0, len) and, with count > 1, |step| < len, so both
        // fit an isize (a lone element never uses the step).
        let mut out = Vec::with_capacity(count);
        let (lo, hi) = slice_span(first, step, count);
        o.access(lo, hi, false, || {
            // SAFETY: every index of a Python slice of `len` is in
            // [0, len) of the live region; `out` has room for `count`.
            unsafe {
                sys::gather(
                    out.as_mut_ptr(),
                    o.region.ptr(),
                    first as isize,
                    step as isize,
                    count,
                )
            }
        })?;
        // SAFETY: the gather wrote all `count` bytes.
        unsafe { out.set_len(count) };
        Ok(out)
    }

    /// `m[start:stop:step] = data`.
    pub fn set_slice(
        &mut self,
        start: Option<i64>,
        stop: Option<i64>,
        step: Option<i64>,
        data: &[u8],
    ) -> Result<(), ErrorCode> {
        let o = self.writable()?;
        let (first, step, count) = slice_indices(o.region.len(), start, stop, step)?;
        if data.len() != count {
            return Err(index_error("mmap slice assignment is wrong size"));
        }
        if count == 0 {
            return Ok(());
        }
        if step == 1 {
            return o.copy_in(first as usize, data);
        }
        let (lo, hi) = slice_span(first, step, count);
        o.access(lo, hi, true, || {
            // SAFETY: every index is in [0, len) of the live, writable
            // region; `data` holds `count` bytes.
            unsafe {
                sys::scatter(
                    o.region.ptr(),
                    data.as_ptr(),
                    first as isize,
                    step as isize,
                    count,
                )
            }
        })
    }

    /// An atomic operation on the u32 at `offset` (4-aligned).
    pub fn atomic32(
        &mut self,
        op: AtomicOp,
        offset: u64,
        a: u32,
        b: u32,
    ) -> Result<u32, ErrorCode> {
        // SAFETY: `word_op` passes a 4-aligned pointer inside the live
        // region, writable unless the operation only loads.
        self.word_op(op, offset, 4, |p| unsafe { sys::atomic32(op, p, a, b) })
    }

    /// An atomic operation on the u64 at `offset` (8-aligned).
    pub fn atomic64(
        &mut self,
        op: AtomicOp,
        offset: u64,
        a: u64,
        b: u64,
    ) -> Result<u64, ErrorCode> {
        // SAFETY: as in atomic32, 8-aligned.
        self.word_op(op, offset, 8, |p| unsafe { sys::atomic64(op, p, a, b) })
    }

    /// Runs `f` on the `size`-aligned word at `offset`, through the same
    /// checks as every other access (closed, read-only unless loading,
    /// alignment and range, the fault guard and the file-size check).
    fn word_op<T>(
        &mut self,
        op: AtomicOp,
        offset: u64,
        size: u64,
        f: impl FnOnce(*mut u8) -> Result<T, sys::Fault>,
    ) -> Result<T, ErrorCode> {
        let o = if op == AtomicOp::Load {
            self.open_mut()?
        } else {
            self.writable()?
        };
        let i = o.word(offset, size)?;
        let p = o.region.ptr().wrapping_add(i);
        o.access(i, i + size as usize, op != AtomicOp::Load, || f(p))
    }

    /// Blocks while the u32 at `offset` equals `expected` (futex wait),
    /// at most `timeout_ns` (capped at [`MAX_WAIT`]).
    pub fn wait32(&self, offset: u64, expected: u32, timeout_ns: u64) -> Result<Waited, ErrorCode> {
        let o = self.open()?;
        let i = o.word(offset, 4)?;
        if !o.backed(i + 4)? {
            return Err(efault());
        }
        let timeout = Duration::from_nanos(timeout_ns).min(MAX_WAIT);
        // SAFETY: 4-aligned within the live region; the kernel reads the
        // word itself (a vanished page is EFAULT, not a signal).
        Ok(unsafe { sys::wait32(o.region.ptr().add(i), expected, timeout) }?)
    }

    /// Wakes up to `count` waiters on the u32 at `offset`.
    pub fn notify(&self, offset: u64, count: u32) -> Result<u32, ErrorCode> {
        let o = self.open()?;
        let i = o.word(offset, 4)?;
        // SAFETY: 4-aligned within the live region; used as a key only.
        Ok(unsafe { sys::notify(o.region.ptr().add(i), count) }?)
    }

    /// Blocks until the mapped file changes (or `timeout_ns`, capped at
    /// [`MAX_WAIT`]); the first call arms the watch and answers true.
    pub fn wait_for_change(&mut self, timeout_ns: u64) -> Result<bool, ErrorCode> {
        let o = self.open_mut()?;
        let Some(file) = &o.file else {
            return Err(errno(libc_errno::EBADF));
        };
        let timeout = Duration::from_nanos(timeout_ns).min(MAX_WAIT);
        match &mut o.watch {
            Some(w) => Ok(w.wait(timeout)?),
            None => {
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

impl Open {
    /// The index of the aligned `size`-byte word at `offset`.
    fn word(&self, offset: u64, size: u64) -> Result<usize, ErrorCode> {
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
    fn index(&self, index: i64) -> Result<usize, ErrorCode> {
        let len = self.region.len() as i128;
        let mut i = i128::from(index);
        if i < 0 {
            i += len;
        }
        if i < 0 || i >= len {
            return Err(index_error("mmap index out of range"));
        }
        Ok(i as usize)
    }

    /// Whether the file still covers `[0, end)` of the map. Anonymous
    /// memory always does.
    fn backed(&self, end: usize) -> Result<bool, ErrorCode> {
        match &self.file {
            Some(f) => Ok(self.offset.saturating_add(end as u64) <= sys::file_size(f)?),
            None => Ok(true),
        }
    }

    /// Runs `copy`, which touches only `[lo, hi)` of the map, so that a
    /// file shortened by another process can never harm the host or pass
    /// off bytes it no longer has as data:
    /// - during: a page that vanishes raises SIGBUS, which the guard turns
    ///   into an error (EFAULT; ENOSPC for a written page the full disk
    ///   could not back);
    /// - after: the file must still cover the range, else what was read
    ///   may be the zeros of a truncated page (EFAULT).
    ///
    /// A check before the copy would catch nothing these two miss (a file
    /// shortened before the copy is still short after it, or faults), and
    /// costs a system call per access.
    fn access<T>(
        &self,
        lo: usize,
        hi: usize,
        write: bool,
        copy: impl FnOnce() -> Result<T, sys::Fault>,
    ) -> Result<T, ErrorCode> {
        debug_assert!(lo <= hi && hi <= self.region.len());
        match copy() {
            Ok(v) if self.backed(hi)? => Ok(v),
            Ok(_) => Err(efault()),
            // A fault on a write to a full filesystem is the disk; any
            // other fault is a page that vanished (possibly regrown since).
            Err(sys::Fault) => Err(match &self.file {
                Some(f) if write && sys::disk_full(f) => errno(libc_errno::ENOSPC),
                _ => efault(),
            }),
        }
    }

    /// Refuses to copy out more than the read limit.
    fn check_read(&self, n: usize) -> Result<(), ErrorCode> {
        if n > self.max_read {
            return Err(crate::error::over_limit(
                &format!("copying out {n} bytes"),
                self.max_read as u64,
                "max-read-bytes",
            ));
        }
        Ok(())
    }

    /// Copies `[off, off+n)` out of the map into a new vector.
    fn copy_out(&self, off: usize, n: usize) -> Result<Vec<u8>, ErrorCode> {
        if n == 0 {
            return Ok(Vec::new());
        }
        self.check_read(n)?;
        let mut out = Vec::with_capacity(n);
        self.access(off, off + n, false, || {
            // SAFETY: `[off, off+n)` is inside the live region (every
            // caller checked it against `len`), `out` has room for `n`
            // bytes, and the two never overlap. Raw pointers only: no
            // reference to memory another process may change is created.
            unsafe { sys::copy(out.as_mut_ptr(), self.region.ptr().add(off), n) }
        })?;
        // SAFETY: the copy wrote all `n` bytes.
        unsafe { out.set_len(n) };
        Ok(out)
    }

    /// Copies `data` into the map at `off`.
    fn copy_in(&self, off: usize, data: &[u8]) -> Result<(), ErrorCode> {
        if data.is_empty() {
            return Ok(());
        }
        self.access(off, off + data.len(), true, || {
            // SAFETY: the range is inside the live, writable region
            // (callers checked `len` and access); `data` is host memory.
            unsafe { sys::copy(self.region.ptr().add(off), data.as_ptr(), data.len()) }
        })
    }

    fn load(&self, i: usize) -> Result<u8, ErrorCode> {
        let mut b = 0u8;
        self.access(i, i + 1, false, || {
            // SAFETY: `i < len`, checked by the caller.
            unsafe { sys::copy(&mut b, self.region.ptr().add(i), 1) }
        })?;
        Ok(b)
    }

    fn store(&self, i: usize, v: u8) -> Result<(), ErrorCode> {
        self.access(i, i + 1, true, || {
            // SAFETY: `i < len` and the map is writable, checked by the caller.
            unsafe { sys::copy(self.region.ptr().add(i), &v, 1) }
        })
    }

    /// First (or last) index of non-empty `needle` in `[start, end)`,
    /// searching block by block in copies, overlapping by `needle.len()-1`
    /// so no match across a block edge is missed.
    fn search(
        &self,
        needle: &[u8],
        start: usize,
        end: usize,
        reverse: bool,
    ) -> Result<Option<usize>, ErrorCode> {
        let n = needle.len();
        if end.saturating_sub(start) < n {
            return Ok(None);
        }
        let span = SEARCH_BLOCK + n - 1;
        if !reverse {
            let mut base = start;
            loop {
                let top = end.min(base + span);
                let block = self.copy_out(base, top - base)?;
                if let Some(i) = memchr::memmem::find(&block, needle) {
                    return Ok(Some(base + i));
                }
                if top == end {
                    return Ok(None);
                }
                base += SEARCH_BLOCK;
            }
        } else {
            let mut top = end;
            loop {
                let base = start.max(top.saturating_sub(span));
                let block = self.copy_out(base, top - base)?;
                if let Some(i) = memchr::memmem::rfind(&block, needle) {
                    return Ok(Some(base + i));
                }
                if base == start {
                    return Ok(None);
                }
                top -= SEARCH_BLOCK;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every slice of every small length against Rust's own slicing of a
    /// model computed the way Python documents it (range(start, stop, step)).
    #[test]
    fn slice_indices_match_python_range_semantics() {
        let vals = [
            None,
            Some(-12),
            Some(-5),
            Some(-1),
            Some(0),
            Some(1),
            Some(3),
            Some(5),
            Some(12),
        ];
        for len in 0..7usize {
            for &start in &vals {
                for &stop in &vals {
                    for step in [Some(-3), Some(-1), None, Some(2), Some(5)] {
                        let (first, st, count) = slice_indices(len, start, stop, step).unwrap();
                        let got: Vec<i128> = (0..count).map(|k| first + st * k as i128).collect();
                        assert!(got.iter().all(|&i| i >= 0 && (i as usize) < len));
                        // Model: Python's slice.indices then range().
                        let s = step.unwrap_or(1) as i128;
                        let l = len as i128;
                        let norm = |v: Option<i64>, d: i128| -> i128 {
                            match v {
                                None => d,
                                Some(v) => {
                                    let v = v as i128;
                                    let v = if v < 0 { v + l } else { v };
                                    if s > 0 {
                                        v.clamp(0, l)
                                    } else {
                                        v.clamp(-1, l - 1)
                                    }
                                }
                            }
                        };
                        let (a, b) = if s > 0 {
                            (norm(start, 0), norm(stop, l))
                        } else {
                            (norm(start, l - 1), norm(stop, -1))
                        };
                        let mut want = vec![];
                        let mut i = a;
                        while (s > 0 && i < b) || (s < 0 && i > b) {
                            want.push(i);
                            i += s;
                        }
                        assert_eq!(got, want, "len={len} {start:?}:{stop:?}:{step:?}");
                    }
                }
            }
        }
        assert!(slice_indices(3, None, None, Some(0)).is_err());
    }
}
