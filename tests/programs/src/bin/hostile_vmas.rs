//! `hostile_vmas`: maps 256 MiB of anonymous memory and gives every other
//! page its own `madvise(random)`, so that each call can split the host's
//! mapping in two more pieces (32768 calls, ~65536 pieces: past Linux's
//! `vm.max_map_count`, where the host itself could no longer map anything).
//! The host must refuse, with ENOMEM, before that (its `--max-mappings`
//! budget); the map must keep working afterwards. Prints `refused at K`
//! (K: the index of the refused call) and `ok`, or `never refused`.

use wasm_mmap_guest::{Advice, Mmap, MmapOptions, pagesize};

fn main() {
    let page = pagesize();
    let len = 256u64 << 20;
    let m = Mmap::anonymous(len, MmapOptions::new()).unwrap();
    let mut refused = None;
    for k in 0..len / page / 2 {
        let at = (2 * k * page) as i64;
        match m.madvise(Advice::Random, Some(at), Some(page as i64)) {
            Ok(()) => {}
            Err(e) => {
                assert_eq!(e.errno(), Some(12), "call {k}: {e}");
                refused = Some(k);
                break;
            }
        }
    }
    let Some(k) = refused else {
        println!("never refused");
        return;
    };
    println!("refused at {k}");
    // The map, and the host, still work.
    let at = (2 * k + 1) * page + 123;
    m.set(at as i64, 0x5a).unwrap();
    assert_eq!(m.get(at as i64).unwrap(), 0x5a);
    m.write_at(len - 8, b"the end!").unwrap();
    assert_eq!(m.read_at(len - 8, 8).unwrap(), b"the end!");
    println!("ok");
}
