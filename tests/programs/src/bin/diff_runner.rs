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
//! `atomic Load|Store|Cas|Add O 4|8 A B`, `wait32 O E` (0 ns: 0 woken,
//! 1 mismatch, 2 timed out), `notify O C`, `seekable`.

use std::io::{BufRead, BufReader, Write};
use wasm_mmap_guest::bindings::wasm_mmap::mmap::mmap::{
    Access, Advice, CreateMode, ErrorCode, MapFlags, MapOptions, Mmap, Prot, WaitResult, Whence,
};
use wasm_mmap_guest::open_file;

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
        b.iter().map(|x| format!("{x:02x}")).collect()
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
        "wait32" => res(m.wait32(p(a[1]), p(a[2]) as u32, 0), |w| {
            (match w {
                WaitResult::Woken => 0,
                WaitResult::Mismatch => 1,
                WaitResult::TimedOut => 2,
            })
            .to_string()
        }),
        "notify" => res(m.notify(p(a[1]), p(a[2]) as u32), |w| w.to_string()),
        "repr" => format!("ok {}", m.repr()),
        other => panic!("unknown call {other}"),
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
    let mut map: Option<Mmap> = None;
    let mut skip = false;
    for line in BufReader::new(&data[..]).lines() {
        let line = line.unwrap();
        let a: Vec<&str> = line.split(' ').collect();
        match a[0] {
            "seq" => {
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
                let access =
                    [Access::Default, Access::Read, Access::Write, Access::Copy][p(4) as usize];
                let opts = MapOptions {
                    flags,
                    prot,
                    access,
                    offset: p(7),
                };
                let r = match a[2] {
                    "file" => {
                        let f = open_file(&format!("{}.bin", a[1]), true).unwrap();
                        Mmap::open(&f, p(3), opts)
                    }
                    "named" => Mmap::open_named(a[1], p(3), CreateMode::CreateOrOpen, opts),
                    _ => Mmap::anonymous(p(3), opts),
                };
                match r {
                    Ok(m) => {
                        writeln!(out, "open ok").unwrap();
                        map = Some(m);
                        skip = false;
                    }
                    Err(e) => {
                        writeln!(out, "open {}", err(&e)).unwrap();
                        map = None;
                        skip = true;
                    }
                }
            }
            "end" => {
                map = None; // drop = close
                writeln!(out, "end").unwrap();
            }
            _ if skip => {}
            _ => {
                let m = map.as_ref().unwrap();
                let r = call(m, &a);
                let pos = m.tell().map_or("closed".to_string(), |p| p.to_string());
                writeln!(out, "{r} | pos={pos}").unwrap();
            }
        }
    }
}
