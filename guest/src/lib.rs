//! # wasm-mmap for Rust guests
//!
//! Python's `mmap` in a WebAssembly component (wasm32-wasip2), backed by a
//! real OS mapping made by the `wasm-mmap` host: a shared map of a file is
//! seen by every other process that maps or reads it.
//!
//! ```no_run
//! use wasm_mmap_guest::{Mmap, MmapOptions, open_file};
//! use std::io::{Read, Seek, SeekFrom, Write};
//!
//! // `f = open("data.bin", "r+b")`: a file in one of the guest's preopens.
//! let file = open_file("data.bin", true)?;
//! // `m = mmap.mmap(f.fileno(), 0)`
//! let mut m = Mmap::map(&file, 0, MmapOptions::new())?;
//! m.write_all(b"hello")?;            // m.write(b"hello")
//! m.seek(SeekFrom::Start(0))?;       // m.seek(0)
//! assert_eq!(m.find(b"llo"), Some(2)); // m.find(b"llo")
//! assert_eq!(m.get(0)?, b'h');       // m[0]
//! let all = m.to_vec()?;             // m[:]
//! m.flush()?;                        // m.flush()
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The raw bindings (every WIT function, 1:1 with Python) are in
//! [`bindings`]; [`Mmap::raw`] reaches them from the wrapper.

#![deny(missing_docs)]
#![deny(clippy::undocumented_unsafe_blocks)]

/// Bindings generated from the `wasm-mmap:mmap/guest` world (WASI CLI +
/// mmap).
#[allow(missing_docs)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../wit",
        world: "wasm-mmap:mmap/guest",
        generate_all,
    });
}

// One concern per file: `error` (the Python exception), `files` (preopen
// paths to descriptors), `mmap` (the wrapper over the WIT resource),
// `channel` (an SPSC byte channel built on a shared map), `window`
// (zero-copy windows in the guest's own memory).
mod channel;
mod error;
mod files;
mod mmap;
mod window;

pub use bindings::wasi::filesystem::types::Descriptor;
pub use bindings::wasm_mmap::mmap::mmap::{
    Access, Advice, CreateMode, ErrorCode, MapFlags, OsError, Prot, WaitResult, Whence,
};
pub use channel::{Receiver, Sender, channel_create, channel_open};
pub use error::{Error, Result};
pub use files::{create_file, open_file};
pub use mmap::{Mmap, MmapOptions, allocation_granularity, exit, pagesize, remove_named};
pub use window::Window;
