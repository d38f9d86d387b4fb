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

/// The indices `seq[start:stop:step]` selects from a sequence of `len`,
/// as Python's documentation defines slicing (normalise, clamp, then
/// `range(start, stop, step)`): the reference the conformance programs
/// compare the host's slices with.
pub fn py_slice(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Vec<usize> {
    let s = i128::from(step.unwrap_or(1));
    assert!(s != 0);
    let l = len as i128;
    let norm = |v: Option<i64>, d: i128| match v {
        None => d,
        Some(v) => {
            let v = i128::from(v);
            let v = if v < 0 { v + l } else { v };
            if s > 0 {
                v.clamp(0, l)
            } else {
                v.clamp(-1, l - 1)
            }
        }
    };
    let (a, b) = if s > 0 {
        (norm(start, 0), norm(stop, l))
    } else {
        (norm(start, l - 1), norm(stop, -1))
    };
    let mut out = vec![];
    let mut i = a;
    while (s > 0 && i < b) || (s < 0 && i > b) {
        out.push(i as usize);
        i += s;
    }
    out
}

/// Python's `bytes.find`/`rfind` over `hay[start:end]` with clamped,
/// possibly negative bounds.
pub fn py_find(hay: &[u8], sub: &[u8], start: i64, end: i64, reverse: bool) -> i64 {
    let l = hay.len() as i64;
    let clamp = |v: i64| (if v < 0 { (v + l).max(0) } else { v.min(l) }) as usize;
    let (s, e) = (clamp(start), clamp(end));
    if s > e || e - s < sub.len() {
        return -1;
    }
    let window = &hay[s..e];
    let mut hits = (0..=window.len() - sub.len()).filter(|&i| &window[i..i + sub.len()] == sub);
    let hit = if reverse {
        hits.next_back()
    } else {
        hits.next()
    };
    hit.map_or(-1, |i| (s + i) as i64)
}
