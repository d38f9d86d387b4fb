//! A copy-on-write map keeps showing the file's bytes on every page it has
//! not written; `move` with `dest == src` writes nothing, at every size (left
//! to glibc's memmove, a small one stores the bytes back and copies the page,
//! a large one skips it). Found by the `component` fuzz target.

use std::fs::OpenOptions;
use std::sync::Arc;
use wasm_mmap::{Access, FileRef, MapFlags, MapOptions, Mmap, Prot, Unlimited};

fn map(file: &Arc<std::fs::File>, access: Access) -> Mmap {
    let opts = MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access,
        offset: 0,
    };
    let file = FileRef {
        file: file.clone(),
        readable: true,
        writable: true,
    };
    Mmap::open_file(file, 0, opts, &Unlimited).unwrap()
}

#[test]
fn move_onto_itself_leaves_a_copy_page_shared() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f");
    std::fs::write(&path, vec![0u8; 3 * 4096]).unwrap();
    let file = Arc::new(
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap(),
    );
    for count in [1i64, 16, 100, 255, 256, 3209, 4096, 3 * 4096] {
        let mut shared = map(&file, Access::Write);
        let mut copy = map(&file, Access::Copy);
        copy.move_(0, 0, count).unwrap();
        let mark = (count % 250) as u8 + 1;
        shared.set(0, mark).unwrap();
        assert_eq!(copy.get(0).unwrap(), mark, "count {count}");
        // A real move does copy the page: the shared map's next write is
        // no longer seen.
        copy.move_(1, 0, 1).unwrap();
        shared.set(0, mark + 1).unwrap();
        assert_eq!(copy.get(0).unwrap(), mark, "count {count}");
    }
}
