//! The differential test against CPython's own `mmap` (python3 runs
//! `tests/differential/diff.py`): 2,000 seeded sequences, and every
//! divergence ever found, replayed. And the host's model (host/tests/model)
//! checked through the component boundary: the same `diff_runner` guest
//! makes the model's calls through the WIT.

use std::process::Command;
use wasm_mmap_tests::*;

foreach_diff!(assert_test_exists);

fn diff(args: &[&str]) -> String {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/diff.py");
    let cli = cli();
    let out = Command::new("python3")
        .arg(script)
        .args(args)
        .args(["--cli", cli.to_str().unwrap(), "--guest", DIFF_RUNNER])
        .output()
        .expect("python3 runs the differential test");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "divergences from CPython:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn diff_runner() {
    let out = diff(&["--sequences", "2000", "--seed", "1"]);
    let last = out.lines().last().unwrap();
    assert!(
        last.starts_with("2000 sequences, ") && last.ends_with(", 0 divergences"),
        "{out}"
    );
    let calls: u64 = last.split(' ').nth(2).unwrap().parse().unwrap();
    assert!(calls > 50_000, "too few calls to mean anything: {last}");
    println!("{last}");
}

#[test]
fn differential_regressions() {
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/differential/regressions.txt");
    let out = diff(&["--replay", file]);
    assert!(out.trim_end().ends_with(" 0 divergences"), "{out}");
}

#[path = "../../host/tests/model/mod.rs"]
mod model;

/// Removes the named objects of the namespaces a run used, also when it
/// fails: nothing is left in /dev/shm.
struct ShmNamespaces(Vec<String>);

impl Drop for ShmNamespaces {
    fn drop(&mut self) {
        let Ok(dir) = std::fs::read_dir("/dev/shm") else {
            return;
        };
        for e in dir.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if self
                .0
                .iter()
                .any(|ns| name.starts_with(&format!("wasm-mmap.{ns}.")))
            {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The model's random call sequences, made by the `diff_runner` guest
/// through the WIT and the CLI's policy, agree with the model's answers
/// call by call, the cursor included: what the host-side proptest checks
/// on `Mmap` directly, here through bindgen glue, resource tables, lifting
/// and the limits, with windows (truncation policy zero: one CLI run makes
/// every sequence) and the objects another host made in the same or
/// another namespace. `WASM_MMAP_MODEL_SEQUENCES=N` runs more.
#[test]
fn model_through_the_component() {
    let n: u64 = std::env::var("WASM_MMAP_MODEL_SEQUENCES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let d = tempfile::tempdir().unwrap();
    let ns = format!("model{}", std::process::id());
    let other_ns = format!("{ns}o");
    let _shm = ShmNamespaces(vec![ns.clone(), other_ns.clone()]);
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let mut text = String::new();
    let mut cases = Vec::new();
    for i in 0..n {
        let bytes: Vec<u8> = (0..rand() % 1500).map(|_| rand() as u8).collect();
        let (mut setup, mut ops) = model::decode(&bytes);
        // What one CLI run has: its default limits, policy zero.
        setup.limits = model::LimitSpec::default();
        setup.zero = true;
        let name = format!("s{i}");
        let home = if setup.same_ns && !setup.private_ns {
            &ns
        } else {
            &other_ns
        };
        for (guest_name, content) in model::prelude(&name, &setup) {
            let (mut m, _) = wasm_mmap::Mmap::open_named(
                &format!("wasm-mmap.{home}.{guest_name}"),
                content.len() as i64,
                wasm_mmap::CreateMode::CreateNew,
                wasm_mmap::MapOptions {
                    flags: wasm_mmap::MapFlags::SHARED,
                    prot: wasm_mmap::Prot::READ | wasm_mmap::Prot::WRITE,
                    access: wasm_mmap::Access::Default,
                    offset: 0,
                },
                &wasm_mmap::Unlimited,
            )
            .unwrap();
            m.write_at(0, &content).unwrap();
        }
        let (file, seq) = model::runner_sequence(&name, &setup, &mut ops);
        if let Some((name, content)) = file {
            std::fs::write(d.path().join(name), content).unwrap();
        }
        text += &seq;
        cases.push((setup, ops));
    }
    std::fs::write(d.path().join("seqs.txt"), &text).unwrap();
    let dir = format!("{}::.", d.path().to_str().unwrap());
    let out = run(&[
        "run",
        "--dir",
        &dir,
        "--on-truncation",
        "zero",
        "--shm-namespace",
        &ns,
        DIFF_RUNNER,
        "seqs.txt",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let calls = model::check_runner_output(&cases, &String::from_utf8(out.stdout).unwrap())
        .unwrap_or_else(|e| panic!("{e}"));
    println!("{n} sequences, {calls} calls through the component: all as the model says");
}
