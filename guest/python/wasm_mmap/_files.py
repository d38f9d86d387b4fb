"""Descriptors opened through the preopened directories, by number."""

import os as _os

from wit_world.imports import preopens as _preopens
from wit_world.imports import types as _types
from componentize_py_types import Err

_by_number = {}
_next = [1 << 20]


def _fs_error(e):
    code = e.value
    errno = {"NO_ENTRY": 2, "ACCESS": 13, "NOT_PERMITTED": 1, "EXIST": 17, "IS_DIRECTORY": 21,
             "READ_ONLY": 30, "WOULD_BLOCK": 11}.get(getattr(code, "name", ""), 5)
    return OSError(errno, _os.strerror(errno))


def open_descriptor(path, read=True, write=False, create=False):
    """A `wasi:filesystem` descriptor for `path`, looked up in the preopens."""
    flags = _types.DescriptorFlags.READ if read or not write else _types.DescriptorFlags(0)
    if write:
        flags |= _types.DescriptorFlags.WRITE
    oflags = _types.OpenFlags.CREATE if create else _types.OpenFlags(0)
    last = OSError(2, "No such file or directory")
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
