//! The two fuzz targets in CI, without libFuzzer: each replays its
//! committed seed corpus (`host/fuzz/seeds/<target>/`) through exactly the
//! target's body, on the temporary directory's filesystem and again on the
//! other of disk and tmpfs, then runs mutated seeds (bit flips, inserts, deletes,
//! splices; a fixed-seed xorshift) for a time box, 45 s per target unless
//! `WASM_MMAP_FUZZ_SECONDS=N`. A finding panics, naming a file that holds
//! the input (and its hex). `cargo +nightly fuzz` (host/fuzz) goes further,
//! guided by coverage; its minimized corpus is what belongs in the seeds.
//! `WASM_MMAP_FUZZ_REPLAY=FILE cargo test --release --test fuzz
//! fuzz_component` replays one input; `WASM_MMAP_FUZZ_SEED=N` mutates
//! along another stream.

#[path = "../../host/fuzz/harness/component.rs"]
mod harness;

use harness::model;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasm_mmap_tests::*;

/// The time box per target.
fn seconds() -> u64 {
    std::env::var("WASM_MMAP_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(45)
}

fn seed_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../host/fuzz/seeds")
        .join(target)
}

/// The seed corpus, by file name. Missing or empty fails under `CI=true`
/// (it is committed), else the mutations start from nothing.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = seed_dir(target);
    let mut seeds: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| {
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, std::fs::read(e.path()).unwrap())
                })
                .collect()
        })
        .unwrap_or_default();
    seeds.sort();
    if seeds.is_empty() {
        let why = format!("no seed corpus in {}", dir.display());
        assert!(
            !std::env::var("CI").is_ok_and(|v| v == "true"),
            "{target}: {why} (CI=true: it is committed)"
        );
        eprintln!("{target}: {why}: mutating from nothing");
    }
    seeds
}

/// xorshift64: the same inputs on every run with the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// A mutant of the seeds: one to four bit flips, interesting bytes,
/// inserts, deletes or a splice of two seeds.
fn mutate(seeds: &[(String, Vec<u8>)], rng: &mut Rng) -> Vec<u8> {
    let pick = |rng: &mut Rng| -> Vec<u8> {
        if seeds.is_empty() {
            (0..rng.below(600)).map(|_| rng.next() as u8).collect()
        } else {
            seeds[rng.below(seeds.len())].1.clone()
        }
    };
    let mut d = pick(rng);
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(d.len() + 1);
        // A byte's index, for inputs that have one.
        let i = at.min(d.len().saturating_sub(1));
        match rng.below(6) {
            0 if !d.is_empty() => d[i] ^= 1 << rng.below(8),
            1 if !d.is_empty() => d[i] = [0, 1, 0x7f, 0x80, 0xff][rng.below(5)],
            2 => {
                let n = 1 + rng.below(16);
                let bytes: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                d.splice(at..at, bytes);
            }
            3 if !d.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(d.len());
                d.drain(at.min(end)..end);
            }
            4 => {
                let other = pick(rng);
                let from = rng.below(other.len() + 1);
                d.truncate(at);
                d.extend_from_slice(&other[from..]);
            }
            _ => {
                // A byte copied from elsewhere in the input (a selector).
                if !d.is_empty() {
                    d[i] = d[rng.below(d.len())];
                }
            }
        }
    }
    d.truncate(4096);
    d
}

/// `run`, a panic being a finding too.
fn guarded(run: &impl Fn(&[u8]) -> Result<usize, String>, data: &[u8]) -> Result<usize, String> {
    match catch_unwind(AssertUnwindSafe(|| run(data))) {
        Ok(r) => r,
        Err(p) => Err(p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic".into())),
    }
}

/// Saves a finding's input and fails.
fn finding(target: &str, data: &[u8], why: &str, origin: &str) -> ! {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("fuzz-{target}-finding-{}.bin", std::process::id()));
    std::fs::write(&path, data).unwrap();
    let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
    panic!(
        "{target}: finding ({origin}): {why}\ninput saved at {} ({} bytes; replay with \
         `cargo +nightly fuzz run {target} {}` in host/fuzz)\nhex {hex}",
        path.display(),
        data.len(),
        path.display()
    );
}

/// The filesystem the seeds are replayed on a second time: tmpfs
/// (`/dev/shm`) when the temporary directory is elsewhere, else the build
/// directory's disk. ext4 and tmpfs differ in what a page past a file's end
/// keeps (a finding the libFuzzer runs on tmpfs had missed), so a seed must
/// agree with the model on both.
fn other_fs() -> Option<PathBuf> {
    let tmp = std::env::temp_dir();
    let shm = Path::new("/dev/shm");
    if shm.is_dir() && !tmp.starts_with(shm) {
        Some(shm.to_path_buf())
    } else if tmp.starts_with(shm) {
        Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")))
    } else {
        None
    }
}

/// Replays the seeds (on both filesystems), then mutates them for the time
/// box; or, with `WASM_MMAP_FUZZ_REPLAY=FILE`, replays FILE alone (a
/// finding).
fn fuzz(target: &str, run_in: impl Fn(&[u8], &Path) -> Result<usize, String>) {
    let tmp = std::env::temp_dir();
    let run = |data: &[u8]| run_in(data, &tmp);
    if let Ok(file) = std::env::var("WASM_MMAP_FUZZ_REPLAY") {
        let data = std::fs::read(&file).unwrap();
        match guarded(&run, &data) {
            Ok(n) => println!("{target}: {file}: {n} calls agreed"),
            Err(e) => panic!("{target}: {file}: {e}"),
        }
        return;
    }
    let seeds = seeds(target);
    let start = Instant::now();
    let mut calls = 0;
    for (name, data) in &seeds {
        match guarded(&run, data) {
            Ok(n) => calls += n,
            Err(e) => finding(target, data, &e, &format!("seed {name}")),
        }
    }
    println!(
        "{target}: {} seeds replayed in {:.1} s in {}",
        seeds.len(),
        start.elapsed().as_secs_f64(),
        tmp.display()
    );
    if let Some(other) = other_fs() {
        let start = Instant::now();
        for (name, data) in &seeds {
            match guarded(&|d: &[u8]| run_in(d, &other), data) {
                Ok(n) => calls += n,
                Err(e) => finding(
                    target,
                    data,
                    &e,
                    &format!("seed {name} in {}", other.display()),
                ),
            }
        }
        println!(
            "{target}: the seeds again in {:.1} s in {}",
            start.elapsed().as_secs_f64(),
            other.display()
        );
    }
    let seed = std::env::var("WASM_MMAP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_d15c_0b01_u64);
    let mut rng = Rng(seed);
    let secs = seconds();
    let start = Instant::now();
    let deadline = start + Duration::from_secs(secs);
    let mut execs = 0u64;
    while Instant::now() < deadline {
        let data = mutate(&seeds, &mut rng);
        match guarded(&run, &data) {
            Ok(n) => calls += n,
            Err(e) => finding(
                target,
                &data,
                &e,
                &format!("mutation {execs}, seed {seed:#x}"),
            ),
        }
        execs += 1;
    }
    let t = start.elapsed().as_secs_f64();
    println!(
        "{target}: {execs} mutated inputs in {t:.0} s ({:.0}/s, xorshift seed {seed:#x}), \
         {calls} calls checked in all",
        execs as f64 / t
    );
}

/// The `ops` target: the model against `Mmap` directly.
#[test]
fn fuzz_ops_corpus() {
    fuzz("ops", model::check_bytes_in);
}

/// The `component` target: the model through the WIT, in a guest.
#[test]
fn fuzz_component_corpus() {
    harness::set_default_guest(DIFF_RUNNER);
    fuzz("component", harness::run_one_in);
}

/// What an input makes the model do, by name: the setup's kind, limits,
/// policy and namespace, each call's kind with its answer's class (error
/// class and message, or `ok`, with booleans), traps and lost tracks.
fn behaviours(data: &[u8], windows: bool) -> Vec<String> {
    let (setup, mut ops) = model::decode(data);
    if !windows {
        ops.retain(|op| !op.needs_guest());
    }
    let _ = model::runner_sequence("s0", &setup, &mut ops);
    let kind = if setup.file {
        "file"
    } else if setup.named {
        "named"
    } else {
        "anon"
    };
    let mut out = vec![format!("setup {kind} {:?}", setup.access)];
    if setup.limits.max_maps.is_some() || setup.limits.max_windows.is_some() {
        out.push("setup limits".into());
    }
    if !setup.prelude.is_empty() {
        out.push(format!(
            "setup prelude same={} private={}",
            setup.same_ns, setup.private_ns
        ));
    }
    if let Some(e) = model::expected_open(&setup) {
        out.push(format!("open {e:?}"));
        return out;
    }
    for (op, (answer, _)) in ops.iter().zip(model::expected(&setup, &ops)) {
        let call = model::op_text(op);
        let call = call.split(' ').next().unwrap();
        out.push(match answer {
            model::Answer::Err(class, m) => {
                let m: String = m.chars().take(24).collect();
                format!("{call} {class} {m}")
            }
            model::Answer::Bool(b) => format!("{call} {b}"),
            model::Answer::Lost => "lost".into(),
            model::Answer::Trap => "trap".into(),
            _ => format!("{call} ok"),
        });
    }
    out
}

/// Writes the starting seed corpora (`cargo test --release --test fuzz --
/// --ignored make_seeds`): random inputs kept when they show the model a
/// behaviour no earlier seed did, about 60 per target. `cargo fuzz cmin`
/// makes a better one.
#[test]
#[ignore]
fn make_seeds() {
    for (target, windows) in [("ops", false), ("component", true)] {
        let dir = seed_dir(target);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut seen = std::collections::BTreeSet::new();
        let mut rng = Rng(0x5eed_5eed_0000_0001 + u64::from(windows));
        let mut kept = 0;
        for _ in 0..200_000 {
            let len = 24 + rng.below(700);
            let data: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            let new: Vec<String> = behaviours(&data, windows)
                .into_iter()
                .filter(|b| !seen.contains(b))
                .collect();
            if new.is_empty() {
                continue;
            }
            let slug: String = new
                .first()
                .map_or("start".into(), |b| b.clone())
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .take(40)
                .collect();
            std::fs::write(dir.join(format!("{kept:03}-{slug}")), &data).unwrap();
            seen.extend(new);
            kept += 1;
            if kept == 60 {
                break;
            }
        }
        println!("{target}: {kept} seeds, {} behaviours", seen.len());
        let list: Vec<String> = seen.into_iter().collect();
        let path = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("seeds-{target}.txt"));
        std::fs::write(&path, list.join("\n")).unwrap();
    }
}
