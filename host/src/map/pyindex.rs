//! Python's index arithmetic for sequences: slices, `find`'s clamped
//! bounds, `m[i]`. Plain integers only, no crate imports, so the test
//! programs and the model include this very file (`#[path]`) as their
//! reference: [`slice_positions`] and [`find_reference`] state Python's
//! documented rules directly, and the unit tests hold the fast arithmetic
//! the host uses to them.

#![allow(dead_code)] // each includer uses its own part

/// The elements a slice selects: the first index, the step and the count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Slice {
    /// Index of the first element (meaningful when `count > 0`).
    pub first: i128,
    /// The step, never 0.
    pub step: i128,
    /// How many elements.
    pub count: usize,
}

impl Slice {
    /// The bytes `[lo, hi)` a slice with `count > 0` elements touches.
    pub fn span(&self) -> (usize, usize) {
        let last = self.first + self.step * (self.count as i128 - 1);
        (
            self.first.min(last) as usize,
            self.first.max(last) as usize + 1,
        )
    }
}

/// Python's slice index adjustment (`PySlice_AdjustIndices`) for a
/// sequence of `len`; `None` for a zero step (Python's ValueError).
pub fn slice(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Option<Slice> {
    let step = i128::from(step.unwrap_or(1));
    if step == 0 {
        return None;
    }
    let len = len as i128;
    let adjust = |v: Option<i64>, default: i128| -> i128 {
        let Some(v) = v else { return default };
        let mut v = i128::from(v);
        if v < 0 {
            v += len;
            if v < 0 {
                v = if step < 0 { -1 } else { 0 };
            }
        } else if v >= len {
            v = if step < 0 { len - 1 } else { len };
        }
        v
    };
    let (first, stop) = if step < 0 {
        (adjust(start, len - 1), adjust(stop, -1))
    } else {
        (adjust(start, 0), adjust(stop, len))
    };
    let count = if step < 0 {
        if stop < first {
            (first - stop - 1) / (-step) + 1
        } else {
            0
        }
    } else if first < stop {
        (stop - first - 1) / step + 1
    } else {
        0
    };
    // count <= len, which is a usize.
    Some(Slice {
        first,
        step,
        count: count as usize,
    })
}

/// Python's clamping of `find`'s `start`/`end` against `len`.
pub fn clamp(v: i64, len: usize) -> usize {
    let len_i = len as i128;
    let mut v = i128::from(v);
    if v < 0 {
        v += len_i;
        if v < 0 {
            v = 0;
        }
    } else if v > len_i {
        v = len_i;
    }
    v as usize
}

/// Python's rule for `m[i]`: negative counts from the end; `None` when
/// out of range (Python's IndexError).
pub fn index(i: i64, len: usize) -> Option<usize> {
    let len = len as i128;
    let mut i = i128::from(i);
    if i < 0 {
        i += len;
    }
    (0 <= i && i < len).then_some(i as usize)
}

/// The reference: the indices `seq[start:stop:step]` selects from a
/// sequence of `len`, as Python's documentation defines slicing
/// (normalise, clamp, then `range(start, stop, step)`). Panics on step 0.
pub fn slice_positions(
    len: usize,
    start: Option<i64>,
    stop: Option<i64>,
    step: Option<i64>,
) -> Vec<usize> {
    let s = i128::from(step.unwrap_or(1));
    assert!(s != 0, "slice step cannot be zero");
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

/// The reference for `find`/`rfind`: Python's `bytes.find` over
/// `hay[start:end]` with clamped, possibly negative bounds, by trying
/// every position.
pub fn find_reference(hay: &[u8], sub: &[u8], start: i64, end: i64, reverse: bool) -> i64 {
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

#[cfg(test)]
mod tests {
    use super::*;

    const VALS: [Option<i64>; 11] = [
        None,
        Some(i64::MIN),
        Some(-12),
        Some(-5),
        Some(-1),
        Some(0),
        Some(1),
        Some(3),
        Some(5),
        Some(12),
        Some(i64::MAX),
    ];

    /// Every slice of every small length: the arithmetic equals the
    /// reference.
    #[test]
    fn slice_matches_the_reference() {
        for len in 0..7usize {
            for &start in &VALS {
                for &stop in &VALS {
                    for step in [Some(-3), Some(-1), None, Some(2), Some(5), Some(i64::MIN)] {
                        let s = slice(len, start, stop, step).unwrap();
                        let got: Vec<usize> = (0..s.count)
                            .map(|k| (s.first + s.step * k as i128) as usize)
                            .collect();
                        assert_eq!(
                            got,
                            slice_positions(len, start, stop, step),
                            "len={len} {start:?}:{stop:?}:{step:?}"
                        );
                        if s.count > 0 {
                            let (lo, hi) = s.span();
                            assert!(got.iter().all(|&i| lo <= i && i < hi && hi <= len));
                        }
                    }
                }
            }
        }
        assert!(slice(3, None, None, Some(0)).is_none());
    }

    /// `index` and `clamp` against their definitions.
    #[test]
    fn index_and_clamp() {
        for len in 0..5usize {
            for &v in VALS.iter().flatten() {
                let l = len as i128;
                let i = i128::from(v);
                let want = if i < 0 { i + l } else { i };
                assert_eq!(
                    index(v, len),
                    (0..l).contains(&want).then_some(want as usize)
                );
                assert_eq!(clamp(v, len) as i128, want.clamp(0, l));
            }
        }
    }
}
