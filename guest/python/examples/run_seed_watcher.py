"""Component entry point: runs the article's watcher (seed_watcher.py)
verbatim, whose only change from CPython is its import line.

componentize-py bundles what is imported while it builds the component, so
the seed's source is read then and executed when the component runs (the
seed loops forever, so it cannot simply be imported here)."""

import os
import sys

import wasm_mmap  # noqa: F401 - bundled for the seed's import line

from wit_world import exports

with open(os.path.join(os.path.dirname(__file__), "seed_watcher.py")) as _f:
    SEED = _f.read()


class Run(exports.Run):
    def run(self) -> None:
        sys.stdout.reconfigure(line_buffering=True)
        exec(compile(SEED, "seed_watcher.py", "exec"), {"__name__": "__main__"})
