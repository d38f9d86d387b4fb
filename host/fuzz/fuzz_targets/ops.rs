//! Random call sequences on the host's maps against the Vec<u8> model
//! (`host/tests/model`): any difference, panic or crash is a finding.
//!
//! `cd host && cargo +nightly fuzz run ops -- -max_total_time=600`

#![no_main]

#[path = "../../tests/model/mod.rs"]
mod model;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (setup, ops) = model::decode(data);
    if let Err(e) = model::check(&setup, &ops, &std::env::temp_dir()) {
        panic!("{e}");
    }
});
