//! `hostile_fds`: run with `ulimit -n 1024`. Creates named shared memory
//! `n0`, `n1`, ... (4096 bytes each, all kept open) until the host refuses
//! one, which must be a typed OSError (EMFILE or ENOMEM: out of descriptors
//! or over a host limit), never a dead host. Then stdout must still work:
//! prints `stopped at N` (N maps made) and `ok`.

use wasm_mmap_guest::{CreateMode, Mmap, MmapOptions};

fn main() {
    let mut maps = Vec::new();
    let err = loop {
        let name = format!("n{}", maps.len());
        match Mmap::named(&name, 4096, CreateMode::CreateNew, MmapOptions::new()) {
            Ok(m) => maps.push(m),
            Err(e) => break e,
        }
        assert!(maps.len() <= 100_000, "the host never refused");
    };
    assert!(
        matches!(err.errno(), Some(24 | 12)),
        "after {} maps: {err}",
        maps.len()
    );
    println!("stopped at {}", maps.len());
    // The maps made still work.
    let last = maps.last().unwrap();
    last.write_at(0, b"still here").unwrap();
    assert_eq!(last.read_at(0, 10).unwrap(), b"still here");
    println!("ok");
}
