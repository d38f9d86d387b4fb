#!/usr/bin/env python3
"""Python-level differential: `wasm_mmap.mmap` in a component against
CPython's own `mmap`, through the same Python calls (`pyops.py`).

The Rust runner (`diff.py` + the `diff_runner` guest) checks the host's
semantics with arguments the WIT can carry. This one checks the Python
package on top of it with what only Python can pass: floats, strings, None,
objects with `__index__`, bytearrays and strided memoryviews, byte values
outside 0..255, huge ints, keyword arguments of the constructor, slices
with odd parts, deletion, iteration, `bytes(m)`, `memoryview(m)` and
`re.search(p, m)` (the buffer protocol), `with` on a closed map.

    python3 tests/differential/pydiff.py --guest PYDIFF.wasm [--cli WASM_MMAP] \\
        [--sequences 2000] [--seed 1]

prints `N sequences, M calls, K divergences`, the first divergences, and
exits 1 on any. Not generated, as known and documented differences:
- integers between 2**31 and 2**63 in magnitude (the component's CPython is
  32-bit: they overflow there and not in a 64-bit CPython; ±2**70, which
  overflows both, is generated instead);
- `tagname` (CPython has it on Windows only);
- resizing anonymous memory, and madvise DONTNEED/FREE on it (wasm-mmap's
  anonymous memory is private; CPython's shared one follows shmem rules);
- a writable buffer of a map (refused in a component: see the package);
- a sequence is compared up to where CPython would die of SIGBUS (its file
  shorter than its map after a failed resize).
"""

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True  # nothing written into the checkout
sys.path.insert(0, HERE)
import pyops  # noqa: E402

import mmap  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(HERE))
CLI = os.path.join(ROOT, "target", "release", "wasm-mmap")
BIG = 2 ** 70
HOST_LIMITS = ["--max-maps", "100000"]


def has_trackfd():
    try:
        mmap.mmap(-1, 1, trackfd=False).close()
        return True
    except TypeError:
        return False


class Gen:
    def __init__(self, rng, trackfd):
        self.rng, self.trackfd = rng, trackfd

    def pick(self, *xs):
        return self.rng.choice(xs)

    def bad_int(self):
        return self.pick(1.5, "x", None, ("@object", None), BIG, -BIG, b"1")

    def int_arg(self, n, bad=0.15):
        r = self.rng
        if r.random() < bad:
            return self.bad_int()
        v = r.choice([0, 1, -1, n, n + 1, -n, -n - 1, n - 1, 4096, r.randrange(-n - 2, n + 3),
                      r.randrange(0, n + 2)])
        return ("@index", v) if r.random() < 0.05 else (True if v == 1 and r.random() < 0.1 else v)

    def data(self, limit=12):
        r = self.rng
        b = bytes(r.choice(b"ab\n\x00\xff") for _ in range(r.randrange(0, limit)))
        kind = r.random()
        if kind < 0.75:
            return b
        return self.pick(("@bytearray", b), ("@memoryview", b), ("@strided", b + b), b.decode("latin-1"), 5,
                         None)

    def byte(self):
        if self.rng.random() < 0.7:
            return self.rng.randrange(256)
        return self.pick(256, -1, BIG, 1.5, "a", b"a", ("@index", 7), True)

    def slice_part(self, n, step=False):
        if self.rng.random() < 0.3:
            return None
        if self.rng.random() < 0.1:
            return self.pick(BIG, -BIG, 1.5, ("@index", 2), 0 if step else "x")
        if step:
            return self.pick(1, 2, 3, -1, -2, 7)
        return self.int_arg(n, bad=0)

    def key(self, n):
        if self.rng.random() < 0.35:
            return ("@slice", (self.slice_part(n), self.slice_part(n), self.slice_part(n, step=True)))
        if self.rng.random() < 0.1:
            return self.bad_int()
        return self.int_arg(n, bad=0)

    def call(self, n, kind):
        r = self.rng
        ops = ["read", "read_byte", "readline", "write", "write_byte", "seek", "tell", "len", "size", "find",
               "rfind", "flush", "madvise", "move", "getitem", "setitem", "delitem", "close", "closed", "repr",
               "enter", "iter", "bytes", "memoryview", "re", "contains"]
        weights = [8, 4, 4, 7, 6, 8, 2, 2, 2, 6, 4, 3, 3, 4, 10, 9, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1]
        if kind == "file":
            ops.append("resize")
            weights.append(3)
        op = r.choices(ops, weights)[0]
        if op == "read":
            return op, [] if r.random() < 0.2 else [self.pick(None, self.int_arg(n))]
        if op in ("read_byte", "readline", "tell", "len", "size", "close", "closed", "repr", "enter", "bytes",
                  "memoryview"):
            return op, []
        if op == "iter":
            return op, [5]
        if op == "contains":
            return op, [self.pick(b"a", b"\x00", b"ab", b"z")]
        if op == "re":
            return op, [self.pick(b"a+", b"\\x00+", b"[ab]{2}\n", "a")]
        if op == "write":
            return op, [self.data()]
        if op == "write_byte":
            return op, [self.byte()]
        if op == "seek":
            args = [self.int_arg(n)]
            if r.random() < 0.6:
                args.append(self.pick(0, 1, 2, 0, 1, 2, 3, -1, 1.5, BIG))
            return op, args
        if op in ("find", "rfind"):
            args = [self.data(4)]
            for _ in range(r.randrange(3)):
                args.append(self.int_arg(n))
            return op, args
        if op == "flush":
            return op, [self.int_arg(n) for _ in range(r.randrange(3))]
        if op == "madvise":
            advice = [0, 1, 2, 3, 10, 11, 12, 13, 14, 15, 16, 17, 999, "x"]
            if kind == "file":
                advice += [4, 8]
            args = [r.choice(advice)]
            for _ in range(r.randrange(3)):
                args.append(self.int_arg(n))
            return op, args
        if op == "move":
            return op, [self.int_arg(n), self.int_arg(n), self.pick(0, 1, n, r.randrange(0, n + 2), -1,
                                                                     self.bad_int())]
        if op == "resize":
            return op, [self.pick(-1, 0, 1, n, n + 1, 4096, 4097, r.randrange(1, 9000), BIG, "x")]
        if op == "getitem":
            return op, [self.key(n)]
        if op == "delitem":
            return op, [self.key(n)]
        # setitem: slices mostly get a value of the right length.
        key = self.key(n)
        if isinstance(key, tuple) and key[0] == "@slice":
            parts = [pyops.value(p) for p in key[1]]
            try:
                want = len(range(n)[slice(*parts)])
            except (ValueError, TypeError):
                want = 1
            if r.random() < 0.8:
                value = bytes(r.choice(b"AZ\x00") for _ in range(want))
                if r.random() < 0.2:
                    value = self.pick(("@bytearray", value), ("@memoryview", value))
            else:
                value = self.data()
            return op, [key, value]
        return op, [key, self.byte()]

    def sequence(self, name, max_calls):
        r = self.rng
        if r.random() < 0.75:
            kind = "file"
            size = r.choice([1, 5, 100, 4096, 5000])
            content = bytes(r.choice(b"ab\n\x00\xff") for _ in range(size))
            length = r.choice([0, 0, 0, size, size - 1, 1, size + 1, -1])
        else:
            kind, content, size = "anon", b"", 0
            length = r.choice([1, 100, 4096, 5000, 0, -1])
        if r.random() < 0.1:
            length = self.pick(BIG, -BIG, 1.5, "x", None, ("@index", 10))
        kwargs = {}
        if r.random() < 0.4:
            kwargs["access"] = self.pick(1, 2, 3, 1, 2, 3, 0, 4, -1, "x")
        if r.random() < 0.3:
            kwargs["flags"] = self.pick(1, 2, 1, 2, 3, 0, "x", BIG)
        if r.random() < 0.2:
            kwargs["prot"] = self.pick(3, 1, 2, 3, 1.5)
        if r.random() < 0.15:
            kwargs["offset"] = self.pick(0, 4096, 4096, 1, -1, BIG, "x") if size > 4096 or kind == "anon" \
                else self.pick(0, 1, -1, BIG, "x")
        if self.trackfd and r.random() < 0.15:
            kwargs["trackfd"] = self.pick(False, False, True, 0, "x")
        calls = []
        n = max(1, size if isinstance(length, int) and length == 0 else length if isinstance(length, int)
                and 0 < length < 10000 else 10)
        for _ in range(r.randrange(1, max_calls + 1)):
            op, args = self.call(n, kind)
            calls.append((op, args))
            if op == "resize" and isinstance(args[0], int) and 0 < args[0] < 10000:
                n = args[0]
        return name, content, (name, (kind, length, kwargs), calls)


def would_crash(offset):
    def stop(m, f):
        if f is None or m.closed:
            return False
        return os.fstat(f.fileno()).st_size < offset + len(m)

    return stop


def run_native(seqs, work):
    os.makedirs(work, exist_ok=True)
    here = os.getcwd()
    os.chdir(work)
    try:
        out = {}
        for name, content, seq in seqs:
            with open(f"{name}.bin", "wb") as f:
                f.write(content)
            kwargs = seq[1][2]
            offset = kwargs.get("offset", 0)
            offset = offset if isinstance(offset, int) and not isinstance(offset, bool) and offset >= 0 else 0
            out[name] = pyops.run(mmap, repr(seq), stop=would_crash(offset))
        return out
    finally:
        os.chdir(here)


def run_guest(seqs, work, cli, guest):
    os.makedirs(work, exist_ok=True)
    with open(os.path.join(work, "seqs.txt"), "w") as f:
        for name, content, seq in seqs:
            with open(os.path.join(work, f"{name}.bin"), "wb") as b:
                b.write(content)
            f.write(repr(seq) + "\n")
    p = subprocess.run([cli, "run", *HOST_LIMITS, "--dir", work + "::.", guest], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"the pydiff guest failed ({p.returncode}):\n{p.stderr[-3000:]}\n{p.stdout[-2000:]}")
    out, cur = {}, None
    for line in p.stdout.splitlines():
        if line.startswith("seq "):
            cur = line[4:]
            out[cur] = []
        else:
            out[cur].append(line)
    return out


def compare(name, seq, want, got, pywork, gwork):
    stopped = "stop" in want
    if stopped:
        k = want.index("stop")
        want, got = want[:k], got[:k]
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            where = "open" if i == 0 else f"call {i - 1}: {seq[2][i - 1]!r}"
            return f"{name}: {where}\n  python:    {w}\n  wasm_mmap: {g}"
    if len(want) != len(got) and not stopped:
        return f"{name}: python gave {len(want)} lines, wasm_mmap {len(got)}"
    if not stopped and seq[1][0] == "file":
        a = open(os.path.join(pywork, f"{name}.bin"), "rb").read()
        b = open(os.path.join(gwork, f"{name}.bin"), "rb").read()
        if a != b:
            return f"{name}: final file differs (python {len(a)} bytes, wasm_mmap {len(b)})"
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sequences", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-calls", type=int, default=40)
    ap.add_argument("--cli", default=CLI)
    ap.add_argument("--guest", required=True, help="the pydiff component (guest/languages/build.sh)")
    ap.add_argument("--show", type=int, default=10, help="divergences to print")
    args = ap.parse_args()
    gen = Gen(random.Random(args.seed), has_trackfd())
    seqs = [gen.sequence(f"s{i}", args.max_calls) for i in range(args.sequences)]
    work = tempfile.mkdtemp(prefix="wasm-mmap-pydiff-")
    try:
        pywork, gwork = os.path.join(work, "py"), os.path.join(work, "guest")
        want = run_native(seqs, pywork)
        got = run_guest(seqs, gwork, args.cli, args.guest)
        bad = []
        for name, _, seq in seqs:
            d = compare(name, seq, want[name], got.get(name, []), pywork, gwork)
            if d:
                bad.append(d)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for d in bad[: args.show]:
        print(d)
    calls = sum(len(s[2][2]) for s in seqs)
    print(f"CPython {sys.version.split()[0]}: {len(seqs)} sequences, {calls} calls, {len(bad)} divergences")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
