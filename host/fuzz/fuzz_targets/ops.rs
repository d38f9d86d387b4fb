//! Random call sequences on the host's maps against the model
//! (`host/tests/model`): any difference, panic or crash is a finding.
//! Windows need a guest: the `component` target makes those calls.
//!
//! `cd host && cargo +nightly fuzz run ops -- -max_total_time=600`

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Err(e) = model::check_bytes(data) {
        panic!("{e}");
    }
});
