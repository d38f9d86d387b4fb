//! Helpers shared by the test programs: asserting Python's error for a call.

use wasm_mmap_guest::Error;

/// Asserts `r` failed with Python exception `class` and message `msg`
/// (for `OSError`, `msg` is the errno number as text, or `*` for any).
#[track_caller]
pub fn expect_err<T: std::fmt::Debug, E: Into<Error>>(r: Result<T, E>, class: &str, msg: &str) {
    match r {
        Ok(v) => panic!("expected {class}({msg}), got Ok({v:?})"),
        Err(e) => check(&e.into(), class, msg),
    }
}

#[track_caller]
fn check(e: &Error, class: &str, msg: &str) {
    assert_eq!(e.class(), class, "wrong exception class for {e}");
    if class == "OSError" {
        if msg != "*" {
            assert_eq!(
                e.errno().map(|n| n.to_string()).as_deref(),
                Some(msg),
                "wrong errno: {e}"
            );
        }
    } else {
        assert_eq!(e.message(), msg, "wrong message: {e}");
    }
}

/// `ValueError("mmap closed or invalid")`.
pub const CLOSED: &str = "mmap closed or invalid";
/// `TypeError` for any write to a read-only map.
pub const READONLY: &str = "mmap can't modify a readonly memory map.";
/// `TypeError` for resizing a read-only or copy-on-write map.
pub const NO_RESIZE: &str = "mmap can't resize a readonly or copy-on-write memory map.";

/// Python's index arithmetic and its references, the very file the host
/// uses (no crate imports, so it compiles here too).
#[path = "../../../host/src/map/pyindex.rs"]
mod pyindex;

/// The indices `seq[start:stop:step]` selects, by Python's documented
/// rule: what the conformance programs compare the host's slices with.
pub use pyindex::slice_positions as py_slice;

/// Python's `bytes.find`/`rfind` over `hay[start:end]`, by trying every
/// position.
pub use pyindex::find_reference as py_find;
