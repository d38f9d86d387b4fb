//! File and anonymous mappings through memmap2, shared by the Unix and
//! Windows backends, and the resize fallback for systems without mremap.

use super::Share;
use memmap2::{MmapOptions, MmapRaw};
use std::fs::File;
use std::io;

/// Maps `len` bytes of `file` from `offset` (already checked by the caller
/// to be aligned and inside the file).
pub fn map_file(file: &File, offset: u64, len: usize, share: Share) -> io::Result<MmapRaw> {
    let mut opts = MmapOptions::new();
    opts.offset(offset).len(len);
    Ok(match share {
        Share::SharedWrite => opts.map_raw(file)?,
        Share::SharedRead => opts.map_raw_read_only(file)?,
        // SAFETY: memmap2's contract is about Rust references into the map;
        // none is ever created (all access is by raw-pointer copy).
        Share::Private => MmapRaw::from(unsafe { opts.map_copy(file)? }),
    })
}

/// Anonymous zero-filled memory of `len` (> 0) bytes.
pub fn map_anon(len: usize) -> io::Result<MmapRaw> {
    Ok(MmapRaw::from(MmapOptions::new().len(len).map_anon()?))
}

/// Resizing without mremap: map afresh. A file map reads its contents from
/// the file (whose size the caller already set); anonymous memory is
/// copied over.
#[cfg_attr(target_os = "linux", allow(dead_code))]
pub fn remap_by_copy(
    old: &MmapRaw,
    new_len: usize,
    file: Option<(&File, u64, Share)>,
) -> io::Result<MmapRaw> {
    match file {
        Some((f, offset, share)) => map_file(f, offset, new_len, share),
        None => {
            let new = map_anon(new_len)?;
            // SAFETY: both maps are live, distinct, and at least
            // `min(len)` long; anonymous private memory cannot vanish.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    old.as_ptr(),
                    new.as_mut_ptr(),
                    old.len().min(new_len),
                )
            };
            Ok(new)
        }
    }
}
