//! A second, independent statement of the WIT's semantics (Python's mmap,
//! the host's extensions and limits) over plain bytes, and the checkers
//! that compare the host with it call by call. Shared by the proptest
//! (`tests/model_ops.rs`), the fuzz targets (`fuzz/`: `ops` on `Mmap`,
//! `component` through the WIT in a guest), `tests/tests/diff.rs` (the
//! same through the CLI) and `tests/tests/fuzz.rs` (both targets in CI).
//!
//! Calls come from [`decode`], which turns any byte string into a setup
//! (a map of a file, anonymous or named memory; the host's limits; the
//! truncation policy; the namespace, and objects another context made in
//! its own or the same one) and up to 200 calls whose arguments favour
//! edges: 0, ±1, ±len, len+1, i64::MIN/MAX, unaligned and past-the-end
//! offsets, invalid names. The calls cover all 49 functions of the WIT:
//! every `mmap` method, the constructors (`open-named` in every create
//! mode, `open-tagged`), `remove-named`, `pagesize`,
//! `allocation-granularity` and the `windows` interface. Up to four maps
//! are open at once (`use` picks the one the method calls go to) and up to
//! four windows; windows need a guest's memory, so only the `component`
//! target and `diff.rs` make those calls ([`check`] leaves them out).
//!
//! `world.rs` is the model, `host.rs` the checker on `Mmap`; here are the
//! calls, the decoder, and the `diff_runner` guest's text for them.

#![allow(dead_code)]

mod host;
mod world;

#[allow(unused_imports)]
pub use host::{check, check_bytes, check_bytes_in};
#[allow(unused_imports)]
pub use world::{CAP, PAGE, SLOTS, guest_name};

use wasm_mmap::{Access, Advice, CreateMode, Whence};
use world::World;

/// One call.
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
    /// `wait32(offset, expected, timeout-ns)`, a short timeout (at most
    /// 50 µs): nobody stores, so it times out (or returns spuriously).
    Wait32(u64, u32, u64),
    /// `notify(offset, count)`: nobody waits, so 0 woken.
    Notify(u64, u32),
    /// `m.closed`.
    Closed,
    /// `m.seekable()`.
    Seekable,
    /// `repr(m)`.
    Repr,
    /// `wait-for-change(timeout-ns)`: short timeouts only.
    WaitForChange(u64),
    /// The method calls go to the map in this slot from here on (an empty
    /// slot answers as a closed map).
    Use(u8),
    /// Drops the handle in a slot (closing its map).
    Drop(u8),
    /// `open-named(name, len, mode, {access, offset})` into a slot (its
    /// previous map dropped once the new one is made). `name` indexes
    /// [`guest_name`].
    OpenNamed {
        slot: u8,
        name: u8,
        len: i64,
        mode: CreateMode,
        access: Access,
        offset: i64,
    },
    /// `open-tagged(file, len, name, {access, offset})` of the sequence's
    /// file (Unix: EOPNOTSUPP once every other check passed).
    OpenTagged {
        slot: u8,
        name: u8,
        len: i64,
        access: Access,
        offset: i64,
    },
    /// `remove-named(name)`.
    RemoveNamed(u8),
    /// `pagesize()`.
    PageSize,
    /// `allocation-granularity()`.
    Granularity,
    /// `window.place(map in slot, memory, offset)` into a window slot (its
    /// previous window dropped once the new one is placed).
    Place {
        win: u8,
        slot: u8,
        mem: Mem,
        offset: u64,
    },
    /// A call on the window in a slot, or an access to its bytes.
    Win(u8, WinOp),
}

impl Op {
    /// Needs a guest's memory: made through the component only.
    pub fn needs_guest(&self) -> bool {
        matches!(self, Op::Place { .. } | Op::Win(..))
    }
}

/// Which atomic operation.
#[derive(Clone, Copy, Debug)]
pub enum AtomicKind {
    Load,
    Store,
    Cas,
    Add,
}

/// The guest memory a window is placed over.
#[derive(Clone, Copy, Debug)]
pub enum Mem {
    /// A fresh allocation of this many bytes at an aligned address (0: an
    /// empty list).
    Aligned(u64),
    /// This many bytes one past an aligned address.
    Misaligned(u64),
    /// The memory of the window in this slot (a fresh page if none).
    Over(u8),
}

/// A window's calls, and plain loads and stores of its bytes.
#[derive(Clone, Debug)]
pub enum WinOp {
    /// `address()`: the runner answers whether it is its memory's.
    Address,
    Len,
    Offset,
    Flush(u64, u64),
    Replaced,
    /// Loads bytes `[off, off + n)` one by one.
    Read(u64, u64),
    /// Stores bytes from `off` one by one.
    Write(u64, Vec<u8>),
    /// Drops the window.
    Drop,
}

/// The host's limits (`MmapCtx::builder()`); `None` is the default
/// (`Limits::default()`), which only huge lengths reach.
#[derive(Clone, Debug, Default)]
pub struct LimitSpec {
    /// No limits at all: `Mmap` driven directly with `Unlimited`.
    pub unlimited: bool,
    pub max_maps: Option<u64>,
    pub max_mapped_bytes: Option<u64>,
    pub max_map_bytes: Option<u64>,
    pub max_read_bytes: Option<u64>,
    pub max_memory_bytes: Option<u64>,
    pub max_mappings: Option<u64>,
    pub max_fds: Option<u64>,
    pub max_watches: Option<u64>,
    pub max_windows: Option<u64>,
}

/// How the sequence's world is made: the map in slot 0, and the host.
#[derive(Clone, Debug)]
pub struct Setup {
    pub len: usize,
    pub access: Access,
    pub file: bool,
    /// Not a file: named shared memory (`open-named`, create-or-open, name
    /// index 0), else anonymous memory.
    pub named: bool,
    pub limits: LimitSpec,
    /// Truncation policy `zero` (else `trap`) for windows.
    pub zero: bool,
    /// The guest's shared memory namespace is the default, private one;
    /// else a shared namespace, which is the other context's if `same_ns`.
    pub private_ns: bool,
    pub same_ns: bool,
    /// Named objects another context made before the guest starts, in its
    /// namespace: (name index 1 or 2, size, every byte).
    pub prelude: Vec<(u8, usize, u8)>,
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
    /// A bool (`closed`, `seekable`, `wait-for-change`, ...).
    Bool(bool),
    /// A text (`repr`).
    Text(String),
    /// Any of these.
    OneOf(Vec<Answer>),
    /// The model cannot follow this call's effect (a write cut short by a
    /// vanished page, bytes whose zeroing is the filesystem's choice):
    /// nothing from here on is compared.
    Lost,
    /// The guest traps here (a vanished page under a window, policy trap).
    Trap,
}

impl Answer {
    /// For messages: long byte strings cut short.
    pub fn short(&self) -> String {
        match self {
            Answer::Bytes(b) if b.len() > 32 => {
                format!("Bytes({}.. {} bytes)", hex(&b[..32]), b.len())
            }
            Answer::Bytes(b) => format!("Bytes({})", hex(b)),
            a => format!("{a:?}"),
        }
    }
}

/// For messages: the calls in the runner's language, long ones cut short.
pub fn ops_text(ops: &[Op]) -> String {
    ops.iter()
        .enumerate()
        .map(|(i, op)| {
            let t = op_text(op);
            let t = if t.len() > 100 {
                format!("{}...", &t[..100])
            } else {
                t
            };
            format!("\n  {i}: {t}")
        })
        .collect()
}

pub(crate) fn v(m: &str) -> Answer {
    Answer::Err("ValueError", m.into())
}

pub(crate) fn os(errno: i32) -> Answer {
    Answer::Err("OSError", errno.to_string())
}

const CLOSED: &str = "mmap closed or invalid";
const READONLY: &str = "mmap can't modify a readonly memory map.";
const NO_RESIZE: &str = "mmap can't resize a readonly or copy-on-write memory map.";

const ACCESSES: [Access; 4] = [Access::Default, Access::Read, Access::Write, Access::Copy];
const MODES: [CreateMode; 3] = [
    CreateMode::CreateOrOpen,
    CreateMode::CreateNew,
    CreateMode::OpenExisting,
];

/// Small limits, or (half the time) the default: per limit, three values
/// near what one map of these sizes needs.
fn decode_limits(byte: &mut dyn FnMut() -> u8) -> LimitSpec {
    let mut pick = |small: [u64; 3]| {
        let b = byte() % 8;
        match b {
            0..=3 => None,
            4 => Some(0),
            _ => Some(small[usize::from(b - 5)]),
        }
    };
    LimitSpec {
        unlimited: false,
        max_maps: pick([1, 2, 3]),
        max_mapped_bytes: pick([4096, 16384, 65536]),
        max_map_bytes: pick([4096, 9000, 65536]),
        max_read_bytes: pick([1, 64, 4096]),
        max_memory_bytes: pick([4096, 16384, 65536]),
        max_mappings: pick([1, 4, 8]),
        max_fds: pick([1, 2, 3]),
        max_watches: pick([1, 2, 3]),
        max_windows: pick([1, 2, 3]),
    }
}

/// Bytes → setup and calls. Every input decodes to something valid.
pub fn decode(bytes: &[u8]) -> (Setup, Vec<Op>) {
    let mut it = bytes.iter().copied();
    let mut byte = move || it.next().unwrap_or(0);
    let len = 1 + (usize::from(byte()) | usize::from(byte()) << 8) % 9000;
    let access =
        [Access::Default, Access::Write, Access::Read, Access::Copy][usize::from(byte() % 4)];
    let kind = byte() % 4;
    let (file, named) = (kind < 2, kind == 3);
    let flags = byte();
    let limits = if flags % 4 == 3 {
        decode_limits(&mut byte)
    } else {
        LimitSpec::default()
    };
    let mut prelude: Vec<(u8, usize, u8)> = Vec::new();
    for _ in 0..(flags >> 5) % 3 {
        let name = 1 + byte() % 2;
        let size = [1, 100, 4096, 5000, 8192][usize::from(byte() % 5)];
        let fill = byte();
        if prelude.iter().all(|p| p.0 != name) {
            prelude.push((name, size, fill));
        }
    }
    let setup = Setup {
        len,
        access,
        file,
        named,
        limits,
        zero: flags & 4 == 0,
        private_ns: flags & 8 != 0,
        same_ns: flags & 16 == 0,
        prelude,
    };
    // What the decoder guesses of each slot (lengths, anonymous) and
    // window (length), to favour edges; the model knows better.
    let mut lens = [len as i64, 4096, 4096, 4096];
    let mut anon = [!file && !named, false, false, false];
    let mut wins = [4096u64; SLOTS];
    // Slots a map was (probably) put in, and the last window placed.
    let mut filled = [true, false, false, false];
    let mut last_win = 0u8;
    let mut cur = 0;
    let mut ops = Vec::new();
    let n_ops = usize::from(byte()) % 200 + 1;
    for _ in 0..n_ops {
        let l = lens[cur];
        let num = move |byte: &mut dyn FnMut() -> u8| -> i64 {
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
        let opt = move |byte: &mut dyn FnMut() -> u8| {
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
        let off = move |byte: &mut dyn FnMut() -> u8| -> u64 {
            let l = l as u64;
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
        // A slot: mostly another than the current one.
        let slot = move |byte: &mut dyn FnMut() -> u8| -> u8 { byte() % SLOTS as u8 };
        // A name index: valid mostly, each invalid kind now and then.
        let name = |byte: &mut dyn FnMut() -> u8| -> u8 {
            match byte() % 24 {
                b @ 0..=8 => b,
                b => b % 3,
            }
        };
        // A length for a constructor: edges and sizes the model follows.
        let ctor_len = move |byte: &mut dyn FnMut() -> u8| -> i64 {
            match byte() % 16 {
                0 => 0,
                1 => -1,
                2 => i64::MAX,
                3 => 4096,
                4 => l,
                5 => l + 1,
                6 => 1,
                7 => 8192,
                _ => 1 + i64::from(byte()) * 97 % 20000,
            }
        };
        let ctor_offset = |byte: &mut dyn FnMut() -> u8| -> i64 {
            match byte() % 16 {
                13 => 4096,
                14 => 1,
                15 => -1,
                _ => 0,
            }
        };
        // Create-or-open mostly: the mode that succeeds whether or not the
        // name exists.
        let mode = |byte: &mut dyn FnMut() -> u8| match byte() % 6 {
            3 => CreateMode::CreateNew,
            4 => CreateMode::OpenExisting,
            _ => CreateMode::CreateOrOpen,
        };
        let page_ceil = |x: i64| (x.max(0) as u64).div_ceil(PAGE as u64) * PAGE as u64;
        let op = match byte() % 40 {
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
                    3 if anon[cur] => i64::MAX,
                    _ => 1 + i64::from(byte()) * 97 % 24736,
                };
                if n > 0 && n != i64::MAX {
                    lens[cur] = n;
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
            17 | 38 => {
                // Mostly a slot that holds a map.
                let b = usize::from(byte());
                let full: Vec<usize> = (0..SLOTS).filter(|&k| filled[k]).collect();
                cur = if b % 4 == 0 || full.is_empty() {
                    b / 4 % SLOTS
                } else {
                    full[b / 4 % full.len()]
                };
                Op::Use(cur as u8)
            }
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
            24 => {
                let o = off(&mut byte);
                let b = byte();
                let ns = [0, 0, 1_000, 50_000][usize::from(b / 3 % 4)];
                Op::Wait32(o, u32::from(b % 3) * 0x6261, ns)
            }
            25 => Op::Notify(off(&mut byte), u32::from(byte())),
            26 => match byte() % 8 {
                0 => Op::Close,
                1 | 2 => Op::Closed,
                3 => Op::Seekable,
                4 | 5 => Op::Repr,
                _ => Op::Tell,
            },
            27 | 28 => {
                let s = slot(&mut byte);
                let (name, len) = (name(&mut byte), ctor_len(&mut byte));
                let mode = mode(&mut byte);
                let access = ACCESSES[usize::from(byte() % 4)];
                let offset = ctor_offset(&mut byte);
                let likely = name < 4 && (1..=CAP as i64).contains(&len) && offset == 0;
                if likely {
                    lens[usize::from(s)] = len;
                    filled[usize::from(s)] = true;
                }
                // A huge resize is only asked of anonymous memory.
                anon[usize::from(s)] = false;
                Op::OpenNamed {
                    slot: s,
                    name,
                    len,
                    mode,
                    access,
                    offset,
                }
            }
            29 => Op::OpenTagged {
                slot: slot(&mut byte),
                name: name(&mut byte),
                len: ctor_len(&mut byte),
                access: ACCESSES[usize::from(byte() % 4)],
                offset: ctor_offset(&mut byte),
            },
            30 => Op::RemoveNamed(name(&mut byte)),
            31 | 39 => Op::WaitForChange([0, 0, 0, 1000][usize::from(byte() % 4)]),
            32 => match byte() % 4 {
                0 => Op::PageSize,
                1 => Op::Granularity,
                _ => {
                    let k = slot(&mut byte);
                    filled[usize::from(k)] = false;
                    Op::Drop(k)
                }
            },
            33 | 34 => {
                let win = byte() % SLOTS as u8;
                let s = if byte().is_multiple_of(4) {
                    slot(&mut byte)
                } else {
                    cur as u8
                };
                let l = lens[usize::from(s)];
                let mem = match byte() % 10 {
                    0..=4 => Mem::Aligned(PAGE as u64 * u64::from(1 + byte() % 3)),
                    5 => Mem::Aligned(page_ceil(l)),
                    6 => Mem::Aligned([0, 100][usize::from(byte() % 2)]),
                    7 => Mem::Misaligned(PAGE as u64),
                    _ => Mem::Over(byte() % SLOTS as u8),
                };
                let offset = match byte() % 8 {
                    0..=2 => 0,
                    3 => PAGE as u64,
                    4 => page_ceil(l).saturating_sub(PAGE as u64),
                    5 => 1,
                    6 => page_ceil(l),
                    _ => u64::MAX - (PAGE as u64 - 1),
                };
                if let Mem::Aligned(n) = mem
                    && n > 0
                {
                    wins[usize::from(win)] = n;
                }
                last_win = win;
                Op::Place {
                    win,
                    slot: s,
                    mem,
                    offset,
                }
            }
            b => {
                // Mostly the window placed last.
                let w = match byte() % 8 {
                    k @ 0..=1 => k * 2 + byte() % 2,
                    _ => last_win,
                };
                let wl = wins[usize::from(w)];
                // Edges of pages and of the window, and the bytes past the
                // map's end in its last page.
                let at = |byte: &mut dyn FnMut() -> u8| -> u64 {
                    match byte() % 8 {
                        0 => 0,
                        1 => 1,
                        2 => 4095,
                        3 => 4096,
                        4 => wl.saturating_sub(1),
                        5 => wl,
                        6 => u64::from(byte()) * 37 % wl,
                        _ => (l.max(0) as u64 % PAGE as u64 + u64::from(byte() % 16)) % wl,
                    }
                };
                let wop = match b {
                    35 => WinOp::Read(at(&mut byte), u64::from(byte() % 24)),
                    36 => WinOp::Write(at(&mut byte), data(&mut byte)),
                    _ => match byte() % 7 {
                        0 => WinOp::Address,
                        1 => WinOp::Len,
                        2 => WinOp::Offset,
                        3 => WinOp::Replaced,
                        4 => WinOp::Drop,
                        _ => {
                            let start = [0, PAGE as u64, 1, wl][usize::from(byte() % 4)];
                            let size = [0, 1, PAGE as u64, wl, u64::MAX][usize::from(byte() % 5)];
                            WinOp::Flush(start, size)
                        }
                    },
                };
                Op::Win(w, wop)
            }
        };
        ops.push(op);
    }
    (setup, ops)
}

/// The map's bytes before the first call. Anonymous read-only memory stays
/// zero: nothing can write it; the others get a pattern (anonymous and
/// named maps by a first whole-map slice assignment).
pub fn initial(setup: &Setup) -> Vec<u8> {
    if !setup.file && setup.access == Access::Read {
        vec![0; setup.len]
    } else {
        (0..setup.len).map(|i| b"abc\nx\0"[i % 6]).collect()
    }
}

/// The model's answer to the setup's open (None: it opens).
pub fn expected_open(setup: &Setup) -> Option<Answer> {
    World::new(setup).open_error
}

/// The model's answer to each call, with the cursor of the current map
/// after it (None once closed, or where nothing is compared), from
/// [`initial`]. Shorter than `ops` where the guest traps (the last answer
/// is [`Answer::Trap`]); empty where the setup's open fails.
pub fn expected(setup: &Setup, ops: &[Op]) -> Vec<(Answer, Option<usize>)> {
    let mut world = World::new(setup);
    if world.open_error.is_some() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for op in ops {
        let a = world.apply(op);
        let pos = if world.lost { None } else { world.pos() };
        let trap = a == Answer::Trap;
        out.push((a, pos));
        if trap {
            break;
        }
    }
    out
}

/// The objects another context makes before the guest starts, for a
/// sequence named `seq`: (guest name, content). Made in the guest's
/// namespace if `setup.same_ns && !setup.private_ns`, else in another one.
pub fn prelude(seq: &str, setup: &Setup) -> Vec<(String, Vec<u8>)> {
    setup
        .prelude
        .iter()
        .map(|&(name, size, fill)| (guest_name(seq, name), vec![fill; size]))
        .collect()
}

const DIGITS: &[u8; 16] = b"0123456789abcdef";

fn hex(b: &[u8]) -> String {
    if b.is_empty() {
        "-".into()
    } else {
        let mut s = String::with_capacity(2 * b.len());
        for x in b {
            s.push(char::from(DIGITS[usize::from(x >> 4)]));
            s.push(char::from(DIGITS[usize::from(x & 15)]));
        }
        s
    }
}

/// Whether `text` is [`hex`]`(b)`, compared in place (the fuzz target
/// checks long answers by the million).
fn is_hex_of(text: &str, b: &[u8]) -> bool {
    if b.is_empty() {
        return text == "-";
    }
    let t = text.as_bytes();
    t.len() == 2 * b.len()
        && b.iter().zip(t.chunks_exact(2)).all(|(x, d)| {
            d[0] == DIGITS[usize::from(x >> 4)] && d[1] == DIGITS[usize::from(x & 15)]
        })
}

fn opt_text(v: Option<i64>) -> String {
    v.map_or("N".into(), |x| x.to_string())
}

fn access_index(a: Access) -> usize {
    ACCESSES.iter().position(|x| *x == a).unwrap_or(0)
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
        Op::Wait32(off, e, ns) => format!("wait32 {off} {e} {ns}"),
        Op::Notify(off, c) => format!("notify {off} {c}"),
        Op::Closed => "closed".into(),
        Op::Seekable => "seekable".into(),
        Op::Repr => "repr".into(),
        Op::WaitForChange(ns) => format!("wait_for_change {ns}"),
        Op::Use(k) => format!("use {k}"),
        Op::Drop(k) => format!("drop {k}"),
        Op::OpenNamed {
            slot,
            name,
            len,
            mode,
            access,
            offset,
        } => format!(
            "open_named {slot} {name} {len} {} {} {offset}",
            MODES.iter().position(|m| m == mode).unwrap_or(0),
            access_index(*access)
        ),
        Op::OpenTagged {
            slot,
            name,
            len,
            access,
            offset,
        } => format!(
            "open_tagged {slot} {name} {len} {} {offset}",
            access_index(*access)
        ),
        Op::RemoveNamed(i) => format!("remove_named {i}"),
        Op::PageSize => "pagesize".into(),
        Op::Granularity => "granularity".into(),
        Op::Place {
            win,
            slot,
            mem,
            offset,
        } => {
            let mem = match mem {
                Mem::Aligned(n) => format!("a{n}"),
                Mem::Misaligned(n) => format!("m{n}"),
                Mem::Over(j) => format!("o{j}"),
            };
            format!("place {win} {slot} {mem} {offset}")
        }
        Op::Win(w, wop) => match wop {
            WinOp::Address => format!("waddress {w}"),
            WinOp::Len => format!("wlen {w}"),
            WinOp::Offset => format!("woffset {w}"),
            WinOp::Flush(s, n) => format!("wflush {w} {s} {n}"),
            WinOp::Replaced => format!("wreplaced {w}"),
            WinOp::Read(off, n) => format!("wread {w} {off} {n}"),
            WinOp::Write(off, d) => format!("wwrite {w} {off} {}", hex(d)),
            WinOp::Drop => format!("wdrop {w}"),
        },
    }
}

/// Whether the guest's answer text (`ok ...` / `err ...`, without the
/// cursor) is what the model answered.
fn answer_agrees(op: Option<&Op>, want: &Answer, answer: &str) -> bool {
    let unit = matches!(op, Some(Op::Seek(..) | Op::Atomic(AtomicKind::Store, ..)));
    match want {
        Answer::Bytes(b) => answer.strip_prefix("ok ").is_some_and(|t| is_hex_of(t, b)),
        Answer::Int(_) if unit => answer == "ok none",
        // A futex wait may return early (spuriously) instead of timing out.
        Answer::Int(2) if matches!(op, Some(Op::Wait32(..))) => {
            answer == "ok 2" || answer == "ok 0"
        }
        // A 64-bit word's value is a u64 (the model holds it in an i64).
        Answer::Int(i) if matches!(op, Some(Op::Atomic(_, _, 8, ..))) => {
            answer == format!("ok {}", *i as u64)
        }
        Answer::Int(i) => answer == format!("ok {i}"),
        Answer::Unit => answer == "ok none",
        Answer::Err("OSError", e) if e == "*" => answer.starts_with("err OSError "),
        Answer::Err(class, msg) => answer == format!("err {class} {msg}"),
        Answer::Bool(b) => answer == if *b { "ok True" } else { "ok False" },
        Answer::Text(t) => answer == format!("ok {t}"),
        Answer::OneOf(all) => all.iter().any(|a| answer_agrees(op, a, answer)),
        Answer::Lost => true,
        Answer::Trap => false,
    }
}

/// Whether the `diff_runner` guest's line for `op` says what the model
/// answered (`pos`: the cursor after it).
pub fn agrees(op: &Op, want: &Answer, pos: Option<usize>, line: &str) -> bool {
    if *want == Answer::Lost {
        return true;
    }
    let Some((answer, cursor)) = line.split_once(" | pos=") else {
        return false;
    };
    cursor == pos.map_or("closed".into(), |p| p.to_string())
        && answer_agrees(Some(op), want, answer)
}

/// One sequence for the `diff_runner` guest, named `name`: the file it
/// maps or gives `open-tagged` (`(file name, bytes)`), and its text.
/// Anonymous and named maps that the model starts from a pattern get it by
/// a first whole-map slice assignment, added to `ops` (the model makes it
/// too). Objects of [`prelude`] are the caller's to make.
pub fn runner_sequence(
    name: &str,
    setup: &Setup,
    ops: &mut Vec<Op>,
) -> (Option<(String, Vec<u8>)>, String) {
    let access = access_index(setup.access);
    let initial = initial(setup);
    let mut text;
    let tagged = ops.iter().any(|op| matches!(op, Op::OpenTagged { .. }));
    let file = (setup.file || tagged).then(|| (format!("{name}.bin"), initial.clone()));
    if setup.file {
        text = format!("seq {name} file 0 {access} 1 3 0\n");
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

/// How a run of the `diff_runner` guest must have ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending {
    /// It returned.
    Exit,
    /// It trapped (at a window's vanished page, policy trap).
    Trap,
    /// Either: the model lost track before the end.
    Either,
}

/// Checks the `diff_runner` guest's output for `cases` (named `s0`, `s1`,
/// ... as given to [`runner_sequence`]) against the model, call by call;
/// the number of calls checked and how the run must have ended, or the
/// first difference.
pub fn check_runner_run(
    cases: &[(Setup, Vec<Op>)],
    stdout: &str,
) -> Result<(usize, Ending), String> {
    let mut lines = stdout.lines();
    let mut calls = 0;
    let mut ending = Ending::Exit;
    for (i, (setup, ops)) in cases.iter().enumerate() {
        let context = || format!("setup {setup:?}\nops:{}", ops_text(ops));
        let head = lines.next();
        if head != Some(format!("seq s{i}").as_str()) {
            return Err(format!("s{i}: {head:?} for the header\n{}", context()));
        }
        let open = lines.next().unwrap_or("(nothing)");
        let opened = match expected_open(setup) {
            None => open == "open ok",
            Some(e) => open
                .strip_prefix("open ")
                .is_some_and(|a| answer_agrees(None, &e, a)),
        };
        if !opened {
            return Err(format!(
                "s{i}: `{open}`, model {:?}\n{}",
                expected_open(setup),
                context()
            ));
        }
        let mut stopped = false;
        for (k, (op, (want, pos))) in ops.iter().zip(expected(setup, ops)).enumerate() {
            match want {
                Answer::Lost => {
                    // Nothing more is compared: skip to this sequence's end
                    // (a trap may have come first).
                    if !lines.any(|l| l == "end") {
                        ending = Ending::Either;
                    }
                    stopped = true;
                    break;
                }
                Answer::Trap => {
                    if let Some(l) = lines.next() {
                        return Err(format!(
                            "s{i} call {k} `{}`: model traps, component `{l}`\n{}",
                            op_text(op),
                            context()
                        ));
                    }
                    if i + 1 != cases.len() {
                        return Err(format!("s{i}: a trap before the last sequence"));
                    }
                    return Ok((calls, Ending::Trap));
                }
                _ => {}
            }
            let line = lines.next().unwrap_or("(nothing)");
            if !agrees(op, &want, pos, line) {
                return Err(format!(
                    "s{i} call {k} `{}`: model {} pos {pos:?}, component `{line}`\n{}",
                    op_text(op),
                    want.short(),
                    context()
                ));
            }
            calls += 1;
        }
        if !stopped && lines.next() != Some("end") {
            return Err(format!("s{i}: no end"));
        }
    }
    Ok((calls, ending))
}

/// [`check_runner_run`] for a run that returned (the CLI's, whose
/// truncation policy is `zero`): a trap the model expects is a difference.
pub fn check_runner_output(cases: &[(Setup, Vec<Op>)], stdout: &str) -> Result<usize, String> {
    match check_runner_run(cases, stdout)? {
        (_, Ending::Trap) => Err("the model expects a trap".into()),
        (calls, _) => Ok(calls),
    }
}
