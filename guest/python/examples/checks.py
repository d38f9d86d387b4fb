"""CPython-API checks run as a component: exceptions, slicing, with, cursor."""

import errno
import sys

from wit_world import exports

from wasm_mmap import mmap, os


def expect(exc, msg, f, *args):
    try:
        f(*args)
    except exc as e:
        assert str(e) == msg, (str(e), msg)
        return
    raise AssertionError(f"expected {exc.__name__}({msg})")


def platform_rules():
    """A component's CPython is 32-bit: its ssize_t rules apply (issue I)."""
    assert sys.maxsize == 2**31 - 1
    a = mmap.mmap(-1, 2 * mmap.PAGESIZE)
    expect(OverflowError, "madvise length too large", a.madvise, mmap.MADV_NORMAL, mmap.PAGESIZE, sys.maxsize)
    expect(ValueError, "madvise start out of bounds", a.madvise, mmap.MADV_NORMAL, 2 * mmap.PAGESIZE, sys.maxsize)
    expect(OverflowError, "cannot fit 'int' into an index-sized integer", a.read, 2**31)
    expect(IndexError, "cannot fit 'int' into an index-sized integer", a.__getitem__, 2**31)
    expect(TypeError, "cannot fit 'int' into an index-sized integer", a.__setitem__, 0, 2**31)
    expect(OverflowError, "Python int too large to convert to C ssize_t", mmap.mmap, -1, 2**31)
    expect(OverflowError, "Python int too large to convert to C long", a.seek, 0, 2**31)
    assert a[-(2**40):2**40] == bytes(2 * mmap.PAGESIZE)  # slices clamp
    a.close()
    # The rest of a file past 2 GiB cannot be a map here, as on any 32-bit
    # CPython (the sparse file costs no disk).
    with open("big.bin", "wb") as f:
        f.truncate(3 << 30)
    with open("big.bin", "r+b") as f:
        expect(ValueError, "mmap length is too large", mmap.mmap, f.fileno(), 0)
        m = mmap.mmap(f.fileno(), 4096, offset=(3 << 30) - 4096)
        assert len(m) == 4096 and m.size() == 3 << 30
        m.close()
    os.remove("big.bin")


def buffers_and_trackfd():
    """PEP 688 buffers (read-only snapshots) and trackfd=False (issue I)."""
    import io
    import re

    m = mmap.mmap(-1, 16)
    m[:5] = b"hello"
    assert bytes(m)[:6] == b"hello\0" and re.search(b"l+", m).span() == (2, 4)
    with memoryview(m) as v:
        assert v.readonly and v[:5] == b"hello"
    assert b"xhello"[1:].find(bytes(m)[:5]) == 0 and m.find(bytearray(b"llo")) == 2
    # A writable buffer (readinto) is refused, never silently lost.
    import inspect

    expect(BufferError, "wasm_mmap: a map has no writable buffer in a component (its bytes live in the host); "
           "assign a slice instead", m.__buffer__, inspect.BufferFlags.WRITABLE)
    expect(TypeError, "readinto() argument must be read-write bytes-like object, not mmap",
           io.BytesIO(b"xy").readinto, m)
    t = mmap.mmap(-1, 16, trackfd=False)
    expect(OSError, f"[Errno {errno.EBADF}] Bad file descriptor", t.size)
    expect(ValueError, "mmap can't resize with trackfd=False.", t.resize, 32)
    t.close()
    expect(ValueError, "mmap closed or invalid", t.size)
    expect(ValueError, "mmap closed or invalid", t.__enter__)
    m.close()
    expect(ValueError, "mmap closed or invalid", bytes, m)


class Run(exports.Run):
    def run(self) -> None:
        fd = os.open("py.bin", os.O_RDWR | os.O_CREAT)
        with open("py.bin", "wb") as f:
            f.write(b"hello\nworld\n" + b"x" * 100)
        with mmap.mmap(fd, 0) as m:
            assert len(m) == 112 and m.size() == 112
            assert m.readline() == b"hello\n" and m.tell() == 6
            assert m.find(b"world") == 6 and m.find(b"hello") == -1 and m.rfind(b"x") == 111
            assert m[0] == ord("h") and m[-1] == ord("x") and m[0:5] == b"hello" and m[4::-1] == b"olleh"
            m[0:5] = b"HELLO"
            m[5] = 33
            assert m[:6] == b"HELLO!"
            assert m.seek(0, 2) == 112
            expect(ValueError, "seek out of range", m.seek, 1, 2)
            expect(ValueError, "unknown seek type", m.seek, 0, 3)
            expect(IndexError, "mmap index out of range", m.__getitem__, 112)
            expect(IndexError, "mmap slice assignment is wrong size", m.__setitem__, slice(0, 2), b"abc")
            expect(ValueError, "mmap item value must be in range(0, 256)", m.__setitem__, 0, 256)
            expect(ValueError, "data out of range", m.write, b"z")
            expect(ValueError, "read byte out of range", m.read_byte)
            m.seek(0)
            assert m.write(b"hi") == 2 and m.read(3) == b"LLO"
            m.flush()
            r = mmap.mmap(fd, 0, access=mmap.ACCESS_READ)
            expect(TypeError, "mmap can't modify a readonly memory map.", r.write, b"a")
            expect(OSError, f"[Errno {errno.EINVAL}] Invalid argument", mmap.mmap, -1, 0)
            a = mmap.mmap(-1, 10)
            assert a[:] == bytes(10)
            assert mmap.PAGESIZE == 4096
            # CPython's check order for a bad item value: closed, access,
            # index, value (issue I).
            expect(IndexError, "mmap index out of range", m.__setitem__, 112, 256)
            expect(IndexError, "mmap index out of range", m.__setitem__, 112, b"\0")
            expect(TypeError, "mmap can't modify a readonly memory map.", r.__setitem__, 0, 256)
            expect(TypeError, "mmap item value must be an int", m.__setitem__, 0, b"\0")
            expect(TypeError, "mmap indices must be integers", m.__getitem__, "a")
            expect(TypeError, "mmap indices must be integer", m.__setitem__, "a", 1)
            expect(OverflowError, "unsigned byte integer is greater than maximum", m.write_byte, 256)
            # Bad argument types raise as in CPython instead of aborting the
            # component inside the bindings.
            expect(TypeError, "argument should be integer or None, not 'str'", m.read, "foo")
            expect(TypeError, "'NoneType' object cannot be interpreted as an integer",
                   lambda: mmap.mmap(-1, 10, offset=None))
            expect(OverflowError, "Python int too large to convert to C ssize_t", m.seek, 1 << 70)
            m[100] = True
            assert m[100] == 1
            m[100] = ord("x")
            assert m.find(bytearray(b"LLO"), 0) == 2 and m.find(memoryview(b"LLO"), 0) == 2
            assert mmap.MAP_ANONYMOUS == 0x20 and mmap.PROT_EXEC == 4 and mmap.MADV_FREE == 8
            a.madvise(mmap.MADV_DONTNEED)
            # THE idiom: a file from the builtin open(), mapped by fileno().
            with open("py2.bin", "wb") as f:
                f.write(b"abc" * 100)
            with open("py2.bin", "r+b") as f:
                m2 = mmap.mmap(f.fileno(), 0)
                assert m2[:3] == b"abc" and len(m2) == 300
                m2[0:3] = b"XYZ"
                m2.close()
            with open("py2.bin", "rb") as f, open("py.bin", "rb") as later:
                # Found by the file's identity, not as the newest path.
                assert f.read(3) == b"XYZ" and later.read(2) == b"hi"
                r2 = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
                assert r2[:3] == b"XYZ" and len(r2) == 300
                r2.close()
            # Subclassing as in CPython: made by __new__, any __init__.
            class Sub(mmap.mmap):
                def __init__(self, label):
                    self.label = label
            sub = Sub.__new__(Sub, -1, 4096)
            sub.__init__("x")
            assert len(sub) == 4096 and sub.label == "x" and isinstance(sub, mmap.mmap)
            sub.close()
            # A map in a reference cycle, collected by the GC after an
            # exception went through the package: no trap (issue I).
            import gc
            c = mmap.mmap(-1, 10)
            c.me = c
            try:
                c.seek(99)
            except ValueError:
                pass
            del c
            gc.collect()
        assert m.closed
        platform_rules()
        buffers_and_trackfd()
        expect(ValueError, "mmap closed or invalid", len, m)
        expect(ValueError, "mmap closed or invalid", m.__setitem__, 0, 256)
        expect(ValueError, "mmap closed or invalid", m.write_byte, 256)
        with open("py.bin", "rb") as f:
            assert f.read(6) == b"hiLLO!"
        print("ok")
        sys.stdout.flush()
