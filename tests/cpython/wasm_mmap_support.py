"""Stand-ins for the parts of CPython's `test.support` that test_mmap.py
imports, for running it inside a component (see run_test_mmap.py).

The real `test.support` is not in the component (componentize-py bundles
only what the app imports, and it expects a full CPython install). Each
stand-in does what the original does for a plain `unittest` run, except:
`import_module("mmap")` gives `wasm_mmap.mmap`, and `assert_python_ok`
skips (a component cannot start a subprocess).
"""

import gc
import importlib
import os
import unittest

_2G = 2 * 1024 ** 3
_4G = 4 * 1024 ** 3
is_emscripten = False
is_apple = False
# CPython's is "@test_<pid>_tmp" in the working directory (here the
# preopened directory the runner gives the component as ".").
TESTFN = "@test_wasm_mmap_tmp"


def requires(resource, msg=None):
    """Outside regrtest every resource is enabled (as CPython's)."""


def cpython_only(test):
    return test


def gc_collect():
    for _ in range(3):
        gc.collect()


def import_module(name, deprecated=False, *, required_on=()):
    if name == "mmap":
        from wasm_mmap import mmap

        return mmap
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise unittest.SkipTest(str(e))


def unlink(filename):
    try:
        os.unlink(filename)
    except (FileNotFoundError, NotADirectoryError):
        pass


def assert_python_ok(*args, **env_vars):
    raise unittest.SkipTest("a component cannot start a Python subprocess")
