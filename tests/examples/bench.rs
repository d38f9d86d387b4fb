//! Benchmarks: every figure beside its baseline measured in the same run.
//!
//! `cargo build --release && cargo run --release --example bench`
//!
//! Baselines: CPython's `mmap` (python3, timed in-process with
//! perf_counter_ns), the same guest reading with wasi:filesystem, native
//! memmap2 + memcpy in this process, a native Unix-socket ping-pong between
//! two threads. Prints a Markdown table (BENCHMARKS.md keeps one).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasm_mmap_tests::{BENCH_OPS, WATCHER, WRITER, cli};

fn guest(dir: &str, args: &[&str]) -> HashMap<String, f64> {
    let out = Command::new(cli())
        .args(["run", "--dir", dir, BENCH_OPS])
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8(out.stdout).unwrap())
}

fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .map(|(k, v)| (k.to_string(), v.trim().parse().unwrap()))
        .collect()
}

fn python(script: &str) -> HashMap<String, f64> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8(out.stdout).unwrap())
}

struct Row {
    name: &'static str,
    ours: f64,
    base: f64,
    unit: &'static str,
    baseline: &'static str,
    /// true: lower is better (times); false: higher is better (rates).
    lower_better: bool,
    target: &'static str,
}

fn main() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let big = d.path().join("big.bin");
    let pattern: Vec<u8> = (0..64u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &pattern).unwrap();
    std::fs::write(d.path().join("small.bin"), vec![1u8; 4096]).unwrap();
    let mut rows = Vec::new();
    let n_byte = 2_000_000;

    // Single-byte operations.
    let g = guest(dir, &["byte", "small.bin", &n_byte.to_string()]);
    let p = python(&format!(
        r#"
import mmap, os, time
f = os.open({path:?}, os.O_RDWR); m = mmap.mmap(f, 0); n = {n}; L = len(m)
t = time.perf_counter_ns()
for _ in range(n):
    try: m.read_byte()
    except ValueError: m.seek(0)
print("read_byte", (time.perf_counter_ns() - t) / n)
t = time.perf_counter_ns()
for i in range(n): m[i % L]
print("get", (time.perf_counter_ns() - t) / n)
t = time.perf_counter_ns()
for i in range(n): m[i % L] = i & 255
print("set", (time.perf_counter_ns() - t) / n)
"#,
        path = d.path().join("small.bin").to_str().unwrap(),
        n = n_byte
    ));
    for (k, name) in [
        ("read_byte", "read_byte()"),
        ("get", "m[i]"),
        ("set", "m[i] = v"),
    ] {
        rows.push(Row {
            name,
            ours: g[k],
            base: p[k],
            unit: "ns/op",
            baseline: "CPython mmap",
            lower_better: true,
            target: "≤ 2× CPython",
        });
    }

    // Random 4 KiB reads.
    let n4k = 200_000;
    let g = guest(dir, &["rand4k", "big.bin", &n4k.to_string()]);
    let p = python(&format!(
        r#"
import mmap, os, time, random
f = os.open({path:?}, os.O_RDWR); m = mmap.mmap(f, 0); n = {n}
random.seed(1); offs = [random.randrange(len(m) // 4096) * 4096 for _ in range(n)]
t = time.perf_counter_ns()
for o in offs:
    m.seek(o); m.read(4096)
print("rand4k", (time.perf_counter_ns() - t) / n)
"#,
        path = big.to_str().unwrap(),
        n = n4k
    ));
    rows.push(Row {
        name: "random 4 KiB read (seek+read)",
        ours: g["map_seek_read_4k"],
        base: p["rand4k"],
        unit: "ns/read",
        baseline: "CPython seek+read",
        lower_better: true,
        target: "≤ 1× CPython",
    });
    rows.push(Row {
        name: "random 4 KiB read (seek+read)",
        ours: g["map_seek_read_4k"],
        base: g["wasi_read_4k"],
        unit: "ns/read",
        baseline: "same guest, wasi:filesystem read",
        lower_better: true,
        target: "≥ 2× faster",
    });

    rows.push(Row {
        name: "random 4 KiB read (read-at)",
        ours: g["map_read_at_4k"],
        base: p["rand4k"],
        unit: "ns/read",
        baseline: "CPython seek+read",
        lower_better: true,
        target: "≤ 1× CPython",
    });

    // 1 MiB sequential reads and writes vs native memmap2 + memcpy.
    let g = guest(dir, &["seq", "big.bin", "4"]);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(&big)
        .unwrap();
    let map = unsafe { memmap2::MmapMut::map_mut(&file).unwrap() };
    let mib = 1 << 20;
    let mut buf = vec![0u8; mib];
    let t = Instant::now();
    for k in 0..4 * 64 {
        buf.copy_from_slice(&map[(k % 64) * mib..(k % 64 + 1) * mib]);
        std::hint::black_box(&buf);
    }
    let native_read = (4 * 64 * mib) as f64 / t.elapsed().as_secs_f64() / 1e6;
    let mut map = map;
    let t = Instant::now();
    for k in 0..4 * 64 {
        map[(k % 64) * mib..(k % 64 + 1) * mib].copy_from_slice(&buf);
    }
    let native_write = (4 * 64 * mib) as f64 / t.elapsed().as_secs_f64() / 1e6;
    drop(map);
    rows.push(Row {
        name: "1 MiB sequential read",
        ours: g["read_1m_mb_s"],
        base: native_read,
        unit: "MB/s",
        baseline: "native memmap2 + memcpy",
        lower_better: false,
        target: "≥ 0.8× native",
    });
    rows.push(Row {
        name: "1 MiB sequential write",
        ours: g["write_1m_mb_s"],
        base: native_write,
        unit: "MB/s",
        baseline: "native memmap2 + memcpy",
        lower_better: false,
        target: "≥ 0.8× native",
    });

    // find over 64 MiB.
    std::fs::write(&big, &pattern).unwrap();
    let g = guest(dir, &["find", "big.bin"]);
    let p = python(&format!(
        r#"
import mmap, os, time
f = os.open({path:?}, os.O_RDWR); m = mmap.mmap(f, 0)
t = time.perf_counter_ns()
for _ in range(5): assert m.find(b"needle-that-is-absent", 0) == -1
print("find", 5 * len(m) / ((time.perf_counter_ns() - t) / 1e9) / 1e6)
"#,
        path = big.to_str().unwrap()
    ));
    rows.push(Row {
        name: "find over 64 MiB",
        ours: g["find_mb_s"],
        base: p["find"],
        unit: "MB/s",
        baseline: "CPython find",
        lower_better: false,
        target: "≥ 2× CPython",
    });

    // Round trips between two guests in two processes vs a socket ping-pong.
    let socket_rt = {
        let (mut a, mut b) = UnixStream::pair().unwrap();
        let n = 20_000;
        let echo = std::thread::spawn(move || {
            let mut x = [0u8; 1];
            for _ in 0..n {
                b.read_exact(&mut x).unwrap();
                b.write_all(&x).unwrap();
            }
        });
        let mut x = [0u8; 1];
        let t = Instant::now();
        for _ in 0..n {
            a.write_all(&x).unwrap();
            a.read_exact(&mut x).unwrap();
        }
        let rt = t.elapsed().as_nanos() as f64 / f64::from(n);
        echo.join().unwrap();
        rt
    };
    for (mode, n, target) in [("spin", "200000", "< 1 µs"), ("block", "20000", "< 20 µs")] {
        std::fs::write(d.path().join("ping.bin"), [0u8; 4096]).unwrap();
        let second = Command::new(cli())
            .args([
                "run", "--dir", dir, BENCH_OPS, "ping", "ping.bin", n, mode, "second",
            ])
            .spawn()
            .unwrap();
        let g = guest(dir, &["ping", "ping.bin", n, mode, "first"]);
        let _ = second.wait_with_output();
        let name = if mode == "spin" {
            "round trip, 2 guests, spinning"
        } else {
            "round trip, 2 guests, wait/notify"
        };
        rows.push(Row {
            name,
            ours: g["round_trip_ns"],
            base: socket_rt,
            unit: "ns",
            baseline: "native Unix-socket ping-pong",
            lower_better: true,
            target,
        });
    }

    // The watcher's change-to-print latency (writer's write to watcher's line).
    std::fs::write(d.path().join("w.txt"), "start").unwrap();
    let mut watcher = Command::new(cli())
        .args(["run", "--dir", dir, WATCHER, "w.txt"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(watcher.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "start");
    let mut writer = Command::new(cli())
        .args(["run", "--dir", dir, WRITER, "w.txt"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    let mut lat = Vec::new();
    for i in 0..30 {
        let line = format!("line {i}");
        let t = Instant::now();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), line);
        lat.push(t.elapsed());
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stdin);
    let _ = writer.wait();
    let _ = watcher.kill();
    let _ = watcher.wait();
    lat.sort();
    let median = lat[lat.len() / 2].as_nanos() as f64;
    rows.push(Row {
        name: "watcher: line typed → printed (median of 30)",
        ours: median,
        base: f64::NAN,
        unit: "ns",
        baseline: "—",
        lower_better: true,
        target: "< 1 ms",
    });

    println!("| benchmark | wasm-mmap | baseline (same run) | ratio | target |");
    println!("|---|---|---|---|---|");
    for r in rows {
        let ratio = if r.base.is_nan() {
            "—".to_string()
        } else if r.lower_better {
            format!("{:.2}× the baseline's time", r.ours / r.base)
        } else {
            format!("{:.2}× the baseline's rate", r.ours / r.base)
        };
        let base = if r.base.is_nan() {
            "—".to_string()
        } else {
            format!("{:.1} {} ({})", r.base, r.unit, r.baseline)
        };
        println!(
            "| {} | {:.1} {} | {} | {} | {} |",
            r.name, r.ours, r.unit, base, ratio, r.target
        );
    }
}
