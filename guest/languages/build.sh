#!/usr/bin/env bash
# Builds the guests written in other languages from the repo's WIT, installing
# each toolchain from its package registry when missing (kept between runs on
# one machine: pip's own install location).
#   guest/languages/build.sh OUT_DIR
# Python (componentize-py): OUT_DIR/python/{checks,run_seed_watcher,writer}.wasm
# JavaScript (componentize-js, npm): OUT_DIR/js/app.wasm
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:?usage: build.sh OUT_DIR}
mkdir -p "$out/python"

if ! command -v componentize-py >/dev/null 2>&1; then
  python3 -m pip install --quiet 'componentize-py==0.25.1'
fi
for app in checks run_seed_watcher writer; do
  componentize-py -d "$root/wit" -w command componentize \
    -p "$root/guest/python" -p "$root/guest/python/examples" "$app" -o "$out/python/$app.wasm" >/dev/null
done

mkdir -p "$out/js"
if [ ! -x "$root/guest/js/node_modules/.bin/componentize-js" ]; then
  (cd "$root/guest/js" && npm ci --no-audit --no-fund --silent)
fi
# http/fetch-event off: this guest is a command, and the host offers no wasi:http.
"$root/guest/js/node_modules/.bin/componentize-js" "$root/guest/js/app.js" --wit "$root/wit" \
  --world-name command -d http -d fetch-event -o "$out/js/app.wasm" >/dev/null

echo "built: $(ls "$out"/python/*.wasm | wc -l) Python components, $(ls "$out"/js/*.wasm | wc -l) JavaScript"
