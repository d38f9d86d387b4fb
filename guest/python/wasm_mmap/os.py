"""The `os` module, but `open` returns numbers that `mmap.mmap` can map."""

import os as _real
from os import *  # noqa: F401,F403 - everything else is the real os

from . import _files


def open(path, flags, mode=0o777, *, dir_fd=None):  # noqa: A001 - shadows os.open on purpose
    """`os.open`: opens `path` in the preopened directories."""
    acc = flags & (_real.O_RDONLY | _real.O_WRONLY | _real.O_RDWR)
    write = acc in (_real.O_WRONLY, _real.O_RDWR) and acc != _real.O_RDONLY or bool(flags & _real.O_WRONLY)
    read = acc != _real.O_WRONLY
    d = _files.open_descriptor(_real.fspath(path), read=read, write=write, create=bool(flags & _real.O_CREAT))
    return _files.register(d)


def close(fd):
    """`os.close`."""
    if not _files.forget(fd):
        _real.close(fd)
