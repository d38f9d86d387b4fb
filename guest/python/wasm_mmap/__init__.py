"""Python's `mmap` for WebAssembly components (componentize-py), on wasm-mmap.

Existing code changes only its import line::

    import mmap, os, time                      # CPython
    from wasm_mmap import mmap, os, time       # a component run by wasm-mmap

`mmap.mmap(...)` then makes a real OS mapping in the host (shared maps are
seen by other processes). `os` is the real module except for `open`/`close`:
a component cannot turn a C-level file descriptor into the capability the
host maps, so `os.open` here opens through the preopened directories and
returns a number that `mmap.mmap` accepts, as CPython's `f.fileno()`.
"""

import time

from . import mmap, os

__all__ = ["mmap", "os", "time"]
