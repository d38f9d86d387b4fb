#!/usr/bin/env bash
# Installs every toolchain the whole test suite uses, once per machine, so that
# `cargo test` itself installs nothing. Needs Rust (rustup); the Debian packages
# need root (or password-less sudo): without it they are reported and their
# suites are skipped with a line naming this script (a failure under CI=true).
#   - rustup targets: wasm32-wasip2 (guests), x86_64-pc-windows-gnu (the
#     Windows host under wine)
#   - Debian: clang-19, lld-19, libclang-rt-19-dev-wasm32, wasi-libc (C guest);
#     gcc-mingw-w64-x86-64, wine64 (Windows host); libpython3.11-testsuite
#     (CPython's test_mmap.py) unless a CPython here already has it; g++
#     (libFuzzer itself, which the fuzz suite builds)
#   - PyPI: componentize-py (Python guests); npm: guest/js's lockfile
#     (JavaScript guest). The C guest's component tooling is no install: the
#     test build compiles guest/c/tool from crates.io (wit-bindgen-c,
#     wit-component) in about a minute.
# Safe to run again: what is there is kept.
set -euo pipefail
cd "$(dirname "$0")"
say() { echo "setup: $*"; }

rustup target add wasm32-wasip2 x86_64-pc-windows-gnu >/dev/null 2>&1 \
  || say "rustup could not add the wasm32-wasip2 / x86_64-pc-windows-gnu targets"

pkgs="clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc gcc-mingw-w64-x86-64 wine64 g++"
# CPython's own test_mmap.py for the Python suite: any CPython here that ships
# its `test` package will do (pyenv builds do), else Debian's.
has_test_mmap() {
  for py in "$HOME"/.pyenv/versions/*/bin/python3 /usr/bin/python3.* python3; do
    [ -x "$py" ] || command -v "$py" >/dev/null 2>&1 || continue
    "$py" -c 'import test.test_mmap' >/dev/null 2>&1 && return 0
  done
  return 1
}
has_test_mmap || pkgs="$pkgs libpython3.11-testsuite"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    sudo=""
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo="sudo"
  else
    sudo="-"
  fi
  if [ "$sudo" = "-" ]; then
    say "not root: cannot install$missing (the suites that need them will be skipped)"
  else
    say "installing$missing"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null 2>&1 \
      || { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null; }
  fi
fi

# Imported, not run as a script: pip's script directory need not be on PATH.
python3 -c 'import componentize_py' 2>/dev/null || python3 -m pip install --quiet 'componentize-py==0.25.1'
[ -x guest/js/node_modules/.bin/componentize-js ] || (cd guest/js && npm ci --no-audit --no-fund --silent)
say "done"
