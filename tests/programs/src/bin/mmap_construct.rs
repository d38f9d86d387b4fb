//! Construction: every argument error Python raises, offsets, length 0,
//! flags/prot/access combinations, descriptors that cannot be mapped.

use wasm_mmap_guest::bindings::wasi::filesystem::preopens::get_directories;
use wasm_mmap_guest::bindings::wasi::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::mmap::{MapOptions, Mmap as RawMmap};
use wasm_mmap_guest::{Access, MapFlags, Mmap, MmapOptions, Prot, create_file, open_file};
use wasm_mmap_test_programs::expect_err;

fn opts(access: Access, flags: MapFlags, prot: Prot, offset: i64) -> MapOptions {
    MapOptions {
        flags,
        prot,
        access,
        offset,
    }
}

fn main() {
    let rw = Prot::READ | Prot::WRITE;
    let sh = MapFlags::SHARED;
    let mut content = vec![b'a'; 4096];
    content.resize(8204, b'b');
    let f = create_file("c.bin").unwrap();
    f.write(&content, 0).unwrap();
    let empty = create_file("empty.bin").unwrap();

    let open = |len: i64, o: MapOptions| RawMmap::open(&f, len, o).map_err(wasm_mmap_guest::Error);
    expect_err(
        Mmap::map(&empty, 0, MmapOptions::new()),
        "ValueError",
        "cannot mmap an empty file",
    );
    expect_err(
        Mmap::map(&f, 8205, MmapOptions::new()),
        "ValueError",
        "mmap length is greater than file size",
    );
    expect_err(
        open(-1, opts(Access::Default, sh, rw, 0)),
        "OverflowError",
        "memory mapped length must be positive",
    );
    expect_err(
        open(0, opts(Access::Default, sh, rw, -1)),
        "OverflowError",
        "memory mapped offset must be positive",
    );
    expect_err(open(0, opts(Access::Default, sh, rw, 1)), "OSError", "22");
    expect_err(
        open(0, opts(Access::Default, sh, rw, 12288)),
        "ValueError",
        "mmap offset is greater than file size",
    );
    expect_err(
        open(4109, opts(Access::Default, sh, rw, 4096)),
        "ValueError",
        "mmap length is greater than file size",
    );
    expect_err(
        open(1, opts(Access::Default, sh, rw, i64::MAX)),
        "ValueError",
        "mmap length is greater than file size",
    );
    expect_err(
        open(i64::MAX, opts(Access::Default, sh, rw, 0)),
        "ValueError",
        "mmap length is greater than file size",
    );
    let both = "mmap can't specify both access and flags, prot.";
    expect_err(
        open(0, opts(Access::Read, MapFlags::PRIVATE, rw, 0)),
        "ValueError",
        both,
    );
    expect_err(
        open(0, opts(Access::Read, sh, Prot::READ, 0)),
        "ValueError",
        both,
    );
    expect_err(
        open(0, opts(Access::Copy, sh, Prot::WRITE, 0)),
        "ValueError",
        both,
    );
    expect_err(
        open(0, opts(Access::Default, MapFlags::empty(), rw, 0)),
        "OSError",
        "22",
    );
    // PROT_NONE: a map (a guard) whose bytes are refused, never touched.
    let guard = open(0, opts(Access::Default, sh, Prot::empty(), 0)).unwrap();
    assert_eq!(guard.len().unwrap(), 8204);
    expect_err(guard.get(0), "OSError", "13");
    expect_err(guard.read(Some(1)), "OSError", "13");
    expect_err(guard.find(b"a", None, None), "OSError", "13");
    expect_err(guard.atomic_load32(0), "OSError", "13");
    expect_err(guard.set(0, 1), "TypeError", "mmap can't modify a readonly memory map.");
    assert_eq!(guard.tell().unwrap(), 0);
    guard.close();

    // offset + length 0: from the offset to the end of the file
    let m = Mmap::map(&f, 0, MmapOptions::new().offset(4096)).unwrap();
    assert_eq!(m.len().unwrap(), 4108);
    assert_eq!(m.get(0).unwrap(), b'b');
    assert_eq!(
        m.repr(),
        "<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=4108, pos=0, offset=4096>"
    );
    m.resize(10).unwrap();
    assert_eq!(
        m.size().unwrap(),
        4106,
        "resize sets the file to offset + newsize"
    );
    m.resize(4108).unwrap();
    assert_eq!(m.get(9).unwrap(), b'b');
    assert_eq!(m.get(10).unwrap(), 0);
    m.set_slice(10.., &vec![b'b'; 4098]).unwrap();
    drop(m);

    // prot / flags decide access as in CPython
    let w = open(0, opts(Access::Default, sh, Prot::WRITE, 0)).unwrap();
    assert!(w.repr().contains("access=ACCESS_WRITE"), "{}", w.repr());
    let r = open(0, opts(Access::Default, sh, Prot::READ, 0)).unwrap();
    assert!(r.repr().contains("access=ACCESS_READ"));
    expect_err(
        r.write(b"x").map_err(wasm_mmap_guest::Error),
        "TypeError",
        "mmap can't modify a readonly memory map.",
    );
    let p = open(0, opts(Access::Default, MapFlags::PRIVATE, rw, 0)).unwrap();
    assert!(p.repr().contains("access=ACCESS_DEFAULT"));
    p.write(b"PRIVATE").unwrap();
    let both_flags = open(0, opts(Access::Default, sh | MapFlags::PRIVATE, rw, 0)).unwrap();
    assert_eq!(
        both_flags.get_slice(Some(0), Some(3), None).unwrap(),
        b"aaa",
        "private writes stay private"
    );
    let mut buf = f.read(7, 0).unwrap().0;
    assert_eq!(buf, b"aaaaaaa");
    both_flags.write(b"SHARED").unwrap();
    buf = f.read(6, 0).unwrap().0;
    assert_eq!(
        buf, b"SHARED",
        "shared|private maps shared, as Linux MAP_SHARED_VALIDATE"
    );

    // a read-only descriptor can be mapped read or copy, never shared-writable
    let ro = open_file("c.bin", false).unwrap();
    expect_err(Mmap::map(&ro, 0, MmapOptions::new()), "OSError", "13");
    expect_err(
        Mmap::map(&ro, 0, MmapOptions::new().access(Access::Write)),
        "OSError",
        "13",
    );
    Mmap::map(&ro, 0, MmapOptions::new().access(Access::Read)).unwrap();
    let c = Mmap::map(&ro, 0, MmapOptions::new().access(Access::Copy)).unwrap();
    c.set(0, b'Z').unwrap();
    assert_eq!(f.read(1, 0).unwrap().0, b"S");

    // a write-only descriptor cannot be mapped at all (mmap(2) needs read)
    let (dir, _) = get_directories().into_iter().next().unwrap();
    let wo = dir
        .open_at(
            PathFlags::empty(),
            "c.bin",
            OpenFlags::empty(),
            DescriptorFlags::WRITE,
        )
        .unwrap();
    expect_err(Mmap::map(&wo, 0, MmapOptions::new()), "OSError", "13");
    expect_err(
        Mmap::map(&wo, 0, MmapOptions::new().access(Access::Read)),
        "OSError",
        "13",
    );

    // a directory: ENODEV, or EINVAL for length 0, as from mmap(2)
    expect_err(
        Mmap::map(&dir, 1, MmapOptions::new().access(Access::Read)),
        "OSError",
        "19",
    );
    expect_err(
        Mmap::map(&dir, 0, MmapOptions::new().access(Access::Read)),
        "OSError",
        "22",
    );
    println!("ok");
}
