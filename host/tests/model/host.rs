//! The model against the host's [`Mmap`] directly, call by call: what the
//! proptest and the `ops` fuzz target run. There is no context here, so no
//! limits (`Unlimited`; the setup's are ignored), names become OS names as
//! the host's rule makes them (a namespace per run), and windows, which
//! need a guest's memory, are left out (the `component` target makes them).

use super::world::{World, closed_answer, guest_name};
use super::{Answer, AtomicKind, LimitSpec, Op, Setup, decode, initial, os};
use std::fs::{File, OpenOptions};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use wasm_mmap::{
    Access, CreateMode, FileRef, MapFlags, MapOptions, Mmap, MmapError, Prot, Unlimited, WaitResult,
};

/// Exactly the `ops` fuzz target: `data` decoded and checked, with files
/// in the temporary directory.
pub fn check_bytes(data: &[u8]) -> Result<usize, String> {
    check_bytes_in(data, &std::env::temp_dir())
}

/// [`check_bytes`] with the files in `dir`.
pub fn check_bytes_in(data: &[u8], dir: &Path) -> Result<usize, String> {
    let (setup, ops) = decode(data);
    check(&setup, &ops, dir)
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

fn options(access: Access, offset: i64) -> MapOptions {
    MapOptions {
        flags: MapFlags::SHARED,
        prot: Prot::READ | Prot::WRITE,
        access,
        offset,
    }
}

/// The host's side of a run: the maps in their slots, and the names.
struct Host {
    maps: [Option<Mmap>; super::SLOTS],
    cur: usize,
    /// The OS-name prefix of the guest's namespace.
    prefix: String,
    /// The file `open-tagged` is given.
    tag: Option<Arc<File>>,
}

impl Host {
    fn os_name(&self, name: u8) -> Result<String, Answer> {
        let g = guest_name(SEQ, name);
        wasm_mmap::check_shm_name(&g).map_err(|e| Answer::Err("ValueError", e))?;
        Ok(format!("{}{g}", self.prefix))
    }

    fn apply(&mut self, op: &Op) -> Answer {
        match op {
            Op::Use(k) => {
                self.cur = usize::from(*k);
                Answer::Unit
            }
            Op::Drop(k) => {
                self.maps[usize::from(*k)] = None;
                Answer::Unit
            }
            Op::OpenNamed {
                slot,
                name,
                len,
                mode,
                access,
                offset,
            } => {
                let os_name = match self.os_name(*name) {
                    Ok(n) => n,
                    Err(e) => return e,
                };
                let opts = options(*access, *offset);
                match Mmap::open_named(&os_name, *len, *mode, opts, &Unlimited) {
                    Ok((m, _)) => {
                        self.maps[usize::from(*slot)] = Some(m);
                        Answer::Unit
                    }
                    Err(e) => answer::<()>(Err(e), |_| Answer::Unit),
                }
            }
            Op::OpenTagged {
                slot,
                name,
                len,
                access,
                offset,
            } => {
                let os_name = match self.os_name(*name) {
                    Ok(n) => n,
                    Err(e) => return e,
                };
                let file = FileRef {
                    file: self.tag.clone().expect("a file for open-tagged"),
                    readable: true,
                    writable: true,
                };
                let opts = options(*access, *offset);
                let m = Mmap::open_file_tagged(file, *len, opts, Some(&os_name), &Unlimited);
                answer(m, |m| {
                    self.maps[usize::from(*slot)] = Some(m);
                    Answer::Unit
                })
            }
            Op::RemoveNamed(name) => {
                let os_name = match self.os_name(*name) {
                    Ok(n) => n,
                    Err(e) => return e,
                };
                // `remove-named` is shm_unlink: on Linux, the /dev/shm file.
                match std::fs::remove_file(format!("/dev/shm/{os_name}")) {
                    Ok(()) => Answer::Unit,
                    Err(e) => os(e.raw_os_error().unwrap_or(0)),
                }
            }
            // No host call here without a guest: the component target asks.
            Op::PageSize | Op::Granularity => Answer::Int(4096),
            _ => match &mut self.maps[self.cur] {
                Some(m) => map_apply(m, op),
                None => closed_answer(op),
            },
        }
    }
}

fn map_apply(m: &mut Mmap, op: &Op) -> Answer {
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
        Op::Wait32(o, e, ns) => answer(m.wait32(*o, *e, *ns), |w| {
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
        Op::WaitForChange(ns) => answer(m.wait_for_change(*ns, &Unlimited), Answer::Bool),
        _ => unreachable!("{op:?}"),
    }
}

/// Whether the host's answer is one the model allows.
fn same(want: &Answer, got: &Answer, op: &Op) -> bool {
    match (want, got) {
        (Answer::Lost, _) => true,
        (Answer::OneOf(all), _) => all.iter().any(|w| same(w, got, op)),
        (Answer::Err("OSError", w), Answer::Err("OSError", _)) if w == "*" => true,
        // A futex wait may return early (spuriously) instead of timing out.
        (Answer::Int(2), Answer::Int(0)) if matches!(op, Op::Wait32(..)) => true,
        _ => want == got,
    }
}

/// The sequence's name: its objects' names derive from it.
const SEQ: &str = "s0";

/// Removes the run's named objects from both namespaces, also when a
/// check panics: nothing is left in /dev/shm.
struct Names(Vec<String>);

impl Drop for Names {
    fn drop(&mut self) {
        for prefix in &self.0 {
            for i in 0..4 {
                let _ = std::fs::remove_file(format!("/dev/shm/{prefix}{}", guest_name(SEQ, i)));
            }
        }
    }
}

/// Runs `ops` on fresh host maps and on the model: the number of calls
/// compared, or the first difference. `dir` holds the file for file maps.
pub fn check(setup: &Setup, ops: &[Op], dir: &Path) -> Result<usize, String> {
    let setup = &Setup {
        limits: LimitSpec {
            unlimited: true,
            ..LimitSpec::default()
        },
        ..setup.clone()
    };
    let ops: Vec<Op> = ops.iter().filter(|op| !op.needs_guest()).cloned().collect();
    let initial = initial(setup);
    let opts = options(setup.access, 0);
    // Names and files unique to this run: test processes and threads run
    // side by side.
    static RUN: AtomicU64 = AtomicU64::new(0);
    let run = format!(
        "{}x{}",
        std::process::id(),
        RUN.fetch_add(1, Ordering::Relaxed)
    );
    let prefix = format!("wasm-mmap.model{run}.");
    let other = if setup.same_ns && !setup.private_ns {
        prefix.clone()
    } else {
        format!("wasm-mmap.model{run}o.")
    };
    let _names = Names(vec![prefix.clone(), other.clone()]);
    for (name, content) in super::prelude(SEQ, setup) {
        let (mut m, _) = Mmap::open_named(
            &format!("{other}{name}"),
            content.len() as i64,
            CreateMode::CreateNew,
            options(Access::Default, 0),
            &Unlimited,
        )
        .map_err(|e| format!("the other context's {name:?}: {e}"))?;
        m.write_at(0, &content).unwrap();
    }
    let make_file = |tag: &str| -> Arc<File> {
        let path = dir.join(format!("model-{run}{tag}"));
        std::fs::write(&path, &initial).unwrap();
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .unwrap();
        // Open is enough: nothing is left behind.
        let _ = std::fs::remove_file(&path);
        Arc::new(f)
    };
    let tagged = ops.iter().any(|op| matches!(op, Op::OpenTagged { .. }));
    let mut host = Host {
        maps: Default::default(),
        cur: 0,
        prefix,
        tag: None,
    };
    let first = if setup.file {
        let f = make_file("");
        host.tag = Some(f.clone());
        let file = FileRef {
            file: f,
            readable: true,
            writable: true,
        };
        Mmap::open_file(file, 0, opts, &Unlimited).unwrap()
    } else {
        if tagged {
            host.tag = Some(make_file("t"));
        }
        let mut m = if setup.named {
            let name = host.os_name(0).unwrap();
            let mode = CreateMode::CreateOrOpen;
            Mmap::open_named(&name, setup.len as i64, mode, opts, &Unlimited)
                .unwrap()
                .0
        } else {
            Mmap::anonymous(setup.len as i64, opts, &Unlimited).unwrap()
        };
        if setup.access != Access::Read {
            m.set_slice(None, None, None, &initial).unwrap();
        }
        m
    };
    host.maps[0] = Some(first);
    let mut model = World::new(setup);
    for (i, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        if want == Answer::Lost {
            return Ok(i);
        }
        let got = host.apply(op);
        let pos = host.maps[host.cur].as_ref().and_then(|m| m.tell().ok());
        if !same(&want, &got, op) || pos.map(|p| p as usize) != model.pos() {
            return Err(format!(
                "call {i} `{}`: model {} pos {:?}, host {} pos {pos:?}\nsetup {setup:?}\nops:{}",
                super::op_text(op),
                want.short(),
                model.pos(),
                got.short(),
                super::ops_text(&ops)
            ));
        }
    }
    // The file holds what the shared maps and windows wrote.
    if let (Some(want), Some(f)) = (model.file(setup), &host.tag) {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; want.len()];
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        f.read_exact_at(&mut buf, 0).unwrap_or_default();
        if size != want.len() as u64 || buf != want {
            return Err(format!(
                "file content differs from the model ({size} bytes, model {})\nsetup {setup:?}\nops:{}",
                want.len(),
                super::ops_text(&ops)
            ));
        }
    }
    Ok(ops.len())
}
