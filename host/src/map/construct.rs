//! The three ways to make a map (a file, anonymous memory, a named object)
//! through one path: Python's argument checks in CPython's order, then the
//! host's allowance, then the OS.

use super::{Access, Allowance, CreateMode, Footprint, MapFlags, MapOptions, Mmap, Open, Prot};
use crate::errno::{EACCES, EINVAL, ENODEV, ENOMEM};
use crate::error::{MmapError, os_error, overflow_error, value_error};
use crate::sys::{self, Region, Share};
use std::fs::File;
use std::io;
use std::sync::Arc;

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

/// What every constructor checks first, in CPython's order: the signs of
/// `length` and `offset`, then `access` against `flags`/`prot`.
struct Request {
    length: u64,
    offset: u64,
    access: Access,
    /// `None`: mmap(2) would refuse with EINVAL, reported where it would be.
    share: Option<Share>,
    /// Anonymous memory (counted as RAM).
    anonymous: bool,
    /// `prot` neither read nor write: the bytes can never be touched.
    inaccessible: bool,
}

impl Request {
    fn new(length: i64, opts: &MapOptions) -> Result<Request, MmapError> {
        let length = u64::try_from(length)
            .map_err(|_| overflow_error("memory mapped length must be positive"))?;
        let offset = u64::try_from(opts.offset)
            .map_err(|_| overflow_error("memory mapped offset must be positive"))?;
        let (access, share) = resolve_access(opts)?;
        Ok(Request {
            length,
            offset,
            access,
            share,
            anonymous: false,
            inaccessible: opts.access == Access::Default && opts.prot == Prot::empty(),
        })
    }

    /// The sharing, or mmap(2)'s EINVAL.
    fn share(&self) -> Result<Share, MmapError> {
        self.share.ok_or_else(|| os_error(EINVAL))
    }

    fn aligned(&self) -> bool {
        self.offset
            .is_multiple_of(sys::allocation_granularity() as u64)
    }

    /// Python's rule for `length == 0`: the rest of the object after
    /// `offset`, which must exist.
    fn rest_of(&self, size: u64) -> Result<u64, MmapError> {
        if size == 0 {
            return Err(value_error("cannot mmap an empty file"));
        }
        if self.offset >= size {
            return Err(value_error("mmap offset is greater than file size"));
        }
        Ok(size - self.offset)
    }

    /// Admits `len` bytes, maps them with `map`, and builds the map.
    fn finish(
        self,
        len: u64,
        share: Share,
        named: bool,
        allow: &impl Allowance,
        map: impl FnOnce(usize) -> io::Result<Region>,
    ) -> Result<Mmap, MmapError> {
        let footprint = Footprint::of_new_map(len, map_anonymous(named, &self));
        allow.admit(&footprint, len)?;
        let len = usize::try_from(len).map_err(|_| os_error(ENOMEM))?;
        let region = map(len)?;
        Ok(Mmap {
            open: Some(Open {
                region,
                share,
                access: self.access,
                offset: self.offset,
                pos: 0,
                max_read: allow.max_read(),
                named,
                watch: None,
                split_mappings: 0,
                inaccessible: self.inaccessible,
            }),
        })
    }
}

/// Whether a map about to be made is anonymous memory (no file, not named).
fn map_anonymous(named: bool, req: &Request) -> bool {
    !named && req.anonymous
}

/// Python's `access` after `flags`/`prot` are folded in, and the OS sharing.
fn resolve_access(opts: &MapOptions) -> Result<(Access, Option<Share>), MmapError> {
    let rw = Prot::READ | Prot::WRITE;
    if opts.access != Access::Default && (opts.flags != MapFlags::SHARED || opts.prot != rw) {
        return Err(value_error(
            "mmap can't specify both access and flags, prot.",
        ));
    }
    let (access, flags) = match opts.access {
        Access::Read => (Access::Read, MapFlags::SHARED),
        Access::Write => (Access::Write, MapFlags::SHARED),
        Access::Copy => (Access::Copy, MapFlags::PRIVATE),
        // CPython: read+write stays DEFAULT, write alone is WRITE, else READ.
        Access::Default if opts.prot.contains(rw) => (Access::Default, opts.flags),
        Access::Default if opts.prot.contains(Prot::WRITE) => (Access::Write, opts.flags),
        Access::Default => (Access::Read, opts.flags),
    };
    // PROT_NONE maps too (as a read map whose bytes are refused: see
    // `Open::bytes`), as CPython does.
    let share = if flags.contains(MapFlags::SHARED) {
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

impl Mmap {
    /// `mmap.mmap(fileno, length, flags, prot, access, offset)` over a file.
    pub fn open_file(
        file: FileRef,
        length: i64,
        opts: MapOptions,
        allow: &impl Allowance,
    ) -> Result<Mmap, MmapError> {
        Self::open_file_tagged(file, length, opts, None, allow)
    }

    /// [`Mmap::open_file`] whose mapping object is also named `tag` (an OS
    /// name checked against the host's policy): Python's `tagname` for a
    /// file on Windows. Unix has no such thing (EOPNOTSUPP).
    pub fn open_file_tagged(
        file: FileRef,
        length: i64,
        opts: MapOptions,
        tag: Option<&str>,
        allow: &impl Allowance,
    ) -> Result<Mmap, MmapError> {
        let req = Request::new(length, &opts)?;
        let Some(size) = sys::regular_size(&file.file)? else {
            // Python skips its size checks for non-regular files and lets
            // mmap(2) refuse: EINVAL for length 0, ENODEV otherwise.
            return Err(os_error(if req.length == 0 { EINVAL } else { ENODEV }));
        };
        let len = if req.length == 0 {
            let rest = req.rest_of(size)?;
            usize::try_from(rest).map_err(|_| value_error("mmap length is too large"))?;
            rest
        } else {
            if req.offset > size || size - req.offset < req.length {
                return Err(value_error("mmap length is greater than file size"));
            }
            req.length
        };
        let share = req.share()?;
        if !req.aligned() {
            return Err(os_error(EINVAL));
        }
        // mmap(2)'s own permission rule, applied to the guest's descriptor
        // and preopen rights rather than the host's fd.
        if !file.readable || (share == Share::SharedWrite && !file.writable) {
            return Err(os_error(EACCES));
        }
        let offset = req.offset;
        req.finish(len, share, false, allow, |len| match tag {
            None => Region::map_file(&file.file, offset, len, share),
            Some(tag) => sys::map_file_tagged(&file.file, tag, offset, len, share),
        })
    }

    /// `mmap.mmap(-1, length, flags, prot, access, offset)`: anonymous
    /// memory.
    pub fn anonymous(
        length: i64,
        opts: MapOptions,
        allow: &impl Allowance,
    ) -> Result<Mmap, MmapError> {
        let mut req = Request::new(length, &opts)?;
        req.anonymous = true;
        let share = req.share()?;
        // Linux takes MAP_SHARED|MAP_PRIVATE (MAP_SHARED_VALIDATE) for a
        // file but refuses it for anonymous memory.
        let both = MapFlags::SHARED | MapFlags::PRIVATE;
        if req.length == 0
            || !req.aligned()
            || (opts.access == Access::Default && opts.flags.contains(both))
        {
            return Err(os_error(EINVAL));
        }
        let len = req.length;
        req.finish(len, share, false, allow, Region::map_anon)
    }

    /// `mmap.mmap(-1, length, tagname=...)`: the named shared memory object
    /// `os_name` (already checked against the host's naming policy). Also
    /// returns the size of the object if this call created it: it outlives
    /// the map, so the host counts it (its memory was admitted by `allow`
    /// before the object was made).
    pub fn open_named(
        os_name: &str,
        length: i64,
        mode: CreateMode,
        opts: MapOptions,
        allow: &impl Allowance,
    ) -> Result<(Mmap, Option<u64>), MmapError> {
        let req = Request::new(length, &opts)?;
        let share = req.share()?;
        if !req.aligned() || (mode == CreateMode::CreateNew && req.length == 0) {
            return Err(os_error(EINVAL));
        }
        // Nothing of 0 bytes can be created: with length 0, create-or-open
        // only opens (and an absent name is EINVAL, not ENOENT).
        let create =
            mode == CreateMode::CreateNew || (mode == CreateMode::CreateOrOpen && req.length > 0);
        let end = req.offset.checked_add(req.length);
        let end = end
            .filter(|&e| e <= i64::MAX as u64)
            .ok_or_else(|| os_error(EINVAL))?;
        if create {
            let object = Footprint {
                memory: end,
                ..Footprint::default()
            };
            allow.admit(&object, end)?;
        }
        let (object, created) = sys::open_named(
            os_name,
            create.then_some(end),
            mode == CreateMode::CreateNew,
            share != Share::SharedRead,
        )
        .map_err(|e| match e.kind() {
            io::ErrorKind::NotFound if mode == CreateMode::CreateOrOpen => os_error(EINVAL),
            _ => e.into(),
        })?;
        // The object's size comes from the OS, never from the caller.
        let size = match object.size() {
            Ok(size) => size,
            Err(e) => {
                if created {
                    let _ = sys::shm_unlink(os_name);
                }
                return Err(e.into());
            }
        };
        let len = if req.length == 0 {
            req.rest_of(size)?
        } else if end > size {
            // Windows refuses a view larger than the object (access denied).
            return Err(os_error(EACCES));
        } else {
            req.length
        };
        let offset = req.offset;
        let made = req.finish(len, share, true, allow, |len| {
            object.map(offset, len, share)
        });
        match made {
            Ok(map) => Ok((map, created.then_some(end))),
            Err(e) => {
                // An object this call made and could not map would be left
                // behind, counted by nobody.
                if created {
                    let _ = sys::shm_unlink(os_name);
                }
                Err(e)
            }
        }
    }
}
