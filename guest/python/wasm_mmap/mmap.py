"""`mmap` with CPython's API over the wasm-mmap WIT interface."""

import errno
import inspect
import operator
import sys

from componentize_py_types import Err
from wit_world.imports import mmap as _w

from . import _errno, _files

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

# The guest's C types, for argument checks as CPython makes them on this
# platform: a component's CPython is 32-bit (sys.maxsize == 2**31 - 1), so
# ssize_t and long are 32 bits there, as on any 32-bit CPython.
_SSIZE_MAX = sys.maxsize
_LONG_MAX = (1 << 31) - 1 if sys.maxsize < (1 << 32) else (1 << 63) - 1
_INT_MAX = (1 << 31) - 1
_LLONG_MAX = (1 << 63) - 1


def _tname(v):
    return type(v).__name__


def _n(v):
    """A Py_ssize_t argument (format `n`)."""
    i = operator.index(v)
    if not -_SSIZE_MAX - 1 <= i <= _SSIZE_MAX:
        raise OverflowError("Python int too large to convert to C ssize_t")
    return i


def _as_ssize(v, exc):
    """`v` as CPython's PyNumber_AsSsize_t(v, exc) makes it: past ssize_t,
    `exc` saying it cannot fit."""
    i = operator.index(v)
    if not -_SSIZE_MAX - 1 <= i <= _SSIZE_MAX:
        raise exc(f"cannot fit '{_tname(v)}' into an index-sized integer")
    return i


def _n_or_none(v):
    """An optional `n` argument not given (None is a TypeError, as in C)."""
    return None if v is _NOT_GIVEN else _n(v)


def _c_long(v):
    i = operator.index(v)
    if not -_LONG_MAX - 1 <= i <= _LONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return i


def _i(v):
    """A C int argument (format `i`)."""
    i = _c_long(v)
    if i > _INT_MAX:
        raise OverflowError("signed integer is greater than maximum")
    if i < -_INT_MAX - 1:
        raise OverflowError("signed integer is less than minimum")
    return i


def _off(v):
    """An off_t argument (format `L`: 64 bits on every platform)."""
    i = operator.index(v)
    if not -_LLONG_MAX - 1 <= i <= _LLONG_MAX:
        raise OverflowError("Python int too large to convert to C long")
    return i


def _opt_n(v):
    """`read(n)`'s optional size (None: all)."""
    if v is None:
        return None
    if not hasattr(type(v), "__index__"):
        raise TypeError(f"argument should be integer or None, not '{_tname(v)}'")
    return _as_ssize(v, OverflowError)


def _slice_part(v, lo=-_SSIZE_MAX - 1):
    """A slice bound or step: None, or clamped to ssize_t as CPython does."""
    if v is None:
        return None
    if not hasattr(type(v), "__index__"):
        raise TypeError("slice indices must be integers or None or have an __index__ method")
    return max(lo, min(_SSIZE_MAX, operator.index(v)))


def _slice(key):
    """A slice's (start, stop, step), checked in PySlice_Unpack's order:
    the step first (zero is a ValueError), then start and stop."""
    step = _slice_part(key.step, -_SSIZE_MAX)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    return _slice_part(key.start), _slice_part(key.stop), step


def _subscript(key):
    """`m[key]`'s key: an index, or a slice's (start, stop, step)."""
    if isinstance(key, slice):
        return _slice(key)
    if not hasattr(type(key), "__index__"):
        raise TypeError("mmap indices must be integers")
    return _as_ssize(key, IndexError)


def _buf(v):
    """The bytes of a bytes-like argument (format `y*`)."""
    if type(v) is bytes:
        return v
    try:
        mv = memoryview(v)
    except TypeError:
        raise TypeError(f"a bytes-like object is required, not '{_tname(v)}'") from None
    if not mv.c_contiguous:
        raise BufferError("memoryview: underlying buffer is not C-contiguous")
    return mv.tobytes()


_NOT_GIVEN = object()
_WHENCE = (_w.Whence.SET, _w.Whence.CUR, _w.Whence.END)
_BAD_ARGUMENT = (TypeError, ValueError, OverflowError, IndexError, BufferError)
_CLOSED = "mmap closed or invalid"


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
    raise OSError(_errno.local(v.value.errno), v.value.message) from None


def _call(f, *args):
    try:
        return f(*args)
    except Err as e:
        err = e
    # Raised outside the `except`: the new exception then has no
    # __context__ pointing at componentize-py's Err, a frozen dataclass that
    # tools walking the chain (unittest, traceback) cannot update.
    _raise(err)


def _flags(bits, kind):
    out = kind(0)
    for bit, flag in ((1, list(kind)[0]), (2, list(kind)[1])):
        if bits & bit:
            out |= flag
    return out


def _byte(v):
    """`m[i] = v`'s value."""
    if not hasattr(type(v), "__index__"):
        raise TypeError("mmap item value must be an int")
    i = _as_ssize(v, TypeError)
    if not 0 <= i <= 255:
        raise ValueError("mmap item value must be in range(0, 256)")
    return i


def _ubyte(v):
    """`write_byte(v)`'s value (format `b`)."""
    v = _c_long(v)
    if v < 0:
        raise OverflowError("unsigned byte integer is less than minimum")
    if v > 255:
        raise OverflowError("unsigned byte integer is greater than maximum")
    return v


class mmap:
    """`mmap.mmap(fileno, length, flags=MAP_SHARED, prot=PROT_WRITE|PROT_READ,
    access=ACCESS_DEFAULT, offset=0, *, trackfd=True, tagname=None)`;
    `fileno` -1 is anonymous memory (named with `tagname`, which CPython has
    on Windows only).

    Arguments are checked as CPython checks them, in its order: a closed map
    first, then the argument's type and C range, then the map's access, then
    the range in the map. The common calls go straight to the host, and the
    checks run only when the host cannot take the arguments as given."""

    # Made in __new__, as CPython's mmap is (tp_new): a subclass may call
    # `mmap.mmap.__new__(cls, -1, n)` and give its own __init__ other
    # arguments.
    def __new__(cls, fileno, length, flags=MAP_SHARED, prot=PROT_WRITE | PROT_READ,
                access=ACCESS_DEFAULT, offset=0, *, trackfd=True, tagname=None):
        self = super().__new__(cls)
        self._open(fileno, length, flags, prot, access, offset, bool(trackfd), tagname)
        return self

    def __init__(self, *args, **kwargs):
        pass

    def _open(self, fileno, length, flags, prot, access, offset, trackfd, tagname):
        fileno, length, flags, prot = _i(fileno), _n(length), _i(flags), _i(prot)
        access, offset = _i(access), _off(offset)
        if tagname is not None and not isinstance(tagname, str):
            raise TypeError(f"tagname must be str or None, not {_tname(tagname)}")
        if length < 0:
            raise OverflowError("memory mapped length must be positive")
        if offset < 0:
            raise OverflowError("memory mapped offset must be positive")
        if access != ACCESS_DEFAULT and (flags != MAP_SHARED or prot != PROT_WRITE | PROT_READ):
            raise ValueError("mmap can't specify both access and flags, prot.")
        if access not in (0, 1, 2, 3):
            raise ValueError("mmap invalid access parameter.")
        self._trackfd = trackfd
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
                raise OSError(errno.EBADF, "Bad file descriptor (not a file this program opened by path)")
            if length == 0 and _SSIZE_MAX < (1 << 32):
                # The rest of the file must fit this CPython's ssize_t:
                # checked before mapping, as CPython does.
                try:
                    size = d.stat().size
                except Err:
                    size = 0
                if size - offset > _SSIZE_MAX:
                    raise ValueError("mmap length is too large")
            if tagname:
                self._m = _call(_w.Mmap.open_tagged, d, length, tagname, opts)
            else:
                self._m = _call(_w.Mmap.open, d, length, opts)
        if fileno == -1 and length == 0 and _SSIZE_MAX < (1 << 32):
            # An existing named object, opened at its size: it too must fit.
            if _call(self._m.len) > _SSIZE_MAX:
                self._m.close()
                raise ValueError("mmap length is too large")

    def _bad(self):
        """An argument was refused: CPython reports a closed map first."""
        if self._m.closed():
            raise ValueError(_CLOSED) from None

    def _checked(self, convert):
        """`convert()`'s arguments; one it refuses is reported after a
        closed map, as CPython does."""
        try:
            return convert()
        except _BAD_ARGUMENT:
            self._bad()
            raise

    # file-like
    def close(self):
        self._m.close()

    @property
    def closed(self):
        return self._m.closed()

    def __enter__(self):
        self._bad()
        return self

    def __exit__(self, *exc):
        self.close()

    def __len__(self):
        try:
            return self._m.len()
        except Err as e:
            err = e
        _raise(err)

    def size(self):
        if not self._trackfd:
            self._bad()
            raise OSError(errno.EBADF, "Bad file descriptor")
        return _call(self._m.size)

    def tell(self):
        return _call(self._m.tell)

    def seek(self, pos, whence=0):
        if type(pos) is int and type(whence) is int and 0 <= whence <= 2 \
                and -_SSIZE_MAX - 1 <= pos <= _SSIZE_MAX:
            try:
                return self._m.seek(pos, _WHENCE[whence])
            except Err as e:
                err = e
            _raise(err)
        pos, whence = self._checked(lambda: (_n(pos), _i(whence)))
        if whence not in (0, 1, 2):
            self._bad()
            raise ValueError("unknown seek type")
        return _call(self._m.seek, pos, _w.Whence(whence))

    def seekable(self):
        return True

    def read(self, n=None):
        if n is None or (type(n) is int and -_SSIZE_MAX - 1 <= n <= _SSIZE_MAX):
            try:
                return self._m.read(n)
            except Err as e:
                err = e
            _raise(err)
        return _call(self._m.read, self._checked(lambda: _opt_n(n)))

    def read_byte(self):
        try:
            return self._m.read_byte()
        except Err as e:
            err = e
        _raise(err)

    def readline(self):
        return _call(self._m.readline)

    def write(self, data):
        return _call(self._m.write, self._checked(lambda: _buf(data)))

    def write_byte(self, byte):
        if type(byte) is int and 0 <= byte <= 255:
            try:
                return self._m.write_byte(byte)
            except Err as e:
                err = e
            _raise(err)
        return _call(self._m.write_byte, self._checked(lambda: _ubyte(byte)))

    def _find(self, f, sub, start, end):
        return _call(f, *self._checked(lambda: (_buf(sub), _n_or_none(start), _n_or_none(end))))

    def find(self, sub, start=_NOT_GIVEN, end=_NOT_GIVEN):
        return self._find(self._m.find, sub, start, end)

    def rfind(self, sub, start=_NOT_GIVEN, end=_NOT_GIVEN):
        return self._find(self._m.rfind, sub, start, end)

    def flush(self, offset=0, size=_NOT_GIVEN):
        offset, size = self._checked(lambda: (_n(offset), _n_or_none(size)))
        return _call(self._m.flush, offset, size)

    def madvise(self, option, start=0, length=_NOT_GIVEN):
        option, start, length = self._checked(lambda: (_i(option), _n(start), _n_or_none(length)))
        advice = _ADVICE.get(option)
        if advice is not None and (length is None or start < 0 or length < 0
                                   or length <= _SSIZE_MAX - start):
            return _call(self._m.madvise, _w.Advice(advice), start, length)
        # CPython's checks before madvise(2), for what the host cannot be
        # asked: an advice it does not know (EINVAL from the OS), and a
        # start + length past this CPython's ssize_t.
        size = len(self)
        if start < 0 or start >= size:
            raise ValueError("madvise start out of bounds")
        if length is not None and length < 0:
            raise ValueError("madvise length invalid")
        if length is not None and _SSIZE_MAX - start < length:
            raise OverflowError("madvise length too large")
        raise OSError(errno.EINVAL, "Invalid argument")

    def move(self, dest, src, count):
        return _call(self._m.move, *self._checked(lambda: (_n(dest), _n(src), _n(count))))

    def resize(self, newsize):
        self._bad()
        newsize = _n(newsize)
        if not self._trackfd:
            raise ValueError("mmap can't resize with trackfd=False.")
        return _call(self._m.resize, newsize)

    # sequence
    def __getitem__(self, key):
        if type(key) is int and -_SSIZE_MAX - 1 <= key <= _SSIZE_MAX:
            try:
                return self._m.get(key)
            except Err as e:
                err = e
            _raise(err)
        k = self._checked(lambda: _subscript(key))
        if type(k) is int:
            return self[k]
        return _call(self._m.get_slice, *k)

    def __setitem__(self, key, value):
        if type(key) is int:
            if type(value) is int and 0 <= value <= 255 and -_SSIZE_MAX - 1 <= key <= _SSIZE_MAX:
                try:
                    return self._m.set(key, value)
                except Err as e:
                    err = e
                _raise(err)
        elif type(key) is slice and type(value) is bytes:
            start, stop, step = key.start, key.stop, key.step
            if all(v is None or type(v) is int and -_SSIZE_MAX <= v <= _SSIZE_MAX
                   for v in (start, stop, step)) and step != 0:
                try:
                    return self._m.set_slice(start, stop, step, value)
                except Err as e:
                    err = e
                _raise(err)
        return self._assign(key, value, False)

    def __delitem__(self, key):
        self._assign(key, None, True)

    def _assign(self, key, value, delete):
        """`m[key] = value` (or `del m[key]`), checked in CPython's order:
        closed, access, the index (or slice), then the value."""
        self._bad()
        if self._readonly:
            raise TypeError("mmap can't modify a readonly memory map.")
        if isinstance(key, slice):
            start, stop, step = _slice(key)
            if delete:
                raise TypeError("mmap object doesn't support slice deletion")
            return _call(self._m.set_slice, start, stop, step, _buf(value))
        if not hasattr(type(key), "__index__"):
            raise TypeError("mmap indices must be integer")
        i = _as_ssize(key, IndexError)
        n = len(self)
        if not -n <= i < n:
            raise IndexError("mmap index out of range")
        if delete:
            raise TypeError("mmap doesn't support item deletion")
        return _call(self._m.set, i, _byte(value))

    def __iter__(self):
        # CPython's mmap iterates through its sequence item: 1-byte bytes.
        return (self[i:i + 1] for i in range(len(self)))

    def __buffer__(self, flags):
        """PEP 688: `memoryview(m)`, `bytes(m)`, `re.search(p, m)`, `b.find(m)`
        and every other reader of a buffer get a read-only snapshot of the
        map's bytes, taken now. The bytes live in the host, not in this
        component's memory, so no live or writable view of them can exist
        here: a writable buffer is refused (assign slices instead)."""
        if flags & inspect.BufferFlags.WRITABLE:
            self._bad()
            raise BufferError("wasm_mmap: a map has no writable buffer in a component "
                              "(its bytes live in the host); assign a slice instead")
        return memoryview(self[:])

    def __repr__(self):
        return self._m.repr()

    # No __del__: dropping the resource handle closes the map in the host,
    # and componentize-py drops it when the handle object is collected. A
    # finalizer touching the handle could run after that drop inside a
    # reference cycle (the host then traps the component: unknown handle).
