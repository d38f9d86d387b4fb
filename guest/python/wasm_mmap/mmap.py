"""`mmap` with CPython's API over the wasm-mmap WIT interface."""

from componentize_py_types import Err
from wit_world.imports import mmap as _w

from . import _files

ACCESS_DEFAULT, ACCESS_READ, ACCESS_WRITE, ACCESS_COPY = 0, 1, 2, 3
MAP_SHARED, MAP_PRIVATE = 1, 2
PROT_READ, PROT_WRITE = 1, 2
(MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED, MADV_DONTNEED, MADV_FREE, MADV_DONTFORK,
 MADV_DOFORK, MADV_MERGEABLE, MADV_UNMERGEABLE, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTDUMP,
 MADV_DODUMP) = range(14)
error = OSError


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
    if not isinstance(v, int):
        raise TypeError("mmap item value must be an int")
    if not 0 <= v <= 255:
        raise ValueError("mmap item value must be in range(0, 256)")
    return v


class mmap:
    """`mmap.mmap(fileno, length, flags=MAP_SHARED, prot=PROT_WRITE|PROT_READ,
    access=ACCESS_DEFAULT, offset=0, *, tagname=None)`; `fileno` -1 is
    anonymous memory (named with `tagname`)."""

    def __init__(self, fileno, length, flags=MAP_SHARED, prot=PROT_WRITE | PROT_READ,
                 access=ACCESS_DEFAULT, offset=0, *, tagname=None, trackfd=True):
        if access not in (0, 1, 2, 3):
            raise ValueError("mmap invalid access parameter.")
        opts = _w.MapOptions(flags=_flags(flags, _w.MapFlags), prot=_flags(prot, _w.Prot),
                             access=_w.Access(access), offset=offset)
        if fileno == -1 and tagname:
            self._m = _call(_w.Mmap.open_named, tagname, length, _w.CreateMode.CREATE_OR_OPEN, opts)
        elif fileno == -1:
            self._m = _call(_w.Mmap.anonymous, length, opts)
        else:
            d = _files.lookup(fileno)
            if d is None:
                raise OSError(9, "Bad file descriptor (open it with wasm_mmap.os.open)")
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
        if whence not in (0, 1, 2):
            raise ValueError("unknown seek type")
        return _call(self._m.seek, pos, _w.Whence(whence))

    def seekable(self):
        return True

    def read(self, n=None):
        return _call(self._m.read, n)

    def read_byte(self):
        return _call(self._m.read_byte)

    def readline(self):
        return _call(self._m.readline)

    def write(self, data):
        return _call(self._m.write, bytes(data))

    def write_byte(self, byte):
        if byte < 0:
            raise OverflowError("unsigned byte integer is less than minimum")
        if byte > 255:
            raise OverflowError("unsigned byte integer is greater than maximum")
        return _call(self._m.write_byte, byte)

    def find(self, sub, start=None, end=None):
        return _call(self._m.find, bytes(sub), start, end)

    def rfind(self, sub, start=None, end=None):
        return _call(self._m.rfind, bytes(sub), start, end)

    def flush(self, offset=0, size=None):
        return _call(self._m.flush, offset, size)

    def madvise(self, option, start=0, length=None):
        return _call(self._m.madvise, _w.Advice(option), start, length)

    def move(self, dest, src, count):
        return _call(self._m.move, dest, src, count)

    def resize(self, newsize):
        return _call(self._m.resize, newsize)

    # sequence
    def __getitem__(self, key):
        if isinstance(key, slice):
            return _call(self._m.get_slice, key.start, key.stop, key.step)
        return _call(self._m.get, key.__index__())

    def __setitem__(self, key, value):
        if isinstance(key, slice):
            return _call(self._m.set_slice, key.start, key.stop, key.step, bytes(value))
        return _call(self._m.set, key.__index__(), _byte(value))

    def __iter__(self):
        return (self[i:i + 1] for i in range(len(self)))

    def __repr__(self):
        return self._m.repr()

    def __del__(self):
        m = getattr(self, "_m", None)
        if m is not None:
            m.close()
