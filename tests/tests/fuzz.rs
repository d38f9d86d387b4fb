//! The two fuzz targets in CI. `libfuzzer_targets` builds them with
//! libFuzzer (stable rustc, cargo-fuzz's coverage flags) and runs both,
//! coverage-guided, from the committed seeds for 45 s each. The other two
//! tests run each target's body without libFuzzer: they replay its seed
//! corpus (`host/fuzz/seeds/<target>/`) on the temporary directory's
//! filesystem and again on the other of disk and tmpfs, then run mutated
//! seeds (bit flips, inserts, deletes, splices; a fixed-seed xorshift) for
//! 15 s. `WASM_MMAP_FUZZ_SECONDS=N` sets every time box. A finding panics,
//! naming a file that holds the input. `WASM_MMAP_FUZZ_REPLAY=FILE cargo
//! test --release --test fuzz fuzz_component` replays one input;
//! `WASM_MMAP_FUZZ_SEED=N` mutates along another stream.

#[path = "../../host/fuzz/harness/component.rs"]
mod harness;

use harness::model;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wasm_mmap_tests::*;

/// The time box per target: `WASM_MMAP_FUZZ_SECONDS`, else `default`
/// (45 s under libFuzzer; 15 s for the blind mutations, which run while
/// the libFuzzer build needs the cores).
fn seconds(default: u64) -> u64 {
    std::env::var("WASM_MMAP_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
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
    let mut calls = 0;
    for dir in std::iter::once(tmp.clone()).chain(other_fs()) {
        let start = Instant::now();
        for (name, data) in &seeds {
            match guarded(&|d: &[u8]| run_in(d, &dir), data) {
                Ok(n) => calls += n,
                Err(e) => finding(
                    target,
                    data,
                    &e,
                    &format!("seed {name} in {}", dir.display()),
                ),
            }
        }
        println!(
            "{target}: {} seeds replayed in {:.1} s in {}",
            seeds.len(),
            start.elapsed().as_secs_f64(),
            dir.display()
        );
    }
    let seed = std::env::var("WASM_MMAP_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_f00d_d15c_0b01_u64);
    let mut rng = Rng(seed);
    let secs = seconds(15);
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

/// libFuzzer's coverage instrumentation, as `cargo fuzz build -s none`
/// sets it, in flags stable rustc takes (no nightly, no cargo-fuzz), less
/// its one codegen unit: a faster build, a little less inlining.
const LIBFUZZER_RUSTFLAGS: &str = "-Cpasses=sancov-module \
     -Cllvm-args=-sanitizer-coverage-level=4 \
     -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
     -Cllvm-args=-sanitizer-coverage-pc-table \
     -Cllvm-args=-sanitizer-coverage-trace-compares \
     -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
     -Cllvm-args=-sanitizer-coverage-stack-depth \
     --cfg fuzzing";

/// The triple rustc builds for by default (`--target` keeps the flags off
/// build scripts and proc macros, as cargo-fuzz does).
fn host_triple() -> String {
    let out = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("rustc -vV");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("rustc -vV names the host")
        .to_string()
}

/// Builds `host/fuzz`'s two targets with libFuzzer linked in, in their own
/// target directory (no wait on the outer build's lock) at opt-level 1
/// without debug info; the directory holding the binaries.
fn build_libfuzzer_targets(triple: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let target_dir = cli().parent().unwrap().parent().unwrap().join("libfuzzer");
    let mut cargo = std::process::Command::new(env!("CARGO"));
    cargo
        .current_dir(root.join("host/fuzz"))
        .args([
            "build",
            "--release",
            "--bins",
            "--locked",
            "--target",
            triple,
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    without_cargo_env(&mut cargo);
    let flags: Vec<&str> = LIBFUZZER_RUSTFLAGS.split_whitespace().collect();
    cargo
        .env("RUSTFLAGS", flags.join(" "))
        .env("CARGO_PROFILE_RELEASE_OPT_LEVEL", "1")
        .env("CARGO_PROFILE_RELEASE_DEBUG", "false");
    let start = Instant::now();
    assert!(
        cargo.status().unwrap().success(),
        "the libFuzzer build of host/fuzz failed"
    );
    println!(
        "libfuzzer: both targets built in {:.0} s",
        start.elapsed().as_secs_f64()
    );
    target_dir.join(triple).join("release")
}

/// One target under libFuzzer for `secs` seconds (0: the seeds once), from
/// a fresh corpus directory and the seeds: executions and coverage, or the
/// run's end (a crash, a divergence, a timeout) with its input.
fn libfuzzer_run(bin: &Path, target: &str, secs: u64) -> Result<String, String> {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let corpus = tmp.join(format!("libfuzzer-corpus-{target}"));
    let _ = std::fs::remove_dir_all(&corpus);
    std::fs::create_dir_all(&corpus).unwrap();
    let artifacts = tmp.join(format!("libfuzzer-{target}-"));
    let budget = if secs == 0 {
        "-runs=0".to_string()
    } else {
        format!("-max_total_time={secs}")
    };
    let out = std::process::Command::new(bin.join(target))
        .env("WASM_MMAP_DIFF_RUNNER", DIFF_RUNNER)
        .args([
            budget.as_str(),
            "-max_len=4096",
            "-timeout=60",
            "-rss_limit_mb=4096",
            "-print_final_stats=1",
        ])
        .arg(format!("-artifact_prefix={}", artifacts.display()))
        .arg(&corpus)
        .arg(seed_dir(target))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let stat = |name: &str| {
        err.lines()
            .find_map(|l| l.strip_prefix(&format!("stat::{name}:")))
            .map_or("?".into(), |v| v.trim().to_string())
    };
    if out.status.success() {
        let cov = err
            .lines()
            .rev()
            .find_map(|l| l.split(" cov: ").nth(1))
            .and_then(|c| c.split_whitespace().next())
            .unwrap_or("?");
        Ok(format!(
            "{target}: {} executions in {} s under libFuzzer ({}/s), coverage {cov}, {} new inputs",
            stat("number_of_executed_units"),
            secs,
            stat("average_exec_per_sec"),
            stat("new_units_added"),
        ))
    } else {
        let tail: Vec<&str> = err.lines().rev().take(80).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        Err(format!(
            "{target}: libFuzzer ended with {} (input saved under {}*; replay with \
             `WASM_MMAP_FUZZ_REPLAY=FILE cargo test --release --test fuzz fuzz_{target}`):\n{}",
            out.status,
            artifacts.display(),
            tail.join("\n")
        ))
    }
}

/// Both fuzz targets under libFuzzer, coverage-guided, side by side from
/// the committed seeds for the time box (`WASM_MMAP_FUZZ_SECONDS`, 45 s):
/// built here with stable rustc, so CI needs no nightly and no cargo-fuzz.
/// A crash or a divergence fails with the saved input.
#[test]
fn libfuzzer_targets() {
    if quick("libfuzzer_targets") {
        return;
    }
    if !std::process::Command::new("c++")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
    {
        toolchain_missing(
            "libfuzzer_targets",
            "a C++ compiler (c++) for libFuzzer is missing",
        );
        return;
    }
    if !cfg!(target_os = "linux") {
        eprintln!("libfuzzer_targets: skipped: the fuzz targets are built on Linux only");
        return;
    }
    let bin = build_libfuzzer_targets(&host_triple());
    let secs = seconds(45);
    let runs: Vec<_> = ["ops", "component"]
        .into_iter()
        .map(|t| {
            let bin = bin.clone();
            std::thread::spawn(move || libfuzzer_run(&bin, t, secs))
        })
        .collect();
    let mut failed = vec![];
    for r in runs {
        match r.join().unwrap() {
            Ok(line) => println!("{line}"),
            Err(e) => failed.push(e),
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n\n"));
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
