"""`mmap` with CPython's API over the wasm-mmap WIT interface."""

import operator

from componentize_py_types import Err
from wit_world.imports import mmap as _w

from . import _files

ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY = 0, 1, 2, 3
# CPython's Linux values. Only MAP_SHARED and MAP_PRIVATE mean anything to
# the host; the other MAP_* bits are accepted and have no effect (the host
# makes anonymous memory for fileno -1 whatever the flags say).
MAP_SHARED, MAP_PRIVATE = 0x01, 0x02
MAP_ANONYMOUS = MAP_ANON = 0x20
MAP_DENYWRITE, MAP_EXECUTABLE, MAP_POPULATE, MAP_STACK = 0x0800, 0x1000, 0x8000, 0x20000
MAP_NORESERVE = 0x4000
PROT_READ, PROT_WRITE, PROT_EXEC = 0x1, 0x2, 0x4
# Linux's MADV_* numbers, as CPython exposes them; each maps to the WIT
# `advice` case of the same name.
MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED = 0, 1, 2, 3, 4
MADV_FREE, MADV_DONTFORK, MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE = 8, 10, 11, 12, 13
MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP, MADV_DODUMP = 14, 15, 16, 17
_ADVICE = {MADV_NORMAL: 0, MADV_RANDOM: 1, MADV_SEQUENTIAL: 2, MADV_WILLNEED: 3, MADV_DONTNEED: 4,
           MADV_FREE: 5, MADV_DONTFORK: 6, MADV_DOFORK: 7, MADV_MERGEABLE: 8, MADV_UNMERGEABLE: 9,
           MADV_HUGEPAGE: 10, MADV_NOHUGEPAGE: 11, MADV_DONTDUMP: 12, MADV_DODUMP: 13}
error = OSError

_S64 = (-(1 << 63), (1 << 63) - 1)
_U64 = (0, (1 << 64) - 1)


def _int(v, lo_hi=_S64):
    """`v` as a WIT integer, checked as CPython checks an `n` argument:
    anything but an int (or an object with `__index__`) is a TypeError, a
    value C cannot hold an OverflowError. The bindings never see a value
    they cannot lower (which would abort the whole component)."""
    i = operator.index(v)
    if not lo_hi[0] <= i <= lo_hi[1]:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return i


def _opt(v):
    """An optional `n` (None: not given), as CPython's `read(n)`."""
    if v is None:
        return None
    if not hasattr(type(v), "__index__"):
        raise TypeError(f"argument should be integer or None, not '{type(v).__name__}'")
    return _int(v)


def __getattr__(name):
    # Asked of the host on first use: componentize-py imports modules while
    # building the component, when there is no host to ask.
    if name == "PAGESIZE":
        return _w.pagesize()
    if name == "ALLOCATIONGRANULARITY":
        return _w.allocation_granularity()
    raise AttributeError(name)


def _raise(e):
    v = e.value
    if isinstance(v, _w.ErrorCode_ValueError):
        raise ValueError(v.value) from None
    if isinstance(v, _w.ErrorCode_IndexError):
        raise IndexError(v.value) from None
    if isinstance(v, _w.ErrorCode_TypeError):
        raise TypeError(v.value) from None
    if isinstance(v, _w.ErrorCode_OverflowError):
        raise OverflowError(v.value) from None
    raise OSError(v.value.errno, v.value.message) from None


def _call(f, *args):
    try:
        return f(*args)
    except Err as e:
        _raise(e)


def _flags(bits, kind):
    out = kind(0)
    for bit, flag in ((1, list(kind)[0]), (2, list(kind)[1])):
        if bits & bit:
            out |= flag
    return out


def _byte(v):
    if not hasattr(type(v), "__index__"):
        raise TypeError("mmap item value must be an int")
    v = operator.index(v)
    if not 0 <= v <= 255:
        raise ValueError("mmap item value must be in range(0, 256)")
    return v


class mmap:
    """`mmap.mmap(fileno, length, flags=MAP_SHARED, prot=PROT_WRITE|PROT_READ,
    access=ACCESS_DEFAULT, offset=0, *, tagname=None)`; `fileno` -1 is
    anonymous memory (named with `tagname`)."""

    # Made in __new__, as CPython's mmap is (tp_new): a subclass may call
    # `mmap.mmap.__new__(cls, -1, n)` and give its own __init__ other
    # arguments.
    def __new__(cls, fileno, length, flags=MAP_SHARED, prot=PROT_WRITE | PROT_READ,
                access=ACCESS_DEFAULT, offset=0, *, tagname=None, trackfd=True):
        self = super().__new__(cls)
        self._open(fileno, length, flags, prot, access, offset, tagname)
        return self

    def __init__(self, *args, **kwargs):
        pass

    def _open(self, fileno, length, flags, prot, access, offset, tagname):
        fileno, length = _int(fileno), _int(length)
        flags, prot, access, offset = _int(flags), _int(prot), _int(access), _int(offset)
        if access not in (0, 1, 2, 3):
            raise ValueError("mmap invalid access parameter.")
        if tagname is not None and not isinstance(tagname, str):
            raise TypeError(f"tagname must be str or None, not {type(tagname).__name__}")
        # What the host will refuse writes to, known here so that `m[i] = v`
        # checks in CPython's order without asking the host first.
        self._readonly = access == ACCESS_READ or (access == ACCESS_DEFAULT and not prot & PROT_WRITE)
        opts = _w.MapOptions(flags=_flags(flags, _w.MapFlags), prot=_flags(prot, _w.Prot),
                             access=_w.Access(access), offset=offset)
        if fileno == -1 and tagname:
            self._m = _call(_w.Mmap.open_named, tagname, length, _w.CreateMode.CREATE_OR_OPEN, opts)
        elif fileno == -1:
            self._m = _call(_w.Mmap.anonymous, length, opts)
        else:
            d = _files.lookup(fileno)
            if d is None:
                # A descriptor from the builtin open() or the real os.open:
                # found again by path (see `_files.reopen`).
                d = _files.reopen(fileno, write=not self._readonly and access != ACCESS_COPY)
            if d is None:
                raise OSError(9, "Bad file descriptor (not a file this program opened by path)")
            if tagname:
                self._m = _call(_w.Mmap.open_tagged, d, length, tagname, opts)
            else:
                self._m = _call(_w.Mmap.open, d, length, opts)

    # file-like
    def close(self):
        self._m.close()

    @property
    def closed(self):
        return self._m.closed()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        return _call(self._m.len)

    def size(self):
        return _call(self._m.size)

    def tell(self):
        return _call(self._m.tell)

    def seek(self, pos, whence=0):
        pos, whence = _int(pos), _int(whence)
        if whence not in (0, 1, 2):
            raise ValueError("unknown seek type")
        return _call(self._m.seek, pos, _w.Whence(whence))

    def seekable(self):
        return True

    def read(self, n=None):
        return _call(self._m.read, _opt(n))

    def read_byte(self):
        return _call(self._m.read_byte)

    def readline(self):
        return _call(self._m.readline)

    def write(self, data):
        return _call(self._m.write, bytes(data))

    def write_byte(self, byte):
        if isinstance(byte, int) and 0 <= byte <= 255:
            return _call(self._m.write_byte, byte)
        # CPython checks the map first, then parses the argument.
        if self._m.closed():
            raise ValueError("mmap closed or invalid")
        byte = operator.index(byte)
        if byte < 0:
            raise OverflowError("unsigned byte integer is less than minimum")
        if byte > 255:
            raise OverflowError("unsigned byte integer is greater than maximum")
        return _call(self._m.write_byte, byte)

    def find(self, sub, start=None, end=None):
        return _call(self._m.find, bytes(memoryview(sub)), _opt(start), _opt(end))

    def rfind(self, sub, start=None, end=None):
        return _call(self._m.rfind, bytes(memoryview(sub)), _opt(start), _opt(end))

    def flush(self, offset=0, size=None):
        return _call(self._m.flush, _int(offset), _opt(size))

    def madvise(self, option, start=0, length=None):
        option, start, length = _int(option), _int(start), _opt(length)
        if option not in _ADVICE:
            raise OSError(22, "Invalid argument")
        return _call(self._m.madvise, _w.Advice(_ADVICE[option]), start, length)

    def move(self, dest, src, count):
        return _call(self._m.move, _int(dest), _int(src), _int(count))

    def resize(self, newsize):
        return _call(self._m.resize, _int(newsize))

    # sequence
    def __getitem__(self, key):
        if isinstance(key, slice):
            return _call(self._m.get_slice, _opt(key.start), _opt(key.stop), _opt(key.step))
        if not hasattr(type(key), "__index__"):
            raise TypeError("mmap indices must be integers")
        return _call(self._m.get, _int(key))

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            return _call(self._m.set_slice, _opt(key.start), _opt(key.stop), _opt(key.step),
                         bytes(memoryview(value)))
        if not hasattr(type(key), "__index__"):
            raise TypeError("mmap indices must be integer")
        i = _int(key)
        if isinstance(value, int) and 0 <= value <= 255:
            return _call(self._m.set, i, value)
        # A bad value: CPython's order is closed, access, index, then value.
        if self._m.closed():
            raise ValueError("mmap closed or invalid")
        if self._readonly:
            raise TypeError("mmap can't modify a readonly memory map.")
        n = len(self)
        if not -n <= i < n:
            raise IndexError("mmap index out of range")
        return _call(self._m.set, i, _byte(value))

    def __iter__(self):
        return (self[i:i + 1] for i in range(len(self)))

    def __repr__(self):
        return self._m.repr()

    # No __del__: dropping the resource handle closes the map in the host,
    # and componentize-py drops it when the handle object is collected. A
    # finalizer touching the handle could run after that drop inside a
    # reference cycle (the host then traps the component: unknown handle).
