#!/usr/bin/env bash
# Builds the guests written in other languages from the repo's WIT, installing
# each toolchain from its package registry when missing (kept between runs on
# one machine: pip's own install location).
#   guest/languages/build.sh OUT_DIR
# Python (componentize-py): OUT_DIR/python/{checks,run_seed_watcher,writer}.wasm
# JavaScript (componentize-js, npm): OUT_DIR/js/app.wasm
# C (Debian clang-19 + wasi-libc, wit-bindgen c, wasm-tools, the crates.io
#    preview1 adapter): OUT_DIR/c/app.wasm. Installing clang needs root.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out/python"

# Called through its entry point, not its console script, so that nothing depends on where pip put
# the script (a pyenv shim appears only after `pyenv rehash`).
componentize_py() {
  python3 -c 'import sys, componentize_py; sys.argv[0] = "componentize-py"; sys.exit(componentize_py.script())' "$@"
}
if ! python3 -c 'import componentize_py' 2>/dev/null; then
  python3 -m pip install --quiet 'componentize-py==0.25.1'
fi
for app in checks run_seed_watcher writer; do
  componentize_py -d "$root/wit" -w command componentize \
    -p "$root/guest/python" -p "$root/guest/python/examples" "$app" -o "$out/python/$app.wasm" >/dev/null
done

mkdir -p "$out/js"
if [ ! -x "$root/guest/js/node_modules/.bin/componentize-js" ]; then
  (cd "$root/guest/js" && npm ci --no-audit --no-fund --silent)
fi
# http/fetch-event off: this guest is a command, and the host offers no wasi:http.
"$root/guest/js/node_modules/.bin/componentize-js" "$root/guest/js/app.js" --wit "$root/wit" \
  --world-name command -d http -d fetch-event -o "$out/js/app.wasm" >/dev/null


mkdir -p "$out/c"
if ! command -v clang-19 >/dev/null 2>&1 || [ ! -f /usr/lib/wasm32-wasi/libc.a ]; then
  [ "$(id -u)" = 0 ] || { echo "C guest: needs clang-19 and wasi-libc (apt, as root)" >&2; exit 1; }
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc >/dev/null; }
fi
bin=${CARGO_HOME:-$HOME/.cargo}/bin
[ -x "$bin/wit-bindgen" ] || cargo install --quiet --locked wit-bindgen-cli@0.63.0
[ -x "$bin/wasm-tools" ] || cargo install --quiet --locked wasm-tools@1.263.0
gen="$out/c/gen"
rm -rf "$gen" && mkdir -p "$gen"
"$bin/wit-bindgen" c "$root/wit" --world command --out-dir "$gen" >/dev/null
clang-19 --target=wasm32-wasi --sysroot=/usr -I/usr/include/wasm32-wasi -mexec-model=reactor -O2 \
  -I"$gen" "$root/guest/c/app.c" "$gen/command.c" "$gen/command_component_type.o" -o "$out/c/core.wasm"
cargo run --quiet --release --manifest-path "$root/guest/c/adapter/Cargo.toml" --target-dir "$out/c/adapter-target" \
  -- "$out/c/adapter.wasm"
"$bin/wasm-tools" component new "$out/c/core.wasm" --adapt wasi_snapshot_preview1="$out/c/adapter.wasm" -o "$out/c/app.wasm"

echo "built: $(ls "$out"/python/*.wasm | wc -l) Python components, $(ls "$out"/js/*.wasm | wc -l) JavaScript, $(ls "$out"/c/app.wasm | wc -l) C"
