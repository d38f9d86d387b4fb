//! Property test: random call sequences (edge-heavy arguments) on the host's
//! maps agree with a plain `Vec<u8>` model of Python's semantics, call by
//! call, and never panic. `PROPTEST_CASES=N` runs more; the fuzz target in
//! `host/fuzz` drives the same checker for as long as it is given.

mod model;

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn host_matches_model(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let (setup, ops) = model::decode(&bytes);
        let dir = std::env::temp_dir();
        model::check(&setup, &ops, &dir).map_err(TestCaseError::fail)?;
    }
}
