//! Substring search over the blocks `find`/`rfind` copy out of a map.
//!
//! memchr's two-way finder is linear, but preparing it walks the whole
//! needle several times byte by byte: for a needle of megabytes that costs
//! more than the search. So a long needle is first looked for by a short
//! piece of it (its start going forward, its end going backward) and every
//! hit is compared in full. Those comparisons are capped at the length of
//! the searched range; a needle that exhausts the cap (periodic data, where
//! the piece matches everywhere) hands over to the two-way finder for the
//! whole needle, so every search stays linear in range plus needle.

use memchr::memmem::{Finder, FinderRev};

/// Needles shorter than this go straight to the two-way finder: preparing
/// it is cheap next to one block.
const PIECE_MIN_NEEDLE: usize = 4096;
/// The piece of a long needle that is searched for first.
const PIECE: usize = 64;
/// Full comparisons go chunk by chunk, so the cap counts what was compared.
const CHUNK: usize = 4096;

/// The first (`forward`) or last index of non-empty `needle` in
/// `[start, end)` of a source that `read(off, n, buf)` copies from (the
/// search never looks at live pages), in linear time.
///
/// Blocks are `block` bytes apart (at least the needle's length for the
/// whole-needle phase) and overlap by what a match can straddle, so every
/// position is tried in exactly one block and the bytes copied stay within
/// 2× the range (plus the capped comparisons).
pub(super) fn search<E>(
    needle: &[u8],
    start: usize,
    end: usize,
    forward: bool,
    block: usize,
    mut read: impl FnMut(usize, usize, &mut Vec<u8>) -> Result<(), E>,
) -> Result<Option<usize>, E> {
    let n = needle.len();
    if end.saturating_sub(start) < n {
        return Ok(None);
    }
    // One buffer for every block: its pages are faulted in once.
    let mut buf = Vec::new();
    let (mut start, mut end) = (start, end);
    if n >= PIECE_MIN_NEEDLE {
        let mut budget = end - start;
        let mut chunk = Vec::with_capacity(CHUNK);
        let span = block + PIECE - 1;
        if forward {
            // The needle's first PIECE bytes, at positions p <= end - n.
            let piece = Finder::new(&needle[..PIECE]);
            let top_all = end - n + PIECE;
            let mut base = start;
            'blocks: loop {
                let top = top_all.min(base.saturating_add(span));
                read(base, top - base, &mut buf)?;
                let mut at = 0;
                while let Some(i) = piece.find(&buf[at..]) {
                    let p = base + at + i;
                    match verify(&mut read, needle, p, &mut budget, &mut chunk)? {
                        Some(true) => return Ok(Some(p)),
                        Some(false) => at += i + 1,
                        None => {
                            start = p;
                            break 'blocks;
                        }
                    }
                }
                if top == top_all {
                    return Ok(None);
                }
                base += block;
            }
        } else {
            // The needle's last PIECE bytes, at positions q >= start + n -
            // PIECE; a hit at q puts the needle at q + PIECE - n.
            let piece = FinderRev::new(&needle[n - PIECE..]);
            let base_all = start + n - PIECE;
            let mut top = end;
            'blocks: loop {
                let base = base_all.max(top.saturating_sub(span));
                read(base, top - base, &mut buf)?;
                let mut lim = buf.len();
                while let Some(j) = piece.rfind(&buf[..lim]) {
                    let s = base + j + PIECE - n;
                    match verify(&mut read, needle, s, &mut budget, &mut chunk)? {
                        Some(true) => return Ok(Some(s)),
                        Some(false) => lim = j + PIECE - 1,
                        None => {
                            end = s + n;
                            break 'blocks;
                        }
                    }
                }
                if base == base_all {
                    return Ok(None);
                }
                top -= block;
            }
        }
    }
    // The whole-needle phase: for short needles, and for long ones whose
    // piece hit too often (from where the piece phase stopped).
    let block = block.max(n);
    let span = block + n - 1;
    if forward {
        let finder = Finder::new(needle);
        let mut base = start;
        loop {
            let top = end.min(base.saturating_add(span));
            read(base, top - base, &mut buf)?;
            if let Some(i) = finder.find(&buf) {
                return Ok(Some(base + i));
            }
            if top == end {
                return Ok(None);
            }
            base += block;
        }
    } else {
        let finder = FinderRev::new(needle);
        let mut top = end;
        loop {
            let base = start.max(top.saturating_sub(span));
            read(base, top - base, &mut buf)?;
            if let Some(i) = finder.rfind(&buf) {
                return Ok(Some(base + i));
            }
            if base == start {
                return Ok(None);
            }
            top -= block;
        }
    }
}

/// Whether `needle` sits at `p` of the source, compared chunk by chunk;
/// None once `budget` (charged with every chunk) is spent.
fn verify<E>(
    read: &mut impl FnMut(usize, usize, &mut Vec<u8>) -> Result<(), E>,
    needle: &[u8],
    p: usize,
    budget: &mut usize,
    chunk: &mut Vec<u8>,
) -> Result<Option<bool>, E> {
    for (k, want) in needle.chunks(CHUNK).enumerate() {
        let Some(left) = budget.checked_sub(want.len()) else {
            return Ok(None);
        };
        *budget = left;
        read(p + k * CHUNK, want.len(), chunk)?;
        if chunk.as_slice() != want {
            return Ok(Some(false));
        }
    }
    Ok(Some(true))
}

#[cfg(test)]
mod tests {
    use super::search;

    /// Every answer against a naive scan, over sub-ranges and small blocks
    /// (many blocks per search), for needles on both sides of the piece
    /// threshold: periodic data where the piece hits everywhere and the
    /// cap hands over to the whole-needle phase, and data where the piece
    /// hits but the rest differs. And the bytes copied stay linear.
    #[test]
    fn agrees_with_a_naive_scan_in_linear_copies() {
        let naive = |hay: &[u8], needle: &[u8], forward: bool| {
            let mut hits = hay.windows(needle.len()).enumerate();
            if forward {
                hits.find(|(_, w)| *w == needle).map(|(i, _)| i)
            } else {
                hits.rev().find(|(_, w)| *w == needle).map(|(i, _)| i)
            }
        };
        let mut cases: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for n in [100usize, 4096, 5000, 9000] {
            // Periodic: zeros with a one at the end of the needle.
            let mut needle = vec![0u8; n];
            *needle.last_mut().unwrap() = 1;
            let mut hay = vec![0u8; 60_000];
            hay[30_000] = 1;
            cases.push((hay.clone(), needle.clone()));
            hay[30_000] = 0;
            cases.push((hay, needle.clone()));
            // The piece (both ends) matches often, the middle differs.
            let needle: Vec<u8> = (0..n).map(|i| (i % 7) as u8).collect();
            let mut hay: Vec<u8> = (0..60_000).map(|i| (i % 7) as u8).collect();
            for k in (0..hay.len()).step_by(997) {
                hay[k] = 9;
            }
            cases.push((hay.clone(), needle.clone()));
            for at in [20_000, 20_001, 45_000] {
                hay[at..at + n].copy_from_slice(&needle);
            }
            cases.push((hay, needle));
        }
        for (hay, needle) in &cases {
            for forward in [true, false] {
                for (start, end) in [(0, hay.len()), (1, 50_003), (20_001, 45_000 + needle.len())] {
                    for block in [1000, 4096, 65_536] {
                        let mut copied = 0;
                        let got = search(needle, start, end, forward, block, |off, n, buf| {
                            copied += n;
                            buf.clear();
                            buf.extend_from_slice(&hay[off..off + n]);
                            Ok::<(), ()>(())
                        });
                        let want = naive(&hay[start..end], needle, forward).map(|i| i + start);
                        let what =
                            format!("n={} {forward} [{start},{end}) block {block}", needle.len());
                        assert_eq!(got, Ok(want), "{what}");
                        let range = end - start;
                        assert!(
                            copied <= 5 * range + 2 * needle.len() + block,
                            "{what}: {copied}"
                        );
                    }
                }
            }
        }
    }
}
