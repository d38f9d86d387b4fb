//! Every method of a shared read-write map of a real file, with each error
//! Python raises for it. Expected values were taken from CPython.
//! The harness then checks the file itself (writes must reach it).

use wasm_mmap_guest::{Advice, Mmap, MmapOptions, Whence, create_file};
use wasm_mmap_test_programs::{CLOSED, expect_err};

fn main() {
    let mut content = b"hello\nworld\n".to_vec();
    content.resize(8204, b'x');
    let f = create_file("methods.bin").unwrap();
    assert_eq!(f.write(&content, 0).unwrap(), 8204);
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    drop(f); // the map keeps the file (Python dup()s the fd)
    let r = m.raw();
    let l: i64 = 8204;

    assert_eq!(wasm_mmap_guest::pagesize(), 4096);
    assert_eq!(wasm_mmap_guest::allocation_granularity(), 4096);
    assert_eq!(m.len().unwrap(), 8204);
    assert_eq!(m.size().unwrap(), 8204);
    assert_eq!(m.tell().unwrap(), 0);
    assert!(r.seekable());
    assert!(!m.closed());
    assert_eq!(
        m.repr(),
        "<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=8204, pos=0, offset=0>"
    );

    // seek / tell / reads at the end
    expect_err(
        m.seek_to(-1, Whence::Set),
        "ValueError",
        "seek out of range",
    );
    expect_err(
        m.seek_to(l + 1, Whence::Set),
        "ValueError",
        "seek out of range",
    );
    assert_eq!(m.seek_to(l, Whence::Set).unwrap(), 8204);
    expect_err(m.read_byte(), "ValueError", "read byte out of range");
    expect_err(m.write_byte(1), "ValueError", "write byte out of range");
    assert_eq!(m.read_up_to(None).unwrap(), b"");
    assert_eq!(m.readline().unwrap(), b"");
    expect_err(m.write_bytes(b"a"), "ValueError", "data out of range");
    assert_eq!(m.write_bytes(b"").unwrap(), 0);
    assert_eq!(m.seek_to(0, Whence::Set).unwrap(), 0);
    assert_eq!(m.readline().unwrap(), b"hello\n");
    assert_eq!(m.tell().unwrap(), 6);
    assert_eq!(m.readline().unwrap(), b"world\n");
    assert_eq!(m.read_up_to(Some(3)).unwrap(), b"xxx");
    assert_eq!(m.tell().unwrap(), 15);
    assert_eq!(r.read(Some(-5)).unwrap().len(), 8204 - 15);
    assert_eq!(m.tell().unwrap(), 8204);
    assert_eq!(m.seek_to(-5, Whence::End).unwrap(), 8199);
    assert_eq!(m.seek_to(-5, Whence::Cur).unwrap(), 8194);
    assert_eq!(m.seek_to(3, Whence::Cur).unwrap(), 8197);
    expect_err(m.seek_to(1, Whence::End), "ValueError", "seek out of range");
    expect_err(
        m.seek_to(i64::MIN, Whence::Cur),
        "ValueError",
        "seek out of range",
    );
    expect_err(
        m.seek_to(i64::MAX, Whence::End),
        "ValueError",
        "seek out of range",
    );
    assert_eq!(m.tell().unwrap(), 8197, "a failed seek leaves the cursor");
    m.seek_to(0, Whence::Set).unwrap();
    assert_eq!(m.read_byte().unwrap(), b'h');
    assert_eq!(m.tell().unwrap(), 1);

    // indexing
    assert_eq!(m.get(0).unwrap(), b'h');
    assert_eq!(m.get(-1).unwrap(), b'x');
    assert_eq!(m.get(-l).unwrap(), b'h');
    expect_err(m.get(l), "IndexError", "mmap index out of range");
    expect_err(m.get(-l - 1), "IndexError", "mmap index out of range");
    expect_err(m.get(i64::MIN), "IndexError", "mmap index out of range");
    expect_err(m.set(l, 1), "IndexError", "mmap index out of range");
    m.set(0, b'H').unwrap();
    assert_eq!(m.get(0).unwrap(), b'H');

    // slices
    assert_eq!(m.to_vec().unwrap().len(), 8204);
    assert_eq!(m.slice(0..5).unwrap(), b"Hello");
    assert_eq!(m.slice(..=4).unwrap(), b"Hello");
    assert_eq!(m.slice_step(Some(4), Some(0), Some(-1)).unwrap(), b"olle");
    assert_eq!(m.slice_step(Some(8), Some(2), Some(-2)).unwrap(), b"rwo");
    assert_eq!(
        m.slice_step(
            Some(-1_000_000_000_000_000_000),
            Some(1_000_000_000_000_000_000),
            Some(3)
        )
        .unwrap()[..4],
        *b"Hlwl"
    );
    assert_eq!(
        m.slice_step(None, None, Some(-1)).unwrap()[8200..],
        *b"lleH"
    );
    assert_eq!(m.slice_step(Some(5), Some(2), None).unwrap(), b"");
    assert_eq!(m.slice_step(None, None, Some(i64::MIN)).unwrap(), b"x");
    expect_err(
        m.slice_step(None, None, Some(0)),
        "ValueError",
        "slice step cannot be zero",
    );
    expect_err(
        m.set_slice(0..2, b"abc"),
        "IndexError",
        "mmap slice assignment is wrong size",
    );
    expect_err(
        m.set_slice_step(None, None, Some(2), b"abc"),
        "IndexError",
        "mmap slice assignment is wrong size",
    );
    expect_err(
        m.set_slice_step(None, None, Some(0), b""),
        "ValueError",
        "slice step cannot be zero",
    );
    assert_eq!(
        m.slice(0..5).unwrap(),
        b"Hello",
        "a failed slice assignment writes nothing"
    );
    m.set_slice(0..5, b"HELLO").unwrap();
    assert_eq!(m.slice(0..5).unwrap(), b"HELLO");
    m.set_slice_step(Some(4), None, Some(-2), b"123").unwrap();
    assert_eq!(m.slice(0..5).unwrap(), b"3E2L1");
    m.set_slice(0..5, b"hello").unwrap();
    m.set_slice(5..5, b"").unwrap();

    // find / rfind (cursor is 1)
    assert_eq!(r.find(b"world", None, None).unwrap(), 6);
    assert_eq!(
        r.find(b"hello", None, None).unwrap(),
        -1,
        "find starts at the cursor"
    );
    assert_eq!(r.find(b"hello", Some(0), None).unwrap(), 0);
    assert_eq!(r.find(b"", Some(5), Some(3)).unwrap(), -1);
    assert_eq!(r.find(b"", Some(l + 5), None).unwrap(), 8204);
    assert_eq!(r.rfind(b"", Some(3), Some(7)).unwrap(), 7);
    assert_eq!(r.rfind(b"", Some(7), Some(3)).unwrap(), -1);
    assert_eq!(r.rfind(b"x", None, None).unwrap(), 8203);
    assert_eq!(r.rfind(b"o", Some(0), Some(6)).unwrap(), 4);
    assert_eq!(r.rfind(b"o", Some(0), Some(-8196)).unwrap(), 7);
    assert_eq!(r.find(b"world", Some(-100), None).unwrap(), -1);
    assert_eq!(r.find(b"o", Some(-2 * l), Some(5)).unwrap(), 4);
    assert_eq!(
        r.find(b"o", Some(0), Some(4)).unwrap(),
        -1,
        "find never reads past end"
    );
    assert_eq!(m.find(b"world"), Some(6));
    assert_eq!(m.find_in(b"zzz", Some(0), None).unwrap(), None);
    m.set_slice(100..103, b"a\0b").unwrap();
    assert_eq!(r.find(b"\0b", Some(0), None).unwrap(), 101, "embedded NUL");
    assert_eq!(r.rfind(b"a\0", Some(0), None).unwrap(), 100);
    m.set_slice(100..103, b"xxx").unwrap();

    // move
    r.move_(l, l, 0).unwrap();
    expect_err(
        r.move_(l + 1, 0, 0),
        "ValueError",
        "source, destination, or count out of range",
    );
    expect_err(
        r.move_(-1, 0, 1),
        "ValueError",
        "source, destination, or count out of range",
    );
    expect_err(
        r.move_(0, 0, l + 1),
        "ValueError",
        "source, destination, or count out of range",
    );
    expect_err(
        r.move_(0, i64::MAX, i64::MAX),
        "ValueError",
        "source, destination, or count out of range",
    );
    m.move_within(0, 6, 5).unwrap();
    assert_eq!(m.slice(0..6).unwrap(), b"world\n");
    m.set_slice(0..5, b"hello").unwrap();
    m.move_within(1, 0, 4).unwrap();
    assert_eq!(
        m.slice(0..5).unwrap(),
        b"hhell",
        "overlapping move is memmove"
    );
    m.set_slice(0..5, b"hello").unwrap();

    // flush
    m.flush().unwrap();
    r.flush(Some(0), Some(0)).unwrap();
    expect_err(
        r.flush(Some(0), Some(l + 1)),
        "ValueError",
        "flush values out of range",
    );
    expect_err(
        r.flush(Some(-1), Some(1)),
        "ValueError",
        "flush values out of range",
    );
    expect_err(
        r.flush(Some(0), Some(-1)),
        "ValueError",
        "flush values out of range",
    );
    expect_err(
        r.flush(Some(4096), None),
        "ValueError",
        "flush values out of range",
    );
    expect_err(
        r.flush(Some(l + 5), Some(0)),
        "ValueError",
        "flush values out of range",
    );
    expect_err(r.flush(Some(1), Some(1)), "OSError", "22");
    r.flush(Some(4096), Some(4108)).unwrap();

    // madvise
    m.madvise(Advice::Normal, None, None).unwrap();
    expect_err(
        m.madvise(Advice::Normal, Some(l), None),
        "ValueError",
        "madvise start out of bounds",
    );
    expect_err(
        m.madvise(Advice::Normal, Some(-1), None),
        "ValueError",
        "madvise start out of bounds",
    );
    expect_err(
        m.madvise(Advice::Normal, Some(0), Some(-1)),
        "ValueError",
        "madvise length invalid",
    );
    m.madvise(Advice::Normal, Some(0), Some(i64::MAX)).unwrap();
    expect_err(
        m.madvise(Advice::Normal, Some(1), Some(i64::MAX)),
        "OverflowError",
        "madvise length too large",
    );
    expect_err(m.madvise(Advice::Normal, Some(1), Some(1)), "OSError", "22");
    m.madvise(Advice::WillNeed, Some(4096), Some(10)).unwrap();
    m.madvise(Advice::Sequential, None, None).unwrap();
    m.madvise(Advice::Random, None, None).unwrap();

    // write
    m.seek_to(0, Whence::Set).unwrap();
    assert_eq!(m.write_bytes(b"HELLO").unwrap(), 5);
    assert_eq!(m.tell().unwrap(), 5);
    m.seek_to(l - 2, Whence::Set).unwrap();
    expect_err(m.write_bytes(b"abc"), "ValueError", "data out of range");
    assert_eq!(m.tell().unwrap(), 8202);
    assert_eq!(
        m.slice(8202..).unwrap(),
        b"xx",
        "a failed write writes nothing"
    );
    assert_eq!(m.write_bytes(b"yz").unwrap(), 2);
    assert_eq!(m.slice(8200..).unwrap(), b"xxyz");
    m.seek_to(8203, Whence::Set).unwrap();
    m.write_byte(b'!').unwrap();
    assert_eq!(m.tell().unwrap(), 8204);
    expect_err(m.write_byte(b'?'), "ValueError", "write byte out of range");

    // resize (shrinking below the cursor, then growing)
    expect_err(m.resize_raw(-1), "ValueError", "new size out of range");
    expect_err(m.resize_raw(i64::MAX), "OSError", "*");
    m.seek_to(10, Whence::Set).unwrap();
    m.resize(5).unwrap();
    assert_eq!(m.len().unwrap(), 5);
    assert_eq!(m.size().unwrap(), 5);
    assert_eq!(m.tell().unwrap(), 10, "the cursor stays past the new end");
    assert_eq!(m.read_up_to(None).unwrap(), b"");
    assert_eq!(m.readline().unwrap(), b"");
    expect_err(m.write_bytes(b""), "ValueError", "data out of range");
    expect_err(m.read_byte(), "ValueError", "read byte out of range");
    expect_err(m.seek_to(0, Whence::Cur), "ValueError", "seek out of range");
    assert_eq!(m.find(b"L"), None);
    m.resize(100_000).unwrap();
    assert_eq!(m.len().unwrap(), 100_000);
    assert_eq!(m.size().unwrap(), 100_000);
    assert_eq!(m.slice(0..6).unwrap(), b"HELLO\0");
    assert_eq!(m.get(99_999).unwrap(), 0);
    m.set(99_999, 7).unwrap();
    m.flush().unwrap();
    assert_eq!(
        m.repr(),
        "<mmap.mmap closed=False, access=ACCESS_DEFAULT, length=100000, pos=10, offset=0>"
    );

    // close: every call is then ValueError, close again is fine
    m.close();
    assert!(m.closed());
    m.close();
    assert_eq!(m.repr(), "<mmap.mmap closed=True>");
    expect_err(m.len(), "ValueError", CLOSED);
    expect_err(m.size(), "ValueError", CLOSED);
    expect_err(m.tell(), "ValueError", CLOSED);
    expect_err(m.seek_to(0, Whence::Set), "ValueError", CLOSED);
    expect_err(m.read_up_to(None), "ValueError", CLOSED);
    expect_err(m.read_byte(), "ValueError", CLOSED);
    expect_err(m.readline(), "ValueError", CLOSED);
    expect_err(m.write_bytes(b""), "ValueError", CLOSED);
    expect_err(m.write_byte(0), "ValueError", CLOSED);
    expect_err(m.find_in(b"a", None, None), "ValueError", CLOSED);
    expect_err(m.rfind_in(b"a", None, None), "ValueError", CLOSED);
    expect_err(m.flush(), "ValueError", CLOSED);
    expect_err(m.madvise(Advice::Normal, None, None), "ValueError", CLOSED);
    expect_err(m.move_within(0, 0, 0), "ValueError", CLOSED);
    expect_err(m.resize(5), "ValueError", CLOSED);
    expect_err(m.get(0), "ValueError", CLOSED);
    expect_err(m.set(0, 0), "ValueError", CLOSED);
    expect_err(m.slice(..), "ValueError", CLOSED);
    expect_err(m.set_slice(0..0, b""), "ValueError", CLOSED);
    println!("ok");
}

/// `m.resize(n)` with Python's signed argument.
trait ResizeRaw {
    fn resize_raw(&self, n: i64) -> wasm_mmap_guest::Result<()>;
}

impl ResizeRaw for Mmap {
    fn resize_raw(&self, n: i64) -> wasm_mmap_guest::Result<()> {
        Ok(self.raw().resize(n)?)
    }
}
