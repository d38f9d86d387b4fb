"""The component that runs the adapted test_mmap.py (run_test_mmap.py
writes it, and this app's directory, at test time).

test_mmap's module level reads `mmap.PAGESIZE`, which only the host can
answer, so it cannot be imported while componentize-py builds the
component: its source is read then (as run_seed_watcher.py does) and run
as the module `test_mmap` when the component runs. The modules it imports
are imported here so that componentize-py bundles them."""

import errno  # noqa: F401
import itertools  # noqa: F401
import os
import random  # noqa: F401
import re  # noqa: F401
import socket  # noqa: F401
import string  # noqa: F401
import sys
import textwrap  # noqa: F401
import types
import unittest  # noqa: F401
import weakref  # noqa: F401

import suite
import wasm_mmap  # noqa: F401
import wasm_mmap_support  # noqa: F401
from wit_world import exports

with open(os.path.join(os.path.dirname(__file__), "test_mmap.py")) as _f:
    SOURCE = _f.read()


class Run(exports.Run):
    def run(self) -> None:
        module = types.ModuleType("test_mmap")
        module.__file__ = "test_mmap.py"
        sys.modules["test_mmap"] = module
        exec(compile(SOURCE, "test_mmap.py", "exec"), module.__dict__)
        suite.run(module)
