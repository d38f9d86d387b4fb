use super::Share;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::io;

/// `mmap.PAGESIZE`.
pub fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let n = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(n).unwrap_or(4096)
}

/// `mmap.ALLOCATIONGRANULARITY`: the page size on Unix.
pub fn allocation_granularity() -> usize {
    page_size()
}

/// One live OS mapping of at least one byte. Unmapped on drop.
pub struct Region {
    map: MmapRaw,
}

impl Region {
    /// Maps `len` bytes of `file` from `offset` (already checked to be
    /// page-aligned and inside the file by the caller).
    pub fn map_file(file: &File, offset: u64, len: usize, share: Share) -> io::Result<Region> {
        let mut opts = MmapOptions::new();
        opts.offset(offset).len(len);
        let map = match share {
            Share::SharedWrite => opts.map_raw(file)?,
            Share::SharedRead => opts.map_raw_read_only(file)?,
            // SAFETY: the memmap2 contract is about Rust references into the
            // map; we never create any (all access is by raw-pointer copy).
            Share::Private => MmapRaw::from(unsafe { opts.map_copy(file)? }),
        };
        Ok(Region { map })
    }

    /// Anonymous zero-filled memory of `len` (> 0) bytes.
    pub fn map_anon(len: usize) -> io::Result<Region> {
        let map = MmapOptions::new().len(len).map_anon()?;
        Ok(Region {
            map: MmapRaw::from(map),
        })
    }

    /// The mapped length in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Base address; valid for `len()` bytes while `self` lives.
    pub fn ptr(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }

    /// msync(MS_SYNC) of exactly `[off, off+len)`, unaligned `off` included
    /// (EINVAL, as Python reports it), unlike memmap2's aligning flush.
    pub fn msync(&self, off: usize, len: usize) -> io::Result<()> {
        debug_assert!(off.checked_add(len).is_some_and(|e| e <= self.len()));
        // SAFETY: the range lies inside our live mapping.
        let rc = unsafe { libc::msync(self.ptr().add(off).cast(), len, libc::MS_SYNC) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// madvise(2) on exactly `[off, off+len)`; `advice` is the raw constant.
    pub fn madvise(&self, off: usize, len: usize, advice: i32) -> io::Result<()> {
        debug_assert!(off.checked_add(len).is_some_and(|e| e <= self.len()));
        // SAFETY: the range lies inside our live mapping. The advice values
        // allowed by the WIT change no memory safety property of a mapping
        // we only touch through raw pointers (DONTNEED/FREE may zero private
        // pages, which is their documented meaning).
        let rc = unsafe { libc::madvise(self.ptr().add(off).cast(), len, advice) };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Changes the length to `new_len` (> 0), keeping the contents that
    /// remain in range (Python's `mremap(MREMAP_MAYMOVE)`). For a file map
    /// the caller has already set the file's size.
    pub fn resize(&mut self, new_len: usize, file: Option<(&File, u64, Share)>) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            let _ = file;
            // SAFETY: no reference into the map exists; the caller set the
            // file size first, and accesses are checked against it.
            unsafe {
                self.map
                    .remap(new_len, memmap2::RemapOptions::new().may_move(true))
            }
        }
        #[cfg(not(target_os = "linux"))]
        {
            // No mremap: map afresh. File maps read their contents from the
            // file; anonymous memory is copied over.
            let new = match file {
                Some((f, offset, share)) => Region::map_file(f, offset, new_len, share)?,
                None => {
                    let new = Region::map_anon(new_len)?;
                    // SAFETY: both regions are live, distinct, and at least
                    // `min(len)` long.
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            self.ptr(),
                            new.ptr(),
                            self.len().min(new_len),
                        )
                    };
                    new
                }
            };
            *self = new;
            Ok(())
        }
    }
}

/// Raw advice constants for the WIT `advice` enum, in its order; `None`
/// where this OS lacks one (then Python raises EINVAL, and so do we).
pub fn advice_value(index: usize) -> Option<i32> {
    #[cfg(target_os = "linux")]
    const TABLE: [Option<i32>; 14] = [
        Some(libc::MADV_NORMAL),
        Some(libc::MADV_RANDOM),
        Some(libc::MADV_SEQUENTIAL),
        Some(libc::MADV_WILLNEED),
        Some(libc::MADV_DONTNEED),
        Some(libc::MADV_FREE),
        Some(libc::MADV_DONTFORK),
        Some(libc::MADV_DOFORK),
        Some(libc::MADV_MERGEABLE),
        Some(libc::MADV_UNMERGEABLE),
        Some(libc::MADV_HUGEPAGE),
        Some(libc::MADV_NOHUGEPAGE),
        Some(libc::MADV_DONTDUMP),
        Some(libc::MADV_DODUMP),
    ];
    #[cfg(not(target_os = "linux"))]
    const TABLE: [Option<i32>; 14] = [
        Some(libc::MADV_NORMAL),
        Some(libc::MADV_RANDOM),
        Some(libc::MADV_SEQUENTIAL),
        Some(libc::MADV_WILLNEED),
        Some(libc::MADV_DONTNEED),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ];
    TABLE.get(index).copied().flatten()
}
