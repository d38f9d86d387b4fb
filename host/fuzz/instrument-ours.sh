#!/bin/sh
# RUSTC_WRAPPER for the long fuzz runs: libFuzzer's coverage instrumentation
# stays on this project's crates (the host library, the harness and the
# targets) and is switched off for every dependency, wasmtime included:
# `component` replays its seeds 20-30% faster, but libFuzzer no longer sees
# wasmtime's own branches (4,600 coverage points on the seeds instead of
# 5,750). Generic code of a dependency instantiated by our crates is compiled
# there and keeps its counters. Usage (from host/):
#   RUSTC_WRAPPER=$PWD/fuzz/instrument-ours.sh cargo +nightly fuzz build -s none --release --target-dir fuzz/target-ours
rustc="$1"
shift
crate=""
prev=""
for a in "$@"; do
    if [ "$prev" = "--crate-name" ]; then crate="$a"; fi
    prev="$a"
done
case "$crate" in
    wasm_mmap | wasm_mmap_fuzz | ops | component | "") exec "$rustc" "$@" ;;
    # The last -sanitizer-coverage-level given wins: 0 is no instrumentation.
    *) exec "$rustc" "$@" -Cllvm-args=-sanitizer-coverage-level=0 ;;
esac
