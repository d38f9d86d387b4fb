#!/usr/bin/env python3
"""CPython's own Lib/test/test_mmap.py, run inside a componentize-py
component on wasm_mmap, against the same file run natively on CPython's mmap.

    python3 tests/cpython/run_test_mmap.py --cli target/release/wasm-mmap --out DIR

The test file is never copied into the repository: it is taken at test time
from the newest CPython on this machine that has it (its `test` package:
pyenv builds, Debian's libpython3.X-testsuite), and adapted by changing
import lines only (`test.support.*` → the stand-ins in
wasm_mmap_support.py; each changed line is printed). Every test that passes
natively must pass in the component, except those in IMPOSSIBLE (each with
its reason); anything else, or a component that dies, exits 1.
"""

import argparse
import glob
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# Tests that pass natively and cannot pass in a component, with why.
IMPOSSIBLE = {
    "LargeMmapTests.test_around_2GB": "wasm32 is a 32-bit platform: the test skips itself there "
                                      "(\"test cannot run on 32-bit systems\", sys.maxsize <= 4 GiB)",
    "LargeMmapTests.test_around_4GB": "the same: skipped by the test itself on every 32-bit platform",
}


def candidates():
    seen = set()
    pats = [os.path.expanduser("~/.pyenv/versions/*/bin/python3"), "/usr/bin/python3.*", "/usr/local/bin/python3.*"]
    for pat in pats:
        for p in sorted(glob.glob(pat)):
            if re.search(r"python3(\.\d+)?$", p) and os.access(p, os.X_OK):
                real = os.path.realpath(p)
                if real not in seen:
                    seen.add(real)
                    yield p
    yield shutil.which("python3") or "python3"


def newest_test_mmap():
    """(version tuple, python, path of test_mmap.py) of the newest CPython here that has it."""
    best = None
    for py in candidates():
        try:
            out = subprocess.run([py, "-c", "import sys, test.test_mmap as t; print(*sys.version_info[:3], t.__file__)"],
                                 capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if out.returncode != 0:
            continue
        a, b, c, path = out.stdout.split()
        v = (int(a), int(b), int(c))
        if best is None or v > best[0]:
            best = (v, py, path)
    return best


def adapt(src):
    """The test file with its `test.support` imports pointed at the stand-ins."""
    lines, changed = [], []
    for line in src.splitlines(keepends=True):
        new = re.sub(r"^(\s*)from test\.support(\.\w+)? import", r"\1from wasm_mmap_support import", line)
        if new != line:
            changed.append((line.strip(), new.strip()))
        lines.append(new)
    return "".join(lines), changed


def results(text):
    out = {}
    for line in text.splitlines():
        if line.startswith("RESULT "):
            parts = line.split(" ", 3)
            out[parts[1]] = (parts[2], parts[3] if len(parts) > 3 else "")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cli", required=True)
    ap.add_argument("--out", required=True, help="a scratch directory (emptied)")
    args = ap.parse_args()
    found = newest_test_mmap()
    if found is None:
        print("SKIP: no CPython with its test package (test.test_mmap) on this machine")
        return 3
    version, py, path = found
    ver = ".".join(map(str, version))
    print(f"test_mmap.py of CPython {ver}: {path}")

    native = subprocess.run([py, os.path.join(HERE, "suite.py")], capture_output=True, text=True, cwd=args.out
                            if os.path.isdir(args.out) else None)
    want = results(native.stdout)
    if "DONE" not in native.stdout:
        print(native.stdout[-3000:], native.stderr[-3000:])
        return 1

    shutil.rmtree(args.out, ignore_errors=True)
    app, work = os.path.join(args.out, "app"), os.path.join(args.out, "work")
    os.makedirs(work)
    shutil.copytree(os.path.join(ROOT, "guest", "python", "wasm_mmap"), os.path.join(app, "wasm_mmap"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    for f in ("wasm_mmap_support.py", "suite.py", "test_mmap_guest.py"):
        shutil.copy(os.path.join(HERE, f), app)
    with open(path) as f:
        text, changed = adapt(f.read())
    with open(os.path.join(app, "test_mmap.py"), "w") as f:
        f.write(text)
    print("adapted (import lines only):")
    for old, new in changed:
        print(f"  {old}  ->  {new}")
    wasm = os.path.join(args.out, "test_mmap.wasm")
    build = subprocess.run(
        [sys.executable, "-c", "import sys, componentize_py; sys.argv[0] = 'componentize-py'; "
         "sys.exit(componentize_py.script())", "-d", os.path.join(ROOT, "wit"), "-w", "command", "componentize",
         "-p", app, "test_mmap_guest", "-o", wasm],
        capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    if build.returncode != 0:
        print("componentize-py failed:", build.stdout[-2000:], build.stderr[-3000:])
        return 1
    run = subprocess.run([args.cli, "run", "--dir", work + "::.", wasm], capture_output=True, text=True,
                         timeout=1800)
    got = results(run.stdout)
    guest_python = next((line.split()[1] for line in run.stdout.splitlines() if line.startswith("PYTHON ")), "?")

    bad = []
    if run.returncode != 0 or "DONE" not in run.stdout:
        bad.append(f"the component ended with {run.returncode} before the end:\n{run.stderr[-3000:]}")
    for name, (outcome, _) in sorted(want.items()):
        g, detail = got.get(name, ("missing", ""))
        if outcome == "ok" and g != "ok" and name not in IMPOSSIBLE:
            bad.append(f"{name}: passes natively, {g} in the component: {detail}")
    for name in IMPOSSIBLE:
        if got.get(name, ("missing",))[0] == "ok":
            bad.append(f"{name}: listed as impossible in a component, yet it passes: take it off the list")

    def count(res, outcome):
        return sum(1 for o, _ in res.values() if o == outcome)

    print(f"native CPython {ver}: {count(want, 'ok')} passed, {count(want, 'skip')} skipped, "
          f"{count(want, 'fail') + count(want, 'error')} failed")
    print(f"component (CPython {guest_python}, wasm_mmap): {count(got, 'ok')} passed, {count(got, 'skip')} skipped, "
          f"{count(got, 'fail') + count(got, 'error')} failed; impossible under WASI: {len(IMPOSSIBLE)}")
    for name, why in IMPOSSIBLE.items():
        print(f"  {name}: {got.get(name, ('missing',))[0]} ({why})")
    for name, (outcome, detail) in sorted(got.items()):
        if outcome != "ok" and want.get(name, ("",))[0] != "ok" and outcome != "skip":
            print(f"  (fails natively too) {name}: {outcome}")
    for line in bad:
        print("FAIL " + line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
