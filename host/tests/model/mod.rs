//! A second, independent statement of Python's mmap semantics over a plain
//! `Vec<u8>`, and a checker that drives the host's [`Mmap`] and the model
//! with the same calls and compares every answer. Shared by the proptest
//! (`tests/model_ops.rs`, in CI) and the fuzz target (`fuzz/`).
//!
//! Calls come from [`decode`], which turns any byte string into a map setup
//! and up to 200 calls whose arguments favour edges: 0, ±1, ±len, len+1,
//! i64::MIN/MAX. Besides Python's method set they cover `read-at`/`write-at`,
//! the 32/64-bit atomics (alignment and range errors included), `madvise`
//! with every advice that changes no byte, `wait32` (0 ns) and `notify`.

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::sync::Arc;
use wasm_mmap::pyindex::{clamp, slice_positions};
use wasm_mmap::{
    Access, Advice, FileRef, MapFlags, MapOptions, Mmap, MmapError, Prot, Unlimited, WaitResult,
    Whence,
};

/// Largest map the model will grow to.
const CAP: usize = 1 << 16;

/// One call on a map.
#[derive(Clone, Debug)]
pub enum Op {
    Read(Option<i64>),
    ReadByte,
    Readline,
    Write(Vec<u8>),
    WriteByte(u8),
    Seek(i64, Whence),
    Tell,
    Len,
    Size,
    Find(Vec<u8>, Option<i64>, Option<i64>, bool),
    Move(i64, i64, i64),
    Resize(i64),
    Get(i64),
    Set(i64, u8),
    GetSlice(Option<i64>, Option<i64>, Option<i64>),
    SetSlice(Option<i64>, Option<i64>, Option<i64>, Vec<u8>),
    Flush(Option<i64>, Option<i64>),
    Close,
    /// `read-at(offset, n)`.
    ReadAt(u64, u64),
    /// `write-at(offset, data)`.
    WriteAt(u64, Vec<u8>),
    /// An atomic on the word of `size` (4 or 8) bytes at `offset`.
    Atomic(AtomicKind, u64, u8, u64, u64),
    /// `madvise` with an advice that changes no byte (the model's bounds).
    Madvise(Advice, Option<i64>, Option<i64>),
    /// `wait32(offset, expected, 0 ns)`: never blocks.
    Wait32(u64, u32),
    /// `notify(offset, count)`: nobody waits, so 0 woken.
    Notify(u64, u32),
    /// `m.closed`.
    Closed,
    /// `m.seekable()`.
    Seekable,
    /// `repr(m)`.
    Repr,
}

/// Which atomic operation.
#[derive(Clone, Copy, Debug)]
pub enum AtomicKind {
    Load,
    Store,
    Cas,
    Add,
}

/// How the map under test is made.
#[derive(Clone, Debug)]
pub struct Setup {
    pub len: usize,
    pub access: Access,
    pub file: bool,
    /// Not a file: named shared memory (`open-named`, create-or-open, a
    /// fresh name), else anonymous memory.
    pub named: bool,
}

/// What a call answered, comparable between host and model.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    Bytes(Vec<u8>),
    Int(i64),
    Unit,
    /// Exception class and message (for OSError: the errno, or "*" when
    /// the model accepts any).
    Err(&'static str, String),
    /// A bool (`closed`, `seekable`).
    Bool(bool),
    /// A text (`repr`).
    Text(String),
}

fn v(m: &str) -> Answer {
    Answer::Err("ValueError", m.into())
}

fn os(errno: i32) -> Answer {
    Answer::Err("OSError", errno.to_string())
}

const CLOSED: &str = "mmap closed or invalid";
const READONLY: &str = "mmap can't modify a readonly memory map.";
const NO_RESIZE: &str = "mmap can't resize a readonly or copy-on-write memory map.";

/// Bytes → setup and calls. Every input decodes to something valid.
pub fn decode(bytes: &[u8]) -> (Setup, Vec<Op>) {
    let mut it = bytes.iter().copied();
    let mut byte = move || it.next().unwrap_or(0);
    let len = 1 + (usize::from(byte()) | usize::from(byte()) << 8) % 9000;
    let access =
        [Access::Default, Access::Write, Access::Read, Access::Copy][usize::from(byte() % 4)];
    let kind = byte() % 4;
    let (file, named) = (kind < 2, kind == 3);
    let setup = Setup {
        len,
        access,
        file,
        named,
    };
    let mut ops = Vec::new();
    let mut cur_len = len as i64;
    let n_ops = usize::from(byte()) % 200 + 1;
    for _ in 0..n_ops {
        let num = |byte: &mut dyn FnMut() -> u8| -> i64 {
            let l = cur_len;
            match byte() % 16 {
                0 => 0,
                1 => 1,
                2 => -1,
                3 => l,
                4 => l + 1,
                5 => -l,
                6 => -l - 1,
                7 => i64::MIN,
                8 => i64::MAX,
                9 => l - 1,
                10 => 4096,
                _ => i64::from(byte()) * 37 % (l + 3),
            }
        };
        let opt = |byte: &mut dyn FnMut() -> u8| {
            if byte().is_multiple_of(4) {
                None
            } else {
                Some(num(byte))
            }
        };
        let data = |byte: &mut dyn FnMut() -> u8| {
            let n = usize::from(byte() % 12);
            (0..n)
                .map(|_| b"ab\n\0x"[usize::from(byte() % 5)])
                .collect::<Vec<u8>>()
        };
        // An offset for the calls that take a u64: edges and words.
        let off = |byte: &mut dyn FnMut() -> u8| -> u64 {
            let l = cur_len as u64;
            match byte() % 10 {
                0 => 0,
                1 => 4,
                2 => 8,
                3 => l.saturating_sub(4),
                4 => l.saturating_sub(8),
                5 => l,
                6 => 1,
                7 => u64::MAX,
                8 => l.saturating_sub(2),
                _ => u64::from(byte()) * 8 % (l + 8),
            }
        };
        let op = match byte() % 26 {
            0 => Op::Read(opt(&mut byte)),
            1 => Op::ReadByte,
            2 => Op::Readline,
            3 => Op::Write(data(&mut byte)),
            4 => Op::WriteByte(byte()),
            5 => Op::Seek(
                num(&mut byte),
                [Whence::Set, Whence::Cur, Whence::End][usize::from(byte() % 3)],
            ),
            6 => Op::Tell,
            7 => Op::Len,
            8 => Op::Find(
                data(&mut byte),
                opt(&mut byte),
                opt(&mut byte),
                byte().is_multiple_of(2),
            ),
            9 => Op::Move(num(&mut byte), num(&mut byte), num(&mut byte)),
            10 => {
                // Sizes the model can follow, or ones that fail everywhere.
                let n = match byte() % 6 {
                    0 => -1,
                    1 => i64::MIN,
                    2 => 0,
                    3 if !file && !named => i64::MAX,
                    _ => 1 + i64::from(byte()) * 97 % CAP as i64,
                };
                if n > 0 && n != i64::MAX {
                    cur_len = n;
                }
                Op::Resize(n)
            }
            11 => Op::Get(num(&mut byte)),
            12 => Op::Set(num(&mut byte), byte()),
            13 => Op::GetSlice(opt(&mut byte), opt(&mut byte), opt(&mut byte)),
            14 => {
                let (a, b, c) = (opt(&mut byte), opt(&mut byte), opt(&mut byte));
                Op::SetSlice(a, b, c, data(&mut byte))
            }
            15 => Op::Flush(opt(&mut byte), opt(&mut byte)),
            16 => Op::Size,
            18 | 19 => Op::ReadAt(off(&mut byte), off(&mut byte) % 64),
            20 => Op::WriteAt(off(&mut byte), data(&mut byte)),
            21 | 22 => {
                let kind = [
                    AtomicKind::Load,
                    AtomicKind::Store,
                    AtomicKind::Cas,
                    AtomicKind::Add,
                ][usize::from(byte() % 4)];
                let size = if byte().is_multiple_of(2) { 4 } else { 8 };
                let a = u64::from(byte()) * 0x0101_0101;
                let b = if byte().is_multiple_of(2) {
                    a
                } else {
                    u64::from(byte())
                };
                Op::Atomic(kind, off(&mut byte), size, a, b)
            }
            23 => {
                let advice = [
                    Advice::Normal,
                    Advice::Random,
                    Advice::Sequential,
                    Advice::WillNeed,
                    Advice::DontFork,
                    Advice::DoFork,
                    Advice::DontDump,
                    Advice::DoDump,
                ][usize::from(byte() % 8)];
                // An advice that sets a flag on part of the map splits the
                // kernel's mapping, and a later resize (mremap over two
                // mappings) is then EFAULT, in CPython too: the model does
                // not follow the kernel's splitting and merging, so only
                // WILLNEED (no flag) gets partial ranges.
                if advice == Advice::WillNeed {
                    Op::Madvise(advice, opt(&mut byte), opt(&mut byte))
                } else {
                    Op::Madvise(advice, None, None)
                }
            }
            24 => Op::Wait32(off(&mut byte), u32::from(byte() % 3) * 0x6261),
            25 => Op::Notify(off(&mut byte), u32::from(byte())),
            _ => match byte() % 8 {
                0 => Op::Close,
                1 | 2 => Op::Closed,
                3 => Op::Seekable,
                4 | 5 => Op::Repr,
                _ => Op::Tell,
            },
        };
        ops.push(op);
    }
    (setup, ops)
}

/// The model.
struct Model {
    data: Vec<u8>,
    pos: usize,
    closed: bool,
    access: Access,
    /// Anonymous maps: the bytes past `len` in its last page, which an
    /// mremap shrink keeps and a later grow shows again (Linux, CPython).
    hidden: Vec<u8>,
    /// The file's size, for file maps (shrinks to 0 when `resize(0)`
    /// truncates the file and then fails, as in CPython).
    file_len: Option<usize>,
}

/// Python's slice indices: (first, step, count), from the reference.
fn slice(
    len: usize,
    a: Option<i64>,
    b: Option<i64>,
    c: Option<i64>,
) -> Option<(i128, i128, usize)> {
    let step = i128::from(c.unwrap_or(1));
    if step == 0 {
        return None;
    }
    let idx = slice_positions(len, a, b, c);
    let first = idx.first().map_or(0, |&i| i as i128);
    Some((first, step, idx.len()))
}

impl Model {
    fn backed(&self, hi: usize) -> bool {
        self.file_len.is_none_or(|f| hi <= f)
    }

    fn apply(&mut self, op: &Op) -> Answer {
        match op {
            Op::Close => {
                self.closed = true;
                return Answer::Unit;
            }
            Op::Closed => return Answer::Bool(self.closed),
            Op::Seekable => return Answer::Bool(true),
            Op::Repr if self.closed => return Answer::Text("<mmap.mmap closed=True>".into()),
            _ => {}
        }
        if self.closed {
            return v(CLOSED);
        }
        let len = self.data.len();
        let writes = matches!(
            op,
            Op::Write(_)
                | Op::WriteByte(_)
                | Op::Move(..)
                | Op::Set(..)
                | Op::SetSlice(..)
                | Op::WriteAt(..)
                | Op::Atomic(AtomicKind::Store | AtomicKind::Cas | AtomicKind::Add, ..)
        );
        if writes && self.access == Access::Read {
            return Answer::Err("TypeError", READONLY.into());
        }
        match op {
            Op::Read(n) => {
                let rem = len.saturating_sub(self.pos);
                let n = match n {
                    Some(k) if *k >= 0 => rem.min(*k as usize),
                    _ => rem,
                };
                if n == 0 {
                    return Answer::Bytes(vec![]);
                }
                if !self.backed(self.pos + n) {
                    return os(14);
                }
                let out = self.data[self.pos..self.pos + n].to_vec();
                self.pos += n;
                Answer::Bytes(out)
            }
            Op::ReadByte => {
                if self.pos >= len {
                    return v("read byte out of range");
                }
                if !self.backed(self.pos + 1) {
                    return os(14);
                }
                self.pos += 1;
                Answer::Int(i64::from(self.data[self.pos - 1]))
            }
            Op::Readline => {
                if self.pos >= len {
                    return Answer::Bytes(vec![]);
                }
                if !self.backed(self.pos + 1) {
                    return os(14);
                }
                let end = self.data[self.pos..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(len, |i| self.pos + i + 1);
                let out = self.data[self.pos..end].to_vec();
                self.pos = end;
                Answer::Bytes(out)
            }
            Op::Write(d) => {
                if self.pos > len || len - self.pos < d.len() {
                    return v("data out of range");
                }
                if !d.is_empty() && !self.backed(self.pos + d.len()) {
                    return os(14);
                }
                self.data[self.pos..self.pos + d.len()].copy_from_slice(d);
                self.pos += d.len();
                Answer::Int(d.len() as i64)
            }
            Op::WriteByte(b) => {
                if self.pos >= len {
                    return v("write byte out of range");
                }
                if !self.backed(self.pos + 1) {
                    return os(14);
                }
                self.data[self.pos] = *b;
                self.pos += 1;
                Answer::Unit
            }
            Op::Seek(p, w) => {
                let base = match w {
                    Whence::Set => 0,
                    Whence::Cur => self.pos as i128,
                    Whence::End => len as i128,
                };
                let t = base + i128::from(*p);
                if t < 0 || t > len as i128 {
                    return v("seek out of range");
                }
                self.pos = t as usize;
                Answer::Int(t as i64)
            }
            Op::Tell => Answer::Int(self.pos as i64),
            Op::Len => Answer::Int(len as i64),
            Op::Size => match self.file_len {
                Some(f) => Answer::Int(f as i64),
                None => os(9),
            },
            Op::Find(sub, s, e, rev) => {
                let s = s.map_or(self.pos.min(len), |x| clamp(x, len));
                let e = e.map_or(len, |x| clamp(x, len));
                if s > e {
                    return Answer::Int(-1);
                }
                if sub.is_empty() {
                    return Answer::Int((if *rev { e } else { s }) as i64);
                }
                if e - s < sub.len() {
                    return Answer::Int(-1);
                }
                if !self.backed(s + 1) {
                    return os(14);
                }
                let hay = &self.data[s..e];
                let found = if *rev {
                    hay.windows(sub.len()).rposition(|w| w == &sub[..])
                } else {
                    hay.windows(sub.len()).position(|w| w == &sub[..])
                };
                Answer::Int(found.map_or(-1, |i| (s + i) as i64))
            }
            Op::Move(d, s, c) => {
                let l = len as i64;
                if *d < 0 || *s < 0 || *c < 0 || l - d < *c || l - s < *c {
                    return v("source, destination, or count out of range");
                }
                let (d, s, c) = (*d as usize, *s as usize, *c as usize);
                if c > 0 && !self.backed(d.max(s) + c) {
                    return os(14);
                }
                self.data.copy_within(s..s + c, d);
                Answer::Unit
            }
            Op::Resize(n) => {
                if matches!(self.access, Access::Read | Access::Copy) {
                    return Answer::Err("TypeError", NO_RESIZE.into());
                }
                if *n < 0 {
                    return v("new size out of range");
                }
                let n = *n as usize;
                if self.file_len.is_some() {
                    // ftruncate discards the file's bytes past `n`: a map
                    // regrown over them later sees zeros.
                    let keep = n.min(self.data.len());
                    self.data[keep..].fill(0);
                    self.file_len = Some(n);
                }
                if n == 0 {
                    return os(22);
                }
                if n > CAP {
                    return Answer::Err("OSError", "*".into());
                }
                let page = |x: usize| x.div_ceil(4096) * 4096;
                let mut full = std::mem::take(&mut self.data);
                if self.file_len.is_none() {
                    full.append(&mut self.hidden);
                }
                full.resize(page(n), 0);
                self.hidden = full.split_off(n);
                self.data = full;
                if self.file_len.is_some() {
                    self.hidden.clear();
                }
                Answer::Unit
            }
            Op::Get(i) | Op::Set(i, _) => {
                let l = len as i128;
                let mut k = i128::from(*i);
                if k < 0 {
                    k += l;
                }
                if k < 0 || k >= l {
                    return Answer::Err("IndexError", "mmap index out of range".into());
                }
                let k = k as usize;
                if !self.backed(k + 1) {
                    return os(14);
                }
                match op {
                    Op::Set(_, b) => {
                        self.data[k] = *b;
                        Answer::Unit
                    }
                    _ => Answer::Int(i64::from(self.data[k])),
                }
            }
            Op::GetSlice(a, b, c) | Op::SetSlice(a, b, c, _) => {
                let Some((first, step, count)) = slice(len, *a, *b, *c) else {
                    return v("slice step cannot be zero");
                };
                if let Op::SetSlice(.., d) = op
                    && d.len() != count
                {
                    return Answer::Err("IndexError", "mmap slice assignment is wrong size".into());
                }
                let idx: Vec<usize> = (0..count)
                    .map(|k| (first + step * k as i128) as usize)
                    .collect();
                if let Some(&hi) = idx.iter().max()
                    && !self.backed(hi + 1)
                {
                    return os(14);
                }
                match op {
                    Op::SetSlice(.., d) => {
                        for (k, &i) in idx.iter().enumerate() {
                            self.data[i] = d[k];
                        }
                        Answer::Unit
                    }
                    _ => Answer::Bytes(idx.iter().map(|&i| self.data[i]).collect()),
                }
            }
            Op::Flush(o, s) => {
                let l = len as i64;
                let (o, s) = (o.unwrap_or(0), s.unwrap_or(l));
                if s < 0 || o < 0 || l - o < s {
                    return v("flush values out of range");
                }
                if matches!(self.access, Access::Read | Access::Copy) || o % 4096 == 0 {
                    Answer::Unit
                } else {
                    os(22)
                }
            }
            Op::ReadAt(offset, n) => {
                let start = usize::try_from(*offset).unwrap_or(usize::MAX).min(len);
                let n = usize::try_from(*n).unwrap_or(usize::MAX).min(len - start);
                if n == 0 {
                    return Answer::Bytes(vec![]);
                }
                if !self.backed(start + n) {
                    return os(14);
                }
                Answer::Bytes(self.data[start..start + n].to_vec())
            }
            Op::WriteAt(offset, d) => {
                if *offset > len as u64 || len as u64 - offset < d.len() as u64 {
                    return v("data out of range");
                }
                let o = *offset as usize;
                if !d.is_empty() && !self.backed(o + d.len()) {
                    return os(14);
                }
                self.data[o..o + d.len()].copy_from_slice(d);
                Answer::Int(d.len() as i64)
            }
            Op::Atomic(kind, offset, size, a, b) => {
                let o = match self.word(*offset, u64::from(*size)) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                let size = usize::from(*size);
                if !self.backed(o + size) {
                    return os(14);
                }
                let mask = if size == 4 {
                    u64::from(u32::MAX)
                } else {
                    u64::MAX
                };
                let mut word = [0u8; 8];
                word[..size].copy_from_slice(&self.data[o..o + size]);
                let old = u64::from_le_bytes(word);
                let (a, b) = (a & mask, b & mask);
                let new = match kind {
                    AtomicKind::Load => None,
                    AtomicKind::Store => Some(a),
                    AtomicKind::Cas => (old == a).then_some(b),
                    AtomicKind::Add => Some(old.wrapping_add(a) & mask),
                };
                if let Some(n) = new {
                    self.data[o..o + size].copy_from_slice(&n.to_le_bytes()[..size]);
                }
                match kind {
                    AtomicKind::Store => Answer::Unit,
                    _ => Answer::Int(old as i64),
                }
            }
            Op::Madvise(_, start, length) => {
                let l = len as i64;
                let start = start.unwrap_or(0);
                if start < 0 || start >= l {
                    return v("madvise start out of bounds");
                }
                let length = length.unwrap_or(l - start);
                if length < 0 {
                    return v("madvise length invalid");
                }
                if i64::MAX - start < length {
                    return Answer::Err("OverflowError", "madvise length too large".into());
                }
                // madvise(2) wants a page-aligned start, as CPython passes it.
                if start % 4096 != 0 {
                    return os(22);
                }
                Answer::Unit
            }
            Op::Wait32(offset, expected) => {
                let o = match self.word(*offset, 4) {
                    Ok(o) => o,
                    Err(e) => return e,
                };
                if !self.backed(o + 4) {
                    return Answer::Err("OSError", "*".into());
                }
                let now = u32::from_le_bytes(self.data[o..o + 4].try_into().unwrap());
                // 0: woken (spuriously), 1: mismatch, 2: timed out.
                Answer::Int(if now == *expected { 2 } else { 1 })
            }
            Op::Notify(offset, _) => match self.word(*offset, 4) {
                // A shared futex on a vanished page: the kernel's EFAULT.
                Ok(o) if !self.backed(o + 4) => os(14),
                Ok(_) => Answer::Int(0),
                Err(e) => e,
            },
            Op::Repr => Answer::Text(format!(
                "<mmap.mmap closed=False, access={}, length={len}, pos={}, offset=0>",
                match self.access {
                    Access::Default => "ACCESS_DEFAULT",
                    Access::Read => "ACCESS_READ",
                    Access::Write => "ACCESS_WRITE",
                    Access::Copy => "ACCESS_COPY",
                },
                self.pos
            )),
            Op::Close | Op::Closed | Op::Seekable => unreachable!(),
        }
    }

    /// The aligned word at `offset`, or the error the host gives.
    fn word(&self, offset: u64, size: u64) -> Result<usize, Answer> {
        if !offset.is_multiple_of(size) {
            return Err(v(&format!("atomic offset must be a multiple of {size}")));
        }
        match offset.checked_add(size) {
            Some(end) if end <= self.data.len() as u64 => Ok(offset as usize),
            _ => Err(Answer::Err(
                "IndexError",
                "atomic offset out of range".into(),
            )),
        }
    }
}

fn answer<T>(r: Result<T, MmapError>, f: impl FnOnce(T) -> Answer) -> Answer {
    match r {
        Ok(x) => f(x),
        Err(MmapError::ValueError(m)) => Answer::Err("ValueError", m),
        Err(MmapError::IndexError(m)) => Answer::Err("IndexError", m),
        Err(MmapError::TypeError(m)) => Answer::Err("TypeError", m),
        Err(MmapError::OverflowError(m)) => Answer::Err("OverflowError", m),
        Err(MmapError::OsError { errno, .. }) => Answer::Err("OSError", errno.to_string()),
    }
}

fn host_apply(m: &mut Mmap, op: &Op) -> Answer {
    let bytes = |b: Vec<u8>| Answer::Bytes(b);
    let unit = |_| Answer::Unit;
    match op {
        Op::Read(n) => answer(m.read(*n), bytes),
        Op::ReadByte => answer(m.read_byte(), |b| Answer::Int(i64::from(b))),
        Op::Readline => answer(m.readline(), bytes),
        Op::Write(d) => answer(m.write(d), |n| Answer::Int(n as i64)),
        Op::WriteByte(b) => answer(m.write_byte(*b), unit),
        Op::Seek(p, w) => answer(m.seek(*p, *w), |n| Answer::Int(n as i64)),
        Op::Tell => answer(m.tell(), |n| Answer::Int(n as i64)),
        Op::Len => answer(m.len(), |n| Answer::Int(n as i64)),
        Op::Size => answer(m.size(), |n| Answer::Int(n as i64)),
        Op::Find(s, a, b, r) => answer(
            if *r {
                m.rfind(s, *a, *b)
            } else {
                m.find(s, *a, *b)
            },
            Answer::Int,
        ),
        Op::Move(d, s, c) => answer(m.move_(*d, *s, *c), unit),
        Op::Resize(n) => answer(m.resize(*n, &Unlimited), unit),
        Op::Get(i) => answer(m.get(*i), |b| Answer::Int(i64::from(b))),
        Op::Set(i, b) => answer(m.set(*i, *b), unit),
        Op::GetSlice(a, b, c) => answer(m.get_slice(*a, *b, *c), bytes),
        Op::SetSlice(a, b, c, d) => answer(m.set_slice(*a, *b, *c, d), unit),
        Op::Flush(o, s) => answer(m.flush(*o, *s), unit),
        Op::Close => {
            m.close();
            Answer::Unit
        }
        Op::ReadAt(o, n) => answer(m.read_at(*o, *n), bytes),
        Op::WriteAt(o, d) => answer(m.write_at(*o, d), |n| Answer::Int(n as i64)),
        Op::Atomic(kind, o, size, a, b) => {
            let int = |x: u64| Answer::Int(x as i64);
            match (kind, size) {
                (AtomicKind::Load, 4) => answer(m.atomic_load32(*o), |x| int(x.into())),
                (AtomicKind::Store, 4) => answer(m.atomic_store32(*o, *a as u32), unit),
                (AtomicKind::Cas, 4) => {
                    answer(m.atomic_cas32(*o, *a as u32, *b as u32), |x| int(x.into()))
                }
                (AtomicKind::Add, 4) => answer(m.atomic_add32(*o, *a as u32), |x| int(x.into())),
                (AtomicKind::Load, _) => answer(m.atomic_load64(*o), int),
                (AtomicKind::Store, _) => answer(m.atomic_store64(*o, *a), unit),
                (AtomicKind::Cas, _) => answer(m.atomic_cas64(*o, *a, *b), int),
                (AtomicKind::Add, _) => answer(m.atomic_add64(*o, *a), int),
            }
        }
        Op::Madvise(advice, s, l) => answer(m.madvise(*advice, *s, *l, &Unlimited), unit),
        Op::Wait32(o, e) => answer(m.wait32(*o, *e, 0), |w| {
            Answer::Int(match w {
                WaitResult::Woken => 0,
                WaitResult::Mismatch => 1,
                WaitResult::TimedOut => 2,
            })
        }),
        Op::Notify(o, c) => answer(m.notify(*o, *c), |n| Answer::Int(n.into())),
        Op::Closed => Answer::Bool(m.closed()),
        // The host answers `seekable` in its WIT glue, with no map method.
        Op::Seekable => Answer::Bool(true),
        Op::Repr => Answer::Text(m.repr()),
    }
}

/// The map's bytes before the first call. Anonymous read-only memory stays
/// zero: nothing can write it; the others get a pattern (anonymous maps by a
/// first whole-map slice assignment).
pub fn initial(setup: &Setup) -> Vec<u8> {
    if !setup.file && setup.access == Access::Read {
        vec![0; setup.len]
    } else {
        (0..setup.len).map(|i| b"abc\nx\0"[i % 6]).collect()
    }
}

impl Model {
    fn new(setup: &Setup, initial: &[u8]) -> Model {
        Model {
            hidden: vec![0; setup.len.div_ceil(4096) * 4096 - setup.len],
            data: initial.to_vec(),
            pos: 0,
            closed: false,
            access: setup.access,
            // A named object is a file (in /dev/shm) of the map's size.
            file_len: (setup.file || setup.named).then_some(setup.len),
        }
    }
}

/// The model's answer to each call, with the cursor after it (None once
/// closed), from [`initial`].
pub fn expected(setup: &Setup, ops: &[Op]) -> Vec<(Answer, Option<usize>)> {
    let mut model = Model::new(setup, &initial(setup));
    ops.iter()
        .map(|op| {
            let a = model.apply(op);
            (a, (!model.closed).then_some(model.pos))
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        "-".into()
    } else {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}

fn opt_text(v: Option<i64>) -> String {
    v.map_or("N".into(), |x| x.to_string())
}

/// The call in the `diff_runner` guest's language (tests/differential).
pub fn op_text(op: &Op) -> String {
    let o = opt_text;
    match op {
        Op::Read(n) => format!("read {}", o(*n)),
        Op::ReadByte => "read_byte".into(),
        Op::Readline => "readline".into(),
        Op::Write(d) => format!("write {}", hex(d)),
        Op::WriteByte(b) => format!("write_byte {b}"),
        Op::Seek(p, w) => format!("seek {p} {}", *w as u8),
        Op::Tell => "tell".into(),
        Op::Len => "len".into(),
        Op::Size => "size".into(),
        Op::Find(d, a, b, rev) => {
            format!(
                "{} {} {} {}",
                if *rev { "rfind" } else { "find" },
                hex(d),
                o(*a),
                o(*b)
            )
        }
        Op::Move(d, s, c) => format!("move {d} {s} {c}"),
        Op::Resize(n) => format!("resize {n}"),
        Op::Get(i) => format!("get {i}"),
        Op::Set(i, b) => format!("set {i} {b}"),
        Op::GetSlice(a, b, c) => format!("getslice {} {} {}", o(*a), o(*b), o(*c)),
        Op::SetSlice(a, b, c, d) => format!("setslice {} {} {} {}", o(*a), o(*b), o(*c), hex(d)),
        Op::Flush(a, b) => format!("flush {} {}", o(*a), o(*b)),
        Op::Close => "close".into(),
        Op::ReadAt(off, n) => format!("read_at {off} {n}"),
        Op::WriteAt(off, d) => format!("write_at {off} {}", hex(d)),
        Op::Atomic(k, off, size, a, b) => format!("atomic {k:?} {off} {size} {a} {b}"),
        Op::Madvise(adv, a, b) => format!("madvise {} {} {}", *adv as u8, o(*a), o(*b)),
        Op::Wait32(off, e) => format!("wait32 {off} {e}"),
        Op::Notify(off, c) => format!("notify {off} {c}"),
        Op::Closed => "closed".into(),
        Op::Seekable => "seekable".into(),
        Op::Repr => "repr".into(),
    }
}

/// Whether the `diff_runner` guest's line for `op` says what the model
/// answered (`pos`: the cursor after it).
pub fn agrees(op: &Op, want: &Answer, pos: Option<usize>, line: &str) -> bool {
    let Some((answer, cursor)) = line.split_once(" | pos=") else {
        return false;
    };
    if cursor != pos.map_or("closed".into(), |p| p.to_string()) {
        return false;
    }
    let unit = matches!(op, Op::Seek(..) | Op::Atomic(AtomicKind::Store, ..));
    match want {
        Answer::Bytes(b) => answer == format!("ok {}", hex(b)),
        Answer::Int(_) if unit => answer == "ok none",
        // A futex wait may return early (spuriously) instead of timing out.
        Answer::Int(2) if matches!(op, Op::Wait32(..)) => answer == "ok 2" || answer == "ok 0",
        // A 64-bit word's value is a u64 (the model holds it in an i64).
        Answer::Int(i) if matches!(op, Op::Atomic(_, _, 8, ..)) => {
            answer == format!("ok {}", *i as u64)
        }
        Answer::Int(i) => answer == format!("ok {i}"),
        Answer::Unit => answer == "ok none",
        Answer::Err("OSError", e) if e == "*" => answer.starts_with("err OSError "),
        Answer::Err(class, msg) => answer == format!("err {class} {msg}"),
        Answer::Bool(b) => answer == if *b { "ok True" } else { "ok False" },
        Answer::Text(t) => answer == format!("ok {t}"),
    }
}

/// One sequence for the `diff_runner` guest, named `name`: the file it
/// maps (for file maps: `(file name, bytes)`), and its text. Anonymous maps
/// that the model starts from a pattern get it by a first whole-map slice
/// assignment, added to `ops` (the model makes it too).
pub fn runner_sequence(
    name: &str,
    setup: &Setup,
    ops: &mut Vec<Op>,
) -> (Option<(String, Vec<u8>)>, String) {
    let access = [Access::Default, Access::Read, Access::Write, Access::Copy]
        .iter()
        .position(|a| *a == setup.access)
        .unwrap_or(0);
    let initial = initial(setup);
    let mut text;
    let mut file = None;
    if setup.file {
        text = format!("seq {name} file 0 {access} 1 3 0\n");
        file = Some((format!("{name}.bin"), initial));
    } else {
        let kind = if setup.named { "named" } else { "anon" };
        text = format!("seq {name} {kind} {} {access} 1 3 0\n", setup.len);
        if setup.access != Access::Read {
            ops.insert(0, Op::SetSlice(None, None, None, initial));
        }
    }
    for op in ops.iter() {
        text += &op_text(op);
        text.push('\n');
    }
    text += "end\n";
    (file, text)
}

/// Checks the `diff_runner` guest's output for `cases` (named `s0`, `s1`,
/// ... as given to [`runner_sequence`]) against the model, call by call;
/// the number of calls checked, or the first difference.
pub fn check_runner_output(cases: &[(Setup, Vec<Op>)], stdout: &str) -> Result<usize, String> {
    let mut lines = stdout.lines();
    let mut calls = 0;
    for (i, (setup, ops)) in cases.iter().enumerate() {
        let head = (lines.next(), lines.next());
        if head != (Some(format!("seq s{i}").as_str()), Some("open ok")) {
            return Err(format!("s{i}: {head:?} for the header of {setup:?}"));
        }
        for (k, (op, (want, pos))) in ops.iter().zip(expected(setup, ops)).enumerate() {
            let line = lines.next().unwrap_or("(nothing)");
            if !agrees(op, &want, pos, line) {
                return Err(format!(
                    "s{i} call {k} {op:?}: model {want:?} pos {pos:?}, component `{line}`\nsetup {setup:?}\nops {ops:?}"
                ));
            }
            calls += 1;
        }
        if lines.next() != Some("end") {
            return Err(format!("s{i}: no end"));
        }
    }
    Ok(calls)
}

/// Runs `ops` on a fresh host map and on the model; the first difference
/// is the error. `dir` holds the file for file maps.
pub fn check(setup: &Setup, ops: &[Op], dir: &std::path::Path) -> Result<(), String> {
    let initial = initial(setup);
    let opts = MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access: setup.access,
        offset: 0,
    };
    let (mut host, file): (Mmap, Option<Arc<File>>) = if setup.file {
        // One file per process and thread: test processes run side by side.
        let path = dir.join(format!(
            "model-{}-{}",
            std::process::id(),
            std::thread::current()
                .name()
                .unwrap_or("t")
                .replace("::", "-")
        ));
        std::fs::write(&path, &initial).unwrap();
        let f = Arc::new(
            OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .unwrap(),
        );
        // Open is enough: nothing is left behind.
        let _ = std::fs::remove_file(&path);
        let m = Mmap::open_file(
            FileRef {
                file: f.clone(),
                readable: true,
                writable: true,
            },
            0,
            opts,
            &Unlimited,
        )
        .unwrap();
        (m, Some(f))
    } else if setup.named {
        use std::sync::atomic::{AtomicU64, Ordering};
        static N: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "wasm-mmap.model.{}.{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let (mut m, _) = Mmap::open_named(
            &name,
            setup.len as i64,
            wasm_mmap::CreateMode::CreateOrOpen,
            opts,
            &Unlimited,
        )
        .unwrap();
        // Mapped: the name is not needed any more.
        let _ = std::fs::remove_file(format!("/dev/shm/{name}"));
        if setup.access != Access::Read {
            m.set_slice(None, None, None, &initial).unwrap();
        }
        (m, None)
    } else {
        let mut m = Mmap::anonymous(setup.len as i64, opts, &Unlimited).unwrap();
        if setup.access != Access::Read {
            m.set_slice(None, None, None, &initial).unwrap();
        }
        (m, None)
    };
    let mut model = Model::new(setup, &initial);
    for (i, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        let got = host_apply(&mut host, op);
        let same = match (&want, &got) {
            (Answer::Err("OSError", w), Answer::Err("OSError", _)) if w == "*" => true,
            // A futex wait may return early (spuriously) instead of timing out.
            (Answer::Int(2), Answer::Int(0)) if matches!(op, Op::Wait32(..)) => true,
            _ => want == got,
        };
        if !same {
            return Err(format!(
                "call {i} {op:?}: model {want:?}, host {got:?}\nsetup {setup:?}\nops {ops:?}"
            ));
        }
    }
    // The file holds what a shared map wrote (copy maps never write it).
    if let Some(f) = file
        && !model.closed
        && model.file_len == Some(model.data.len())
    {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; model.data.len()];
        f.read_exact_at(&mut buf, 0).unwrap();
        let want = if setup.access == Access::Copy {
            &initial
        } else {
            &model.data
        };
        if &buf != want {
            return Err(format!(
                "file content differs from the model\nsetup {setup:?}\nops {ops:?}"
            ));
        }
    }
    Ok(())
}
