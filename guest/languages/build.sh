#!/usr/bin/env bash
# Builds the guests written in other languages from the repo's WIT with the
# toolchains ./setup.sh installs. It installs nothing: a missing toolchain
# exits 3 naming it (the tests then skip, or fail under CI=true).
#   guest/languages/build.sh OUT_DIR
# Python (componentize-py): OUT_DIR/python/{checks,run_seed_watcher,writer,pydiff_guest,bench_py}.wasm
#   (pydiff_guest: the Python-level differential's runner, tests/differential/)
# JavaScript (componentize-js, npm): OUT_DIR/js/app.wasm
# C (Debian clang-19 + wasi-libc; bindings and componentizing by guest/c/tool,
#    built here from the crates behind wit-bindgen c and wasm-tools
#    component new, with the crates.io preview1 adapter): OUT_DIR/c/app.wasm.
set -euo pipefail
# Nothing is written into the checkout: componentize-py's own CPython writes
# __pycache__ next to what it imports (it ignores PYTHONDONTWRITEBYTECODE), so
# the Python sources are built from a copy in OUT_DIR.
export PYTHONDONTWRITEBYTECODE=1
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUT_DIR}
missing() { echo "guest/languages/build.sh: $1 is missing: run ./setup.sh" >&2; exit 3; }
python3 -c 'import componentize_py' 2>/dev/null || missing "componentize-py (PyPI)"
[ -x "$root/guest/js/node_modules/.bin/componentize-js" ] || missing "componentize-js (npm ci in guest/js)"
{ command -v clang-19 >/dev/null 2>&1 && [ -f /usr/lib/wasm32-wasi/libc.a ]; } || missing "clang-19 with wasi-libc (Debian)"
mkdir -p "$out/python"

# Called through its entry point, not its console script, so that nothing depends on where pip put
# the script (a pyenv shim appears only after `pyenv rehash`).
componentize_py() {
  python3 -c 'import sys, componentize_py; sys.argv[0] = "componentize-py"; sys.exit(componentize_py.script())' "$@"
}
src="$out/python-src"
rm -rf "$src" && cp -r "$root/guest/python" "$src" && find "$src" -name __pycache__ -prune -exec rm -rf {} +
cp "$root/tests/differential/pyops.py" "$root/tests/differential/pydiff_guest.py" "$src/"
for app in checks run_seed_watcher writer pydiff_guest bench_py; do
  componentize_py -d "$root/wit" -w command componentize \
    -p "$src" -p "$src/examples" "$app" -o "$out/python/$app.wasm" >/dev/null
done

mkdir -p "$out/js"
# http/fetch-event off: this guest is a command, and the host offers no wasi:http.
"$root/guest/js/node_modules/.bin/componentize-js" "$root/guest/js/app.js" --wit "$root/wit" \
  --world-name command -d http -d fetch-event -o "$out/js/app.wasm" >/dev/null


mkdir -p "$out/c"
tool="$out/c/tool-target/release/wasm-mmap-c-tool"
cargo build --quiet --release --manifest-path "$root/guest/c/tool/Cargo.toml" --target-dir "$out/c/tool-target"
gen="$out/c/gen"
rm -rf "$gen"
"$tool" bindings "$root/wit" command "$gen"
clang-19 --target=wasm32-wasi --sysroot=/usr -I/usr/include/wasm32-wasi -mexec-model=reactor -O2 \
  -I"$gen" "$root/guest/c/app.c" "$gen/command.c" "$gen/command_component_type.o" -o "$out/c/core.wasm"
"$tool" component "$out/c/core.wasm" "$out/c/app.wasm"

echo "built: $(ls "$out"/python/*.wasm | wc -l) Python components, $(ls "$out"/js/*.wasm | wc -l) JavaScript, $(ls "$out"/c/app.wasm | wc -l) C"
