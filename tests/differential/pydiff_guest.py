"""The Python-level differential's component: `pyops` on `wasm_mmap.mmap`
(built by guest/languages/build.sh, run by pydiff.py)."""

import pyops
from wasm_mmap import mmap
from wit_world import exports


class Run(exports.Run):
    def run(self) -> None:
        pyops.main(mmap)
