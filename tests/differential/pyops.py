"""The Python-level differential's calls, run the same way on CPython's
`mmap` (natively) and on `wasm_mmap.mmap` (in a componentize-py component).

A sequence is one line, a Python literal: `(name, open, calls)`, where
`open` is `(kind, length, kwargs)` (kind "file": `<name>.bin` opened with the
builtin `open`, mapped by its `fileno()`; "anon": fileno -1) and each call is
`(op, args)`. Arguments are literals, or tagged tuples for what a literal
cannot be (see `value`), so the generator can pass every kind of bad
argument. Each call's answer is one line: `ok <repr>` or
`err <exception class> <message>` (OSError: its errno's name).
"""

import ast
import errno
import re
import sys


class Index:
    """An object with `__index__`, as numpy integers are."""

    def __init__(self, v):
        self.v = v

    def __index__(self):
        return self.v


def value(v):
    if isinstance(v, tuple) and v and isinstance(v[0], str) and v[0].startswith("@"):
        tag, x = v
        if tag == "@bytearray":
            return bytearray(x)
        if tag == "@index":
            return Index(x)
        if tag == "@memoryview":
            return memoryview(x)
        if tag == "@strided":
            return memoryview(x)[::2]
        if tag == "@object":
            return object()
        if tag == "@slice":
            return slice(*[value(p) for p in x])
        raise ValueError(tag)
    return v


def call(m, op, args):
    a = [value(x) for x in args]
    if op == "getitem":
        return m[a[0]]
    if op == "setitem":
        m[a[0]] = a[1]
        return None
    if op == "delitem":
        del m[a[0]]
        return None
    if op == "len":
        return len(m)
    if op == "closed":
        return m.closed
    if op == "repr":
        return repr(m)
    if op == "iter":
        return list(m)[: a[0]]
    if op == "contains":
        return a[0] in m
    if op == "bytes":
        return bytes(m)
    if op == "memoryview":
        with memoryview(m) as v:
            return (v.readonly is not None, v.tobytes())
    if op == "re":
        hit = re.search(a[0], m)
        return hit and hit.span()
    if op == "enter":
        with m as inner:
            return inner is m
    if op == "seek":
        # CPython < 3.13 returns None, 3.13 the new position: the cursor
        # after every call is compared instead.
        m.seek(*a)
        return None
    return getattr(m, op)(*a)


def answer(m, op, args):
    try:
        r = "ok " + repr(call(m, op, args))
    except OSError as e:
        # By name: the component's CPython numbers errno as WASI does.
        r = f"err OSError {errno.errorcode.get(e.errno, e.errno)}"
    except (ValueError, IndexError, TypeError, OverflowError, BufferError) as e:
        # A message naming the type says 'mmap.mmap' for CPython's (a C
        # type's full name) and 'mmap' for the package's Python class.
        r = f"err {type(e).__name__} {e}".replace("'mmap.mmap'", "'mmap'")
    try:
        pos = str(m.tell())
    except ValueError:
        pos = "closed"
    return f"{r} | pos={pos}"


def run(mmap_module, line, stop=None):
    """The answers of one sequence: its open, then each call; `stop(m)`
    says when CPython could not go on (it would die of SIGBUS)."""
    name, (kind, length, kwargs), calls = ast.literal_eval(line)
    out = []
    f = open(f"{name}.bin", "r+b") if kind == "file" else None
    try:
        kw = {k: value(v) for k, v in kwargs.items()}
        try:
            m = mmap_module.mmap(f.fileno() if f else -1, value(length), **kw)
        except OSError as e:
            out.append(f"open err OSError {errno.errorcode.get(e.errno, e.errno)}")
            return out
        except (ValueError, TypeError, OverflowError) as e:
            out.append(f"open err {type(e).__name__} {e}")
            return out
        out.append("open ok")
        for op, args in calls:
            if stop is not None and stop(m, f):
                out.append("stop")
                break
            out.append(answer(m, op, args))
        m.close()
    finally:
        if f:
            f.close()
    return out


def main(mmap_module, path="seqs.txt"):
    """Runs every sequence of `path`, printing `seq NAME` then its answers."""
    with open(path) as src:
        for line in src:
            if line.strip():
                name = ast.literal_eval(line)[0]
                print(f"seq {name}")
                for answer_line in run(mmap_module, line):
                    print(answer_line)
    sys.stdout.flush()
