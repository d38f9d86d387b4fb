"""Descriptors opened through the preopened directories, by number."""

import errno as _errno
import os as _os
import sys as _sys

from wit_world.imports import preopens as _preopens
from wit_world.imports import types as _types
from componentize_py_types import Err

_by_number = {}
_next = [1 << 20]


def _fs_error(e):
    name = {"NO_ENTRY": "ENOENT", "ACCESS": "EACCES", "NOT_PERMITTED": "EPERM", "EXIST": "EEXIST",
            "IS_DIRECTORY": "EISDIR", "READ_ONLY": "EROFS", "WOULD_BLOCK": "EAGAIN"}.get(
        getattr(e.value, "name", ""), "EIO")
    number = getattr(_errno, name)
    return OSError(number, _os.strerror(number))


def open_descriptor(path, read=True, write=False, create=False):
    """A `wasi:filesystem` descriptor for `path`, looked up in the preopens."""
    flags = _types.DescriptorFlags.READ if read or not write else _types.DescriptorFlags(0)
    if write:
        flags |= _types.DescriptorFlags.WRITE
    oflags = _types.OpenFlags.CREATE if create else _types.OpenFlags(0)
    last = OSError(_errno.ENOENT, _os.strerror(_errno.ENOENT))
    for d, name in _preopens.get_directories():
        name = name.rstrip("/")
        rel = path
        if name not in ("", ".") and path.startswith(name + "/"):
            rel = path[len(name) + 1:]
        elif path.startswith("/"):
            continue
        try:
            return d.open_at(_types.PathFlags.SYMLINK_FOLLOW, rel, oflags, flags)
        except Err as e:
            last = _fs_error(e)
    raise last


def register(descriptor):
    n = _next[0]
    _next[0] += 1
    _by_number[n] = descriptor
    return n


def lookup(n):
    return _by_number.get(n)


def forget(n):
    return _by_number.pop(n, None) is not None


# Paths the program opened with the builtin `open()` (or the real
# `os.open`), newest last, from CPython's "open" audit event: the way back
# from a plain file descriptor to a path the preopens can open again, since
# a component cannot hand the host a C-level descriptor.
_opened = {}
_MAX_OPENED = 256


def _audit(event, args):
    if event == "open" and args and isinstance(args[0], (str, bytes)):
        path = _os.fsdecode(args[0])
        _opened.pop(path, None)
        _opened[path] = True
        if len(_opened) > _MAX_OPENED:
            del _opened[next(iter(_opened))]


_sys.addaudithook(_audit)


def reopen(fd, write):
    """A descriptor for the file behind the plain descriptor `fd`: the most
    recently opened path whose file is the same (`st_dev`, `st_ino`), opened
    again through the preopens (read-write when `write`, else read-only).
    None when no such path is known."""
    try:
        st = _os.fstat(fd)
    except OSError:
        return None
    for path in reversed(list(_opened)):
        try:
            other = _os.stat(path)
        except OSError:
            continue
        if (other.st_dev, other.st_ino) != (st.st_dev, st.st_ino):
            continue
        try:
            return open_descriptor(path, read=True, write=write)
        except OSError:
            if write:
                try:
                    return open_descriptor(path, read=True, write=False)
                except OSError:
                    pass
    return None
