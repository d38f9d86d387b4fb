//! The model's call sequences made by the `diff_runner` guest through the
//! component boundary, in this process (`harness/component.rs` says how;
//! `tests/tests/fuzz.rs` runs the same in CI).
//!
//! `cargo build --release` first (it builds the guest), then
//! `cd host && cargo +nightly fuzz run component -- -max_total_time=600`
//! (`WASM_MMAP_DIFF_RUNNER=path/to/diff_runner.wasm` to use another build).

#![no_main]

#[path = "../harness/component.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = harness::run_one(data) {
        panic!("{e}")
    }
});
