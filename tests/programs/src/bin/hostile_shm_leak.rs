//! Named shared memory must not outlive a private namespace, nor a failed
//! create, nor escape the memory budget.
//! - `leave`: creates `a`, `b`, `c` (1 MiB each) in the default (private)
//!   namespace, closes `a` and `b`, exits with `c` open. Prints `ok`.
//! - `huge`: creating an enormous object is ENOMEM and leaves nothing
//!   behind (opening it then is ENOENT). Prints `ok`.
//! - `budget`: run with `--max-memory-bytes 1048576`: objects count against
//!   the budget while they exist, mapped or not, until removed. Prints `ok`.

use wasm_mmap_guest::{CreateMode, Mmap, MmapOptions, remove_named};
use wasm_mmap_test_programs::expect_err;

fn main() {
    let o = MmapOptions::new();
    let half = 512 << 10;
    match std::env::args().nth(1).as_deref() {
        Some("leave") => {
            let a = Mmap::named("a", 1 << 20, CreateMode::CreateNew, o).unwrap();
            let b = Mmap::named("b", 1 << 20, CreateMode::CreateNew, o).unwrap();
            let c = Mmap::named("c", 1 << 20, CreateMode::CreateNew, o).unwrap();
            c.write_at(0, b"left open").unwrap();
            a.close();
            drop(b);
            println!("ok");
            std::mem::forget(c);
        }
        Some("huge") => {
            expect_err(
                Mmap::named("huge", i64::MAX as u64 - 4096, CreateMode::CreateNew, o),
                "OSError",
                "12",
            );
            expect_err(
                Mmap::named("huge", 0, CreateMode::OpenExisting, o),
                "OSError",
                "2",
            );
            println!("ok");
        }
        Some("budget") => {
            let m1 = Mmap::named("m1", half, CreateMode::CreateNew, o).unwrap();
            m1.close();
            let m2 = Mmap::named("m2", half, CreateMode::CreateNew, o).unwrap();
            m2.close();
            // m1 and m2 still exist: 1 MiB of the 1 MiB budget.
            expect_err(
                Mmap::named("m3", half, CreateMode::CreateNew, o),
                "OSError",
                "12",
            );
            remove_named("m1").unwrap();
            let m3 = Mmap::named("m3", half, CreateMode::CreateNew, o).unwrap();
            m3.write_at(0, b"fits").unwrap();
            drop(m3);
            remove_named("m2").unwrap();
            remove_named("m3").unwrap();
            println!("ok");
        }
        _ => panic!("usage: hostile_shm_leak leave|huge|budget"),
    }
}
