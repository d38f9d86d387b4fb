//! The guest half of the CPython differential test (`tests/differential/
//! diff.py`): reads sequences of mmap calls from the file named by argv[1]
//! and prints each result in the same text format the Python half prints.
//!
//! Input: `seq NAME KIND LENGTH ACCESS FLAGS PROT OFFSET` (KIND `file` maps
//! `NAME.bin` from the preopen, `anon` anonymous memory, `named` the named
//! shared memory NAME, created or opened; ACCESS 0-3 and
//! FLAGS/PROT bits as Python's constants), then one call per line, then
//! `end`. Arguments: decimal, `N` for None, hex for bytes (`-` if empty).
//! Output per call: `ok VALUE` or `err CLASS MESSAGE` (OSError: the errno),
//! then ` | pos=N` (or `| pos=closed`). Beyond Python's methods (for the
//! model-through-the-component test): `read_at O N`, `write_at O HEX`,
//! `atomic Load|Store|Cas|Add O 4|8 A B`, `wait32 O E [NS]` (NS default 0:
//! 0 woken, 1 mismatch, 2 timed out), `notify O C`, `seekable`,
//! `wait_for_change NS`, `pagesize`, `granularity`.
//!
//! And the rest of the WIT, for the model (host/tests/model): the map of
//! `seq` is in slot 0 of four; `use K` sends the calls above to slot K (an
//! empty slot answers as a closed map), `drop K` drops its map;
//! `open_named K I LEN MODE ACCESS OFFSET` (MODE 0-2: create-or-open,
//! create-new, open-existing) and `open_tagged K I LEN ACCESS OFFSET` (of
//! `NAME.bin`) put a new map in slot K; `remove_named I`. Names are by
//! index I: 0 NAME itself, 1 and 2 `NAMEn1`, `NAMEn2`, 3 NAME padded to
//! 200 bytes, 4-8 invalid ones. Windows, four slots: `place W K MEM OFF`
//! places one over the map in slot K, MEM `aN` N fresh bytes at an
//! aligned address, `mN` N bytes one past one, `oJ` window J's memory;
//! `waddress W` (True if it is the memory's), `wlen W`, `woffset W`,
//! `wflush W START SIZE`, `wreplaced W`, `wread W OFF N` and `wwrite W OFF
//! HEX` (plain loads and stores, one byte at a time; a trap ends the run),
//! `wdrop W`.

use std::alloc::{Layout, alloc_zeroed, dealloc};
use std::io::{BufRead, BufReader, Write};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::mmap::{
    self as raw, Access, Advice, CreateMode, ErrorCode, MapFlags, MapOptions, Mmap, Prot,
    WaitResult, Whence,
};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::windows::Window;
use wasm_mmap_guest::{Descriptor, open_file};

fn int(s: &str) -> Option<i64> {
    (s != "N").then(|| s.parse().unwrap())
}

fn hex(s: &str) -> Vec<u8> {
    if s == "-" {
        return vec![];
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn show(b: &[u8]) -> String {
    if b.is_empty() {
        "-".into()
    } else {
        // Table lookup, not a `format!` per byte: the fuzz target reads
        // long answers by the million.
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(2 * b.len());
        for x in b {
            s.push(char::from(DIGITS[usize::from(x >> 4)]));
            s.push(char::from(DIGITS[usize::from(x & 15)]));
        }
        s
    }
}

fn err(e: &ErrorCode) -> String {
    match e {
        ErrorCode::ValueError(m) => format!("err ValueError {m}"),
        ErrorCode::IndexError(m) => format!("err IndexError {m}"),
        ErrorCode::TypeError(m) => format!("err TypeError {m}"),
        ErrorCode::OverflowError(m) => format!("err OverflowError {m}"),
        ErrorCode::OsError(o) => format!("err OSError {}", o.errno),
    }
}

fn res<T>(r: Result<T, ErrorCode>, f: impl FnOnce(T) -> String) -> String {
    match r {
        Ok(v) => format!("ok {}", f(v)),
        Err(e) => err(&e),
    }
}

const ADVICE: [Advice; 14] = [
    Advice::Normal,
    Advice::Random,
    Advice::Sequential,
    Advice::WillNeed,
    Advice::DontNeed,
    Advice::Free,
    Advice::DontFork,
    Advice::DoFork,
    Advice::Mergeable,
    Advice::Unmergeable,
    Advice::Hugepage,
    Advice::NoHugepage,
    Advice::DontDump,
    Advice::DoDump,
];

fn call(m: &Mmap, a: &[&str]) -> String {
    fn none<T>(_: T) -> String {
        "none".to_string()
    }
    let n = |v: u64| v.to_string();
    let p = |s: &str| s.parse::<u64>().unwrap();
    match a[0] {
        "read" => res(m.read(int(a[1])), |b| show(&b)),
        "read_byte" => res(m.read_byte(), |b| b.to_string()),
        "readline" => res(m.readline(), |b| show(&b)),
        "write" => res(m.write(&hex(a[1])), n),
        "write_byte" => res(m.write_byte(a[1].parse().unwrap()), none),
        "seek" => {
            let w = [Whence::Set, Whence::Cur, Whence::End][a[2].parse::<usize>().unwrap()];
            // Python 3.11 returns None from seek (3.13: the position); the
            // cursor printed after every call carries the position.
            res(m.seek(a[1].parse().unwrap(), w), none)
        }
        "tell" => res(m.tell(), n),
        "len" => res(m.len(), n),
        "size" => res(m.size(), n),
        "find" => res(m.find(&hex(a[1]), int(a[2]), int(a[3])), |i| i.to_string()),
        "rfind" => res(m.rfind(&hex(a[1]), int(a[2]), int(a[3])), |i| i.to_string()),
        "flush" => res(m.flush(int(a[1]), int(a[2])), none),
        "madvise" => res(
            m.madvise(ADVICE[a[1].parse::<usize>().unwrap()], int(a[2]), int(a[3])),
            none,
        ),
        "move" => res(
            m.move_(
                a[1].parse().unwrap(),
                a[2].parse().unwrap(),
                a[3].parse().unwrap(),
            ),
            none,
        ),
        "resize" => res(m.resize(a[1].parse().unwrap()), none),
        "get" => res(m.get(a[1].parse().unwrap()), |b| b.to_string()),
        "set" => res(m.set(a[1].parse().unwrap(), a[2].parse().unwrap()), none),
        "getslice" => res(m.get_slice(int(a[1]), int(a[2]), int(a[3])), |b| show(&b)),
        "setslice" => res(
            m.set_slice(int(a[1]), int(a[2]), int(a[3]), &hex(a[4])),
            none,
        ),
        "close" => {
            m.close();
            "ok none".into()
        }
        "closed" => format!("ok {}", if m.closed() { "True" } else { "False" }),
        "seekable" => format!("ok {}", if m.seekable() { "True" } else { "False" }),
        // Beyond Python's method set (the model in host/tests/model asks
        // these; diff.py does not).
        "read_at" => res(m.read_at(p(a[1]), p(a[2])), |b| show(&b)),
        "write_at" => res(m.write_at(p(a[1]), &hex(a[2])), n),
        "atomic" => {
            let (off, x, y) = (p(a[2]), p(a[4]), p(a[5]));
            match (a[1], a[3]) {
                ("Load", "4") => res(m.atomic_load32(off), |v| v.to_string()),
                ("Store", "4") => res(m.atomic_store32(off, x as u32), none),
                ("Cas", "4") => res(m.atomic_cas32(off, x as u32, y as u32), |v| v.to_string()),
                ("Add", "4") => res(m.atomic_add32(off, x as u32), |v| v.to_string()),
                ("Load", _) => res(m.atomic_load64(off), n),
                ("Store", _) => res(m.atomic_store64(off, x), none),
                ("Cas", _) => res(m.atomic_cas64(off, x, y), n),
                (_, _) => res(m.atomic_add64(off, x), n),
            }
        }
        "wait32" => res(m.wait32(p(a[1]), p(a[2]) as u32, a.get(3).map_or(0, |t| p(t))), |w| {
            (match w {
                WaitResult::Woken => 0,
                WaitResult::Mismatch => 1,
                WaitResult::TimedOut => 2,
            })
            .to_string()
        }),
        "notify" => res(m.notify(p(a[1]), p(a[2]) as u32), |w| w.to_string()),
        "repr" => format!("ok {}", m.repr()),
        "wait_for_change" => res(m.wait_for_change(p(a[1])), |b| py_bool(b).into()),
        other => panic!("unknown call {other}"),
    }
}

fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// What a closed map answers `call`: the answer of an empty slot.
fn closed_answer(call: &str) -> String {
    match call {
        "close" => "ok none".into(),
        "closed" | "seekable" => "ok True".into(),
        "repr" => "ok <mmap.mmap closed=True>".into(),
        _ => "err ValueError mmap closed or invalid".into(),
    }
}

/// Name index `i` of sequence `seq` (the model's `guest_name`).
fn name(seq: &str, i: &str) -> String {
    match i.parse::<u8>().unwrap() {
        0 => seq.to_string(),
        i @ (1 | 2) => format!("{seq}n{i}"),
        3 => format!("{seq}{}", "L".repeat(200 - seq.len())),
        4 => String::new(),
        5 => "L".repeat(201),
        6 => "a/b".into(),
        7 => "a\\b".into(),
        _ => "a\0b".into(),
    }
}

const ACCESS: [Access; 4] = [Access::Default, Access::Read, Access::Write, Access::Copy];

fn options(access: &str, offset: &str) -> MapOptions {
    MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access: ACCESS[access.parse::<usize>().unwrap()],
        offset: offset.parse().unwrap(),
    }
}

/// A placed window and the memory under it (freed after the window is
/// dropped, which puts zeros back first).
struct Win {
    w: Option<Window>,
    ptr: *mut u8,
    len: usize,
    alloc: Option<(*mut u8, Layout)>,
}

impl Drop for Win {
    fn drop(&mut self) {
        drop(self.w.take());
        if let Some((p, layout)) = self.alloc {
            // SAFETY: allocated with `layout`; the window is gone.
            unsafe { dealloc(p, layout) };
        }
    }
}

/// Memory for `place`: `aN`, `mN` or `oJ` (see the module docs).
fn memory(spec: &str, wins: &[Option<Win>; 4]) -> Win {
    let fresh = |n: usize, skew: usize| {
        if n + skew == 0 {
            return Win {
                w: None,
                ptr: std::ptr::NonNull::<u8>::dangling().as_ptr(),
                len: 0,
                alloc: None,
            };
        }
        let layout = Layout::from_size_align(n + skew, 4096).unwrap();
        // SAFETY: a non-zero size.
        let p = unsafe { alloc_zeroed(layout) };
        assert!(!p.is_null());
        Win {
            w: None,
            // SAFETY: inside the allocation.
            ptr: unsafe { p.add(skew) },
            len: n,
            alloc: Some((p, layout)),
        }
    };
    let n = || spec[1..].parse::<usize>().unwrap();
    match &spec[..1] {
        "a" => fresh(n(), 0),
        "m" => fresh(n(), 1),
        _ => match &wins[n()] {
            Some(w) => Win {
                w: None,
                ptr: w.ptr,
                len: w.len,
                alloc: None,
            },
            None => fresh(4096, 0),
        },
    }
}

/// One sequence's maps, windows and file.
#[derive(Default)]
struct State {
    seq: String,
    maps: [Option<Mmap>; 4],
    cur: usize,
    wins: [Option<Win>; 4],
    /// `NAME.bin`, open for the sequence (a file map's own descriptor).
    file: Option<Descriptor>,
}

impl State {
    fn clear(&mut self) {
        self.wins = Default::default();
        self.maps = Default::default();
        self.file = None;
        self.cur = 0;
    }

    /// The calls beyond one map's methods; None for those.
    fn call(&mut self, a: &[&str]) -> Option<String> {
        let k = |i: usize| a[i].parse::<usize>().unwrap();
        let p = |i: usize| a[i].parse::<u64>().unwrap();
        let none = |r: Result<(), ErrorCode>| res(r, |()| "none".into());
        Some(match a[0] {
            "use" => {
                self.cur = k(1);
                "ok none".into()
            }
            "drop" => {
                self.maps[k(1)] = None;
                "ok none".into()
            }
            "open_named" => {
                let mode = [
                    CreateMode::CreateOrOpen,
                    CreateMode::CreateNew,
                    CreateMode::OpenExisting,
                ][k(4)];
                let r = Mmap::open_named(
                    &name(&self.seq, a[2]),
                    a[3].parse().unwrap(),
                    mode,
                    options(a[5], a[6]),
                );
                none(r.map(|m| self.maps[k(1)] = Some(m)))
            }
            "open_tagged" => {
                if self.file.is_none() {
                    self.file = Some(open_file(&format!("{}.bin", self.seq), true).unwrap());
                }
                let r = Mmap::open_tagged(
                    self.file.as_ref().unwrap(),
                    a[3].parse().unwrap(),
                    &name(&self.seq, a[2]),
                    options(a[4], a[5]),
                );
                none(r.map(|m| self.maps[k(1)] = Some(m)))
            }
            "remove_named" => none(raw::remove_named(&name(&self.seq, a[1]))),
            "pagesize" => format!("ok {}", raw::pagesize()),
            "granularity" => format!("ok {}", raw::allocation_granularity()),
            "place" => {
                let Some(m) = &self.maps[k(2)] else {
                    return Some(closed_answer("place"));
                };
                let mut mem = memory(a[3], &self.wins);
                // SAFETY: the runner's own memory (or a window's), passed
                // only by address: the host places the window there.
                let list = unsafe { std::slice::from_raw_parts(mem.ptr, mem.len) };
                match Window::place(m, list, p(4)) {
                    Ok(w) => {
                        mem.w = Some(w);
                        // The new window is placed: the slot's old one goes.
                        self.wins[k(1)] = Some(mem);
                        "ok none".into()
                    }
                    Err(e) => err(&e),
                }
            }
            "waddress" | "wlen" | "woffset" | "wflush" | "wreplaced" | "wread" | "wwrite"
            | "wdrop" => {
                let w = k(1);
                if a[0] == "wdrop" {
                    self.wins[w] = None;
                    return Some("ok none".into());
                }
                let Some(win) = &self.wins[w] else {
                    return Some("err ValueError no window in that slot".into());
                };
                let raw = win.w.as_ref().unwrap();
                match a[0] {
                    "waddress" => {
                        format!("ok {}", py_bool(raw.address() as usize == win.ptr as usize))
                    }
                    "wlen" => format!("ok {}", raw.len()),
                    "woffset" => format!("ok {}", raw.offset()),
                    "wflush" => none(raw.flush(p(2), p(3))),
                    "wreplaced" => format!("ok {}", py_bool(raw.replaced())),
                    "wread" => {
                        let (off, n) = (p(2), p(3));
                        if off.checked_add(n).is_none_or(|e| e > win.len as u64) {
                            return Some("err ValueError window index out of range".into());
                        }
                        let bytes: Vec<u8> = (off..off + n)
                            // SAFETY: inside the window (checked); a plain
                            // load of memory the host may replace.
                            .map(|i| unsafe { win.ptr.add(i as usize).read_volatile() })
                            .collect();
                        format!("ok {}", show(&bytes))
                    }
                    _ => {
                        let (off, data) = (p(2), hex(a[3]));
                        if off
                            .checked_add(data.len() as u64)
                            .is_none_or(|e| e > win.len as u64)
                        {
                            return Some("err ValueError window index out of range".into());
                        }
                        for (i, b) in data.into_iter().enumerate() {
                            // SAFETY: inside the window (checked).
                            unsafe { win.ptr.add(off as usize + i).write_volatile(b) };
                        }
                        "ok none".into()
                    }
                }
            }
            _ => return None,
        })
    }
}

fn main() {
    let input = std::env::args()
        .nth(1)
        .expect("usage: diff_runner SEQUENCES");
    let file = open_file(&input, false).unwrap();
    let mut data = Vec::new();
    loop {
        let (chunk, eof) = file.read(1 << 20, data.len() as u64).unwrap();
        data.extend_from_slice(&chunk);
        if eof || chunk.is_empty() {
            break;
        }
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut st = State::default();
    let mut skip = false;
    for line in BufReader::new(&data[..]).lines() {
        let line = line.unwrap();
        let a: Vec<&str> = line.split(' ').collect();
        match a[0] {
            "seq" => {
                st.clear();
                st.seq = a[1].to_string();
                writeln!(out, "seq {}", a[1]).unwrap();
                let p = |i: usize| a[i].parse::<i64>().unwrap();
                let mut flags = MapFlags::empty();
                if p(5) & 1 != 0 {
                    flags |= MapFlags::SHARED;
                }
                if p(5) & 2 != 0 {
                    flags |= MapFlags::PRIVATE;
                }
                let mut prot = Prot::empty();
                if p(6) & 1 != 0 {
                    prot |= Prot::READ;
                }
                if p(6) & 2 != 0 {
                    prot |= Prot::WRITE;
                }
                let access = ACCESS[p(4) as usize];
                let opts = MapOptions {
                    flags,
                    prot,
                    access,
                    offset: p(7),
                };
                let r = match a[2] {
                    "file" => {
                        let f = open_file(&format!("{}.bin", a[1]), true).unwrap();
                        let r = Mmap::open(&f, p(3), opts);
                        st.file = Some(f);
                        r
                    }
                    "named" => Mmap::open_named(a[1], p(3), CreateMode::CreateOrOpen, opts),
                    _ => Mmap::anonymous(p(3), opts),
                };
                match r {
                    Ok(m) => {
                        writeln!(out, "open ok").unwrap();
                        st.maps[0] = Some(m);
                        skip = false;
                    }
                    Err(e) => {
                        writeln!(out, "open {}", err(&e)).unwrap();
                        skip = true;
                    }
                }
            }
            "end" => {
                st.clear(); // drop = close
                writeln!(out, "end").unwrap();
            }
            _ if skip => {}
            _ => {
                // A window's load or store may trap: what came before is out.
                if matches!(a[0], "wread" | "wwrite") {
                    out.flush().unwrap();
                }
                let r = match st.call(&a) {
                    Some(r) => r,
                    None => match &st.maps[st.cur] {
                        Some(m) => call(m, &a),
                        None => closed_answer(a[0]),
                    },
                };
                let pos = st.maps[st.cur]
                    .as_ref()
                    .and_then(|m| m.tell().ok())
                    .map_or("closed".to_string(), |p| p.to_string());
                writeln!(out, "{r} | pos={pos}").unwrap();
            }
        }
    }
}
