//! `window_basic FILE`: FILE holds 4 pages, byte i = `i % 251`. Checks
//! what a window promises (issue G): a `write` window and the map's calls
//! see each other's writes; `read`/`copy` windows keep stores, `memory.copy`
//! and `memory.fill` private; bad placements are typed errors; a dropped
//! window's range is plain zeroed memory again; growing the guest memory
//! keeps windows. Leaves bytes 100..105 of the file = `b"wrote"` (written
//! through a window) for the test to check natively. Prints `ok`.

use std::alloc::{Layout, alloc_zeroed};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::windows as raw;
use wasm_mmap_guest::{Access, Mmap, MmapOptions, Window, open_file, pagesize};
use wasm_mmap_test_programs::{CLOSED, expect_err};

const PAGE: usize = 4096;

fn byte(i: usize) -> u8 {
    (i % 251) as u8
}

/// Page-aligned memory the test owns (never freed).
fn aligned(len: usize) -> *mut u8 {
    // SAFETY: non-zero size.
    unsafe { alloc_zeroed(Layout::from_size_align(len, PAGE).unwrap()) }
}

fn main() {
    assert_eq!(pagesize() as usize, PAGE);
    let path = std::env::args().nth(1).unwrap();
    let f = open_file(&path, true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    assert_eq!(m.len().unwrap(), 4 * PAGE as u64);

    // A shared window over pages 1..3.
    let w = Window::new(&m, PAGE as u64, 2 * PAGE as u64).unwrap();
    assert_eq!(w.len(), 2 * PAGE);
    assert_eq!(w.offset(), PAGE as u64);
    assert!(!w.replaced());
    assert_eq!(w.get(0).unwrap(), byte(PAGE));
    assert_eq!(
        w.read_vec(0, 2 * PAGE).unwrap(),
        m.read_at(PAGE as u64, 2 * PAGE as u64).unwrap()
    );
    w.set(10, 0xAA).unwrap();
    assert_eq!(
        m.get(PAGE as i64 + 10).unwrap(),
        0xAA,
        "window store seen by the map"
    );
    m.set(PAGE as i64 + 20, 0xBB).unwrap();
    assert_eq!(w.get(20).unwrap(), 0xBB, "map store seen by the window");
    expect_err(w.get(2 * PAGE), "ValueError", "window index out of range");
    w.store32(64, 0x1234_5678).unwrap();
    assert_eq!(w.load32(64).unwrap(), 0x1234_5678);
    expect_err(w.load32(2), "ValueError", "unaligned word access");
    assert_eq!(m.load32(PAGE as u64 + 64).unwrap(), 0x1234_5678);
    w.flush().unwrap();
    w.flush_range(PAGE as u64, 100).unwrap();
    expect_err(w.flush_range(1, 10), "OSError", "22");
    expect_err(
        w.flush_range(0, 3 * PAGE as u64),
        "ValueError",
        "flush values out of range",
    );

    // Through a window into the file, for the native check.
    let w0 = Window::new(&m, 0, PAGE as u64).unwrap();
    w0.write_from(100, b"wrote").unwrap();
    drop(w0);

    // Bad placements.
    let m_len = m.len().unwrap();
    expect_err(
        Window::new(&m, 100, PAGE as u64),
        "ValueError",
        "window offset must be a multiple of allocation-granularity()",
    );
    expect_err(
        Window::new(&m, m_len, PAGE as u64),
        "ValueError",
        "window range past the end of the map",
    );
    expect_err(
        Window::new(&m, 0, 5 * PAGE as u64),
        "ValueError",
        "window range past the end of the map",
    );
    let bad = "window memory must be non-empty, its address and length multiples of allocation-granularity()";
    let buf = aligned(2 * PAGE);
    // SAFETY: our own allocation; the host only takes its address.
    let unaligned = unsafe { std::slice::from_raw_parts(buf.add(1), PAGE) };
    expect_err(raw::Window::place(m.raw(), unaligned, 0), "ValueError", bad);
    // SAFETY: as above.
    let short = unsafe { std::slice::from_raw_parts(buf, 100) };
    expect_err(raw::Window::place(m.raw(), short, 0), "ValueError", bad);
    expect_err(raw::Window::place(m.raw(), &[], 0), "ValueError", bad);
    // SAFETY: the window's own memory, passed only by address.
    let over = unsafe { std::slice::from_raw_parts(w.as_ptr().add(PAGE), PAGE) };
    expect_err(
        raw::Window::place(m.raw(), over, 0),
        "ValueError",
        "window memory overlaps another window",
    );
    let anon = Mmap::anonymous(PAGE as u64, MmapOptions::new()).unwrap();
    expect_err(Window::new(&anon, 0, PAGE as u64), "OSError", "95");
    let closed = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    closed.close();
    expect_err(Window::new(&closed, 0, PAGE as u64), "ValueError", CLOSED);

    // Private windows: stores, memory.fill and memory.copy stay private.
    for access in [Access::Read, Access::Copy] {
        let p = Mmap::map(&f, 0, MmapOptions::new().access(access)).unwrap();
        let pw = Window::new(&p, 0, 2 * PAGE as u64).unwrap();
        assert_eq!(pw.get(300).unwrap(), byte(300));
        pw.set(300, 1).unwrap();
        pw.write_from(400, b"private").unwrap();
        // SAFETY: inside the window; LLVM emits memory.fill / memory.copy
        // for these with bulk memory, which wasmtime runs in host code.
        unsafe {
            std::ptr::write_bytes(pw.as_ptr().add(PAGE), 0x55, PAGE);
            std::ptr::copy(pw.as_ptr().add(PAGE), pw.as_ptr().add(8), 64);
        }
        assert_eq!(pw.get(300).unwrap(), 1);
        assert_eq!(pw.get(PAGE + 7).unwrap(), 0x55);
        assert_eq!(
            p.get(300).unwrap(),
            byte(300),
            "the file keeps its byte ({access:?})"
        );
        assert_eq!(
            m.get(PAGE as i64 + 7).unwrap(),
            byte(PAGE + 7),
            "no fill reached the file"
        );
        assert_eq!(
            m.read_at(400, 7).unwrap(),
            (400..407).map(byte).collect::<Vec<_>>()
        );
    }

    // A dropped window's memory is plain memory again: zeros, and writes
    // there never reach the file.
    let buf = aligned(PAGE);
    // SAFETY: our own allocation, passed by address.
    let mem = unsafe { std::slice::from_raw_parts(buf, PAGE) };
    let rw = raw::Window::place(m.raw(), mem, 2 * PAGE as u64).unwrap();
    assert_eq!(rw.address() as usize, buf as usize);
    // SAFETY: inside the window.
    assert_eq!(unsafe { buf.add(5).read_volatile() }, byte(2 * PAGE + 5));
    drop(rw);
    // SAFETY: our allocation, plain memory again.
    unsafe {
        assert_eq!(buf.add(5).read_volatile(), 0, "zeros after the drop");
        std::ptr::write_bytes(buf, 0xEE, PAGE);
    }
    assert_eq!(
        m.get(2 * PAGE as i64 + 5).unwrap(),
        byte(2 * PAGE + 5),
        "the file kept its byte"
    );

    // memory.grow after a window keeps it.
    let big = vec![1u8; 64 << 20];
    std::hint::black_box(&big);
    m.set(PAGE as i64 + 30, 0xCC).unwrap();
    assert_eq!(w.get(30).unwrap(), 0xCC);
    w.set(31, 0xCD).unwrap();
    assert_eq!(m.get(PAGE as i64 + 31).unwrap(), 0xCD);

    // Windows outlive their map.
    drop(m);
    assert_eq!(w.get(30).unwrap(), 0xCC);
    println!("ok");
}
