//! `hostile_shm_fifo`: the OS name of the shared memory `q` is a FIFO (made
//! by the test). Opening it, for reading or to create-or-open, must be a
//! typed OSError at once, never a host blocked in open(2). Prints `ok`.

use wasm_mmap_guest::{Access, CreateMode, Mmap, MmapOptions};

fn main() {
    let read = MmapOptions::new().access(Access::Read);
    let e = Mmap::named("q", 0, CreateMode::OpenExisting, read).unwrap_err();
    assert_eq!(e.class(), "OSError", "open-existing: {e}");
    let e = Mmap::named("q", 4096, CreateMode::CreateOrOpen, MmapOptions::new()).unwrap_err();
    assert_eq!(e.class(), "OSError", "create-or-open: {e}");
    println!("ok");
}
