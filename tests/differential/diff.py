#!/usr/bin/env python3
"""Differential test: wasm-mmap against CPython's own mmap module.

Generates seeded random sequences (a map of a random file, or anonymous
memory, with random access/flags/prot/length/offset, then 1-200 calls whose
arguments favour edges: negative, 0, len, len+1, huge). Each sequence runs
here on CPython's real `mmap` and, in one `wasm-mmap run` of the
`diff_runner` guest, on wasm-mmap. Every result, every exception class and
message (for OSError: the errno), the cursor after every call and the final
bytes of the file must match.

    python3 tests/differential/diff.py --sequences 100000 --seed 7

prints `N sequences, M calls, K divergences` and exits 1 on any divergence
(minimised, and saved with --save). `--replay FILE` reruns saved sequences.

Where CPython itself would die of SIGBUS (its file shorter than its map
after a failed resize), or its shared anonymous memory was resized (from
then on it follows shmem rules: a regrown map shows old pages, growth past
its size is SIGBUS; wasm-mmap's anonymous memory is private, see the WIT),
the sequence is compared up to that call only.
Known, documented differences are not generated: prot=0 (CPython crashes
on access; wasm-mmap answers EACCES), invalid access/whence/byte values
(unrepresentable in the WIT), madvise DONTNEED/FREE on anonymous memory
(wasm-mmap's is private: a guest cannot fork), and seek's return value
(None in CPython < 3.13; the cursor after each call is compared instead).
"""

import argparse
import mmap
import os
import random
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = os.path.join(ROOT, "target", "release", "wasm-mmap")
GUEST = os.path.join(ROOT, "target", "wasm-guests", "wasm32-wasip2", "release", "diff_runner.wasm")
ADVICE = ["MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_WILLNEED", "MADV_DONTNEED", "MADV_FREE",
          "MADV_DONTFORK", "MADV_DOFORK", "MADV_MERGEABLE", "MADV_UNMERGEABLE", "MADV_HUGEPAGE",
          "MADV_NOHUGEPAGE", "MADV_DONTDUMP", "MADV_DODUMP"]
I64_MIN, I64_MAX = -(2 ** 63), 2 ** 63 - 1
# The host's limits are lifted so that only Python's semantics answer.
HOST_LIMITS = ["--max-maps", "100000", "--max-mapped-bytes", str(I64_MAX), "--max-map-bytes", str(I64_MAX),
               "--max-read-bytes", str(I64_MAX), "--max-memory-bytes", str(I64_MAX)]


def hexs(b):
    return b.hex() if b else "-"


def unhex(s):
    return b"" if s == "-" else bytes.fromhex(s)


def arg(v):
    return "N" if v is None else str(v)


def opt(s):
    return None if s == "N" else int(s)


class Seq:
    """One sequence: how to map, the file's initial bytes, the calls."""

    def __init__(self, name, kind, content, length, access, flags, prot, offset, calls=None):
        self.name, self.kind, self.content = name, kind, content
        self.length, self.access, self.flags, self.prot, self.offset = length, access, flags, prot, offset
        self.calls = calls if calls is not None else []

    def header(self):
        return f"seq {self.name} {self.kind} {self.length} {self.access} {self.flags} {self.prot} {self.offset}"

    def text(self):
        return "\n".join([self.header(), *self.calls, "end"]) + "\n"

    def with_calls(self, calls):
        return Seq(self.name, self.kind, self.content, self.length, self.access, self.flags, self.prot,
                   self.offset, calls)


def py_call(m, a):
    """Runs one call (split text) on a CPython mmap; the result as text."""
    op = a[0]
    if op == "read":
        return hexs(m.read(opt(a[1])))
    if op == "read_byte":
        return str(m.read_byte())
    if op == "readline":
        return hexs(m.readline())
    if op == "write":
        n = m.write(unhex(a[1]))
        return str(len(unhex(a[1])) if n is None else n)
    if op == "write_byte":
        m.write_byte(int(a[1]))
        return "none"
    if op == "seek":
        m.seek(int(a[1]), int(a[2]))
        return "none"
    if op == "tell":
        return str(m.tell())
    if op == "len":
        return str(len(m))
    if op == "size":
        return str(m.size())
    if op in ("find", "rfind"):
        f = m.find if op == "find" else m.rfind
        sub, start, end = unhex(a[1]), opt(a[2]), opt(a[3])
        if start is None and end is None:
            return str(f(sub))
        if end is None:
            return str(f(sub, start))
        # Python's default start is the cursor.
        return str(f(sub, m.tell() if start is None else start, end))
    if op == "flush":
        o, s = opt(a[1]), opt(a[2])
        if o is None and s is None:
            m.flush()
        elif s is None:
            m.flush(o)
        else:
            m.flush(0 if o is None else o, s)
        return "none"
    if op == "madvise":
        adv = getattr(mmap, ADVICE[int(a[1])], None)
        if adv is None:
            raise OSError(22, "Invalid argument")
        s, n = opt(a[2]), opt(a[3])
        if s is None and n is None:
            m.madvise(adv)
        elif n is None:
            m.madvise(adv, s)
        else:
            m.madvise(adv, 0 if s is None else s, n)
        return "none"
    if op == "move":
        m.move(int(a[1]), int(a[2]), int(a[3]))
        return "none"
    if op == "resize":
        m.resize(int(a[1]))
        return "none"
    if op == "get":
        return str(m[int(a[1])])
    if op == "set":
        m[int(a[1])] = int(a[2])
        return "none"
    if op == "getslice":
        return hexs(m[opt(a[1]):opt(a[2]):opt(a[3])])
    if op == "setslice":
        m[opt(a[1]):opt(a[2]):opt(a[3])] = unhex(a[4])
        return "none"
    if op == "close":
        m.close()
        return "none"
    if op == "closed":
        return str(m.closed)
    if op == "repr":
        return repr(m)
    raise ValueError(f"unknown call {op}")


def py_result(m, a):
    try:
        r = "ok " + py_call(m, a)
    except OSError as e:
        r = f"err OSError {e.errno}"
    except (ValueError, IndexError, TypeError, OverflowError) as e:
        r = f"err {type(e).__name__} {e}"
    try:
        pos = str(m.tell())
    except ValueError:
        pos = "closed"
    return f"{r} | pos={pos}"


class PyRun:
    """CPython's answers for one sequence; `stopped` = index of the first
    call CPython could not answer (it would crash)."""

    def __init__(self, seq, path):
        self.seq, self.path = seq, path
        self.lines, self.stopped, self.m, self.fd = [], None, None, None
        self.grown_shared_anon = False
        if seq.kind == "file":
            with open(path, "wb") as f:
                f.write(seq.content)
            self.fd = os.open(path, os.O_RDWR)
        try:
            kw = dict(flags=seq.flags, prot=seq.prot, access=seq.access, offset=seq.offset)
            self.m = mmap.mmap(self.fd if self.fd is not None else -1, seq.length, **kw)
            self.lines.append("open ok")
        except OSError as e:
            self.lines.append(f"open err OSError {e.errno}")
        except (ValueError, TypeError, OverflowError) as e:
            self.lines.append(f"open err {type(e).__name__} {e}")
        self.shared_anon = seq.kind == "anon" and seq.access != mmap.ACCESS_COPY and seq.flags & 1

    def would_crash(self):
        m = self.m
        if m is None or m.closed:
            return False
        if self.fd is not None and os.fstat(self.fd).st_size < self.seq.offset + len(m):
            return True
        return self.grown_shared_anon

    def call(self, text):
        if self.stopped is not None or self.m is None:
            return
        if self.would_crash():
            self.stopped = len(self.lines)
            return
        a = text.split(" ")
        before = None if self.m.closed else len(self.m)
        self.lines.append(py_result(self.m, a))
        # After a resize, CPython's shared anonymous memory follows shmem
        # rules (old pages come back on regrowth, growth past its size is
        # SIGBUS); wasm-mmap's is private. Compare no further.
        if a[0] == "resize" and self.shared_anon and before is not None and not self.m.closed \
                and len(self.m) != before:
            self.grown_shared_anon = True

    def finish(self):
        if self.m is not None:
            self.m.close()
        if self.fd is not None:
            os.close(self.fd)
        self.lines.append("end")


def edge(rng, n):
    """An integer argument, usually at an edge relative to length n."""
    return rng.choice([0, 1, -1, n, n + 1, -n, -n - 1, n - 1, I64_MIN, I64_MAX, 4096, 4095,
                       rng.randrange(-n - 2, n + 3), rng.randrange(-n - 2, n + 3), rng.randrange(0, n + 2)])


def maybe(rng, n):
    return None if rng.random() < 0.3 else edge(rng, n)


def data(rng, limit=24):
    return bytes(rng.choice(b"ab\n\x00\xff\x80x") for _ in range(rng.randrange(0, limit)))


def gen_call(rng, n, seq):
    op = rng.choices(
        ["read", "read_byte", "readline", "write", "write_byte", "seek", "tell", "len", "size", "find",
         "rfind", "flush", "madvise", "move", "resize", "get", "set", "getslice", "setslice", "close",
         "closed", "repr"],
        weights=[8, 5, 5, 8, 5, 9, 2, 2, 2, 7, 5, 3, 2, 5, 3, 7, 5, 7, 6, 1, 1, 2])[0]
    if op == "read":
        return f"read {arg(maybe(rng, n))}"
    if op in ("read_byte", "readline", "tell", "len", "size", "close", "closed", "repr"):
        return op
    if op == "write":
        return f"write {hexs(data(rng))}"
    if op == "write_byte":
        return f"write_byte {rng.randrange(256)}"
    if op == "seek":
        return f"seek {edge(rng, n)} {rng.randrange(3)}"
    if op in ("find", "rfind"):
        return f"{op} {hexs(data(rng, 4))} {arg(maybe(rng, n))} {arg(maybe(rng, n))}"
    if op == "flush":
        return f"flush {arg(maybe(rng, n))} {arg(maybe(rng, n))}"
    if op == "madvise":
        choices = [0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 13] if seq.kind == "anon" else range(14)
        return f"madvise {rng.choice(list(choices))} {arg(maybe(rng, n))} {arg(maybe(rng, n))}"
    if op == "move":
        return f"move {edge(rng, n)} {edge(rng, n)} {rng.choice([0, 1, n, rng.randrange(0, n + 2), -1, I64_MAX])}"
    if op == "resize":
        return f"resize {rng.choice([-1, 0, 1, n, n + 1, 4096, 4097, rng.randrange(1, 20000), I64_MAX, I64_MIN])}"
    if op == "get":
        return f"get {edge(rng, n)}"
    if op == "set":
        return f"set {edge(rng, n)} {rng.randrange(256)}"
    if op == "getslice":
        return f"getslice {arg(maybe(rng, n))} {arg(maybe(rng, n))} {arg(rng.choice([None, None, 1, 2, 3, -1, -2, 0, 7, I64_MIN, I64_MAX]))}"
    # setslice: usually the right length, sometimes not.
    a, b, c = maybe(rng, n), maybe(rng, n), rng.choice([None, None, 1, 2, -1, -3, 0])
    try:
        want = len(range(n)[slice(a, b, c)])
    except ValueError:
        want = 0
    k = want if rng.random() < 0.8 else max(0, want + rng.choice([-1, 1]))
    payload = bytes(rng.choice(b"AZ\x00") for _ in range(k))
    return f"setslice {arg(a)} {arg(b)} {arg(c)} {hexs(payload)}"


def gen_seq(rng, name, max_calls, pydir):
    """Generates one sequence, running it on CPython as it goes (arguments
    are chosen against the map's current length)."""
    if rng.random() < 0.8:
        kind = "file"
        size = rng.choice([1, 5, 100, 4095, 4096, 4097, 8192, 10000, 20000])
        content = bytes(rng.choice(b"abc\n\x00\xfe") for _ in range(size))
        length = rng.choice([0, 0, 0, size, size - 1, size + 1, 1, -1, 4096, rng.randrange(0, size + 2)])
        offset = rng.choice([0] * 8 + [4096, 8192, 1, -1, size])
    else:
        kind, content = "anon", b""
        length = rng.choice([1, 100, 4096, 5000, 0, -1, 12345])
        offset = rng.choice([0] * 8 + [4096, 1])
    access = rng.choice([0, 0, 0, 1, 2, 3])
    flags = rng.choice([1] * 6 + [2, 3, 0])
    prot = rng.choice([3] * 6 + [1, 2])
    if rng.random() < 0.7:
        # Mostly maps that open, so that the calls get exercised.
        flags, prot = (1, 3) if access else (rng.choice([1, 1, 2]), rng.choice([3, 3, 1, 2]))
        if kind == "file":
            offset = rng.choice([0, 0, 0, 4096]) if len(content) > 4096 else 0
            length = rng.choice([0, 0, len(content) - offset, 1])
        else:
            offset, length = 0, rng.choice([1, 100, 4096, 5000, 12345])
    seq = Seq(name, kind, content, length, access, flags, prot, offset)
    run = PyRun(seq, os.path.join(pydir, name + ".bin"))
    for _ in range(rng.randrange(1, max_calls + 1)):
        if run.m is None:
            break
        n = len(run.m) if not run.m.closed else 10
        text = gen_call(rng, n, seq)
        seq.calls.append(text)
        run.call(text)
    run.finish()
    return seq, run


def replay_python(seq, pydir):
    run = PyRun(seq, os.path.join(pydir, seq.name + ".bin"))
    for c in seq.calls:
        run.call(c)
    run.finish()
    return run


def run_guest(seqs, gdir, cli, guest):
    for s in seqs:
        if s.kind == "file":
            with open(os.path.join(gdir, s.name + ".bin"), "wb") as f:
                f.write(s.content)
    with open(os.path.join(gdir, "seqs.txt"), "w") as f:
        for s in seqs:
            f.write(s.text())
    out = subprocess.run([cli, "run", *HOST_LIMITS, "--dir", gdir, guest, "seqs.txt"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"diff_runner failed ({out.returncode}):\n{out.stderr[-3000:]}")
    result, cur = {}, None
    for line in out.stdout.splitlines():
        if line.startswith("seq "):
            cur = line[4:]
            result[cur] = []
        else:
            result[cur].append(line)
    return result


def compare(seq, run, guest_lines, pydir, gdir):
    """The first difference, or None."""
    want, got = run.lines, guest_lines
    upto = run.stopped
    if upto is not None:
        want, got = want[:upto], got[:upto]
    for i, (w, g) in enumerate(zip(want, got)):
        if w != g:
            where = "open" if i == 0 else f"call {i - 1}: {seq.calls[i - 1]}"
            return f"{where}\n  python:    {w}\n  wasm-mmap: {g}"
    if upto is None and len(want) != len(got):
        return f"python gave {len(want)} lines, wasm-mmap {len(got)}"
    if upto is None and seq.kind == "file":
        pb = open(run.path, "rb").read()
        gb = open(os.path.join(gdir, seq.name + ".bin"), "rb").read()
        if pb != gb:
            return f"final file differs: python {len(pb)} bytes, wasm-mmap {len(gb)} bytes"
    return None


def check(seqs_runs, cli, guest, work):
    pydir, gdir = os.path.join(work, "py"), os.path.join(work, "guest")
    for d in (pydir, gdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    seqs = [s for s, _ in seqs_runs]
    # A sequence CPython already ran while it was generated (its file is in
    # gen_dir) keeps that run; replayed and minimised ones run here.
    runs = [r if r is not None else replay_python(s, pydir) for s, r in seqs_runs]
    guest_out = run_guest(seqs, gdir, cli, guest)
    bad = []
    for s, r in zip(seqs, runs):
        d = compare(s, r, guest_out.get(s.name, []), pydir, gdir)
        if d:
            bad.append((s, d))
    return bad, sum(len(s.calls) for s in seqs)


def minimize(seq, cli, guest, work):
    """Drops calls while the sequence still diverges."""
    calls = list(seq.calls)
    chunk = max(1, len(calls) // 2)
    while chunk >= 1:
        i, changed = 0, False
        while i < len(calls):
            trial = calls[:i] + calls[i + chunk:]
            bad, _ = check([(seq.with_calls(trial), None)], cli, guest, work)
            if bad:
                calls, changed = trial, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    return seq.with_calls(calls)


def parse_file(path):
    seqs, cur = [], None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            a = line.split(" ")
            if a[0] == "seq":
                cur = Seq(a[1], a[2], b"", int(a[3]), int(a[4]), int(a[5]), int(a[6]), int(a[7]))
            elif a[0] == "content":
                cur.content = unhex(a[1])
            elif a[0] == "end":
                seqs.append(cur)
            else:
                cur.calls.append(line)
    return seqs


def save(path, seq, why):
    with open(path, "a") as f:
        f.write("# " + why.replace("\n", "\n# ") + "\n")
        f.write(seq.header() + "\n")
        f.write(f"content {hexs(seq.content)}\n")
        f.write("\n".join(seq.calls) + ("\n" if seq.calls else "") + "end\n")


def ensure_built(cli, guest):
    if not (os.path.exists(cli) and os.path.exists(guest)):
        print("building wasm-mmap and the guests (cargo build --release) ...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release"], cwd=ROOT, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sequences", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-calls", type=int, default=200)
    ap.add_argument("--batch", type=int, default=2000, help="sequences per wasm-mmap run")
    ap.add_argument("--replay", help="rerun the sequences saved in this file (no generation)")
    ap.add_argument("--save", help="append minimised divergences to this file")
    ap.add_argument("--cli", default=CLI)
    ap.add_argument("--guest", default=GUEST)
    args = ap.parse_args()
    ensure_built(args.cli, args.guest)
    work = tempfile.mkdtemp(prefix="wasm-mmap-diff-")
    total_seqs = total_calls = 0
    divergences = []
    try:
        if args.replay:
            seqs = parse_file(args.replay)
            bad, calls = check([(s, None) for s in seqs], args.cli, args.guest, work)
            total_seqs, total_calls, divergences = len(seqs), calls, bad
        else:
            rng = random.Random(args.seed)
            gen_dir = os.path.join(work, "gen")
            os.makedirs(gen_dir)
            done = 0
            while done < args.sequences:
                k = min(args.batch, args.sequences - done)
                batch = [gen_seq(rng, f"s{done + i}", args.max_calls, gen_dir) for i in range(k)]
                bad, calls = check(batch, args.cli, args.guest, work)
                shutil.rmtree(gen_dir)
                os.makedirs(gen_dir)
                divergences += bad
                total_seqs += k
                total_calls += calls
                done += k
        for seq, why in divergences[:5]:
            small = minimize(seq, args.cli, args.guest, work)
            print(f"divergence in {seq.name} ({len(seq.calls)} calls, minimised to {len(small.calls)}): {why}")
            print(small.text(), end="")
            if args.save:
                save(args.save, small, why)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{total_seqs} sequences, {total_calls} calls, {len(divergences)} divergences")
    sys.exit(1 if divergences else 0)


if __name__ == "__main__":
    main()
