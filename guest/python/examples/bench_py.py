"""The Python rows of `cargo run --release --example bench`:
`bench_py FILE N` prints `name ns-per-op` for the package's hot calls and,
beside them, the raw componentize-py bindings they stand on (the floor:
the cheapest call that carries the same answer), plus the two cheapest
calls of all (a free function, a method returning a bool)."""

import sys
import time

from wit_world import exports
from wit_world.imports import mmap as _w

from wasm_mmap import mmap


def timed(name, n, loop):
    t = time.perf_counter_ns()
    loop(n)
    print(name, (time.perf_counter_ns() - t) / n)


class Run(exports.Run):
    def run(self) -> None:
        path, n = sys.argv[1], int(sys.argv[2])
        with open(path, "r+b") as f:
            m = mmap.mmap(f.fileno(), 0)
        raw, size = m._m, len(m)
        whence = _w.Whence.SET

        def getitem(n):
            for i in range(n):
                m[i % size]

        def raw_get(n):
            for i in range(n):
                raw.get(i % size)

        def read_byte(n):
            for _ in range(n):
                try:
                    m.read_byte()
                except ValueError:
                    m.seek(0)

        def raw_read_byte(n):
            for _ in range(n):
                try:
                    raw.read_byte()
                except Exception:
                    raw.seek(0, whence)

        def read_4k(n):
            for i in range(n):
                m.seek((i * 4096) % (size - 4096))
                m.read(4096)

        def raw_read_4k(n):
            for i in range(n):
                raw.seek((i * 4096) % (size - 4096), whence)
                raw.read(4096)

        def free_function(n):
            for _ in range(n):
                _w.pagesize()

        def method_bool(n):
            for _ in range(n):
                raw.closed()

        for name, loop in [("getitem", getitem), ("raw_get", raw_get), ("read_byte", read_byte),
                           ("raw_read_byte", raw_read_byte), ("read_4k", read_4k), ("raw_read_4k", raw_read_4k),
                           ("free_function", free_function), ("method_bool", method_bool)]:
            timed(name, n, loop)
        sys.stdout.flush()
