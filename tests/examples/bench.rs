//! Benchmarks: every figure beside its baseline, measured in the same run.
//!
//! `cargo build --release && cargo run --release --example bench [-- --json PATH]`
//!
//! Prints a Markdown table and writes a JSON list (default
//! `target/bench.json`) of `{name, ours, baseline, baseline_name, unit,
//! ratio, target, met}`. Baselines: CPython's `mmap` timed inside a
//! function with locals (as a Python programmer writes a hot loop), native
//! memmap2 in this process, a native two-process spin over a shared file
//! (this binary, re-run as the peer), a native Unix-socket ping-pong, and
//! `python3 -c 'import mmap'` for start-up. Nothing is timed in the tests.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::{Duration, Instant};
use wasm_mmap_tests::{BENCH_OPS, WATCHER, WRITER, cli, language_guests};

/// Runs the bench guest; its `name value` lines.
fn guest(extra: &[&str], dir: &str, args: &[&str]) -> HashMap<String, f64> {
    let mut cli_args = vec!["run"];
    cli_args.extend_from_slice(extra);
    cli_args.extend_from_slice(&["--dir", dir, BENCH_OPS]);
    cli_args.extend_from_slice(args);
    run_parsed(&cli_args)
}

/// `wasm-mmap ARGS`, which must succeed, its `name value` lines parsed.
fn run_parsed(cli_args: &[&str]) -> HashMap<String, f64> {
    let out = Command::new(cli()).args(cli_args).output().unwrap();
    assert!(
        out.status.success(),
        "{cli_args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    parse(&String::from_utf8(out.stdout).unwrap())
}

fn parse(text: &str) -> HashMap<String, f64> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| Some((k.to_string(), v.trim().parse().ok()?)))
        .collect()
}

/// Runs a Python script; its `name value` lines.
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

/// What a row must reach.
#[derive(Clone, Copy)]
enum Target {
    /// ours/baseline at most this (times).
    AtMost(f64),
    /// ours/baseline at least this (rates).
    AtLeast(f64),
    /// ours below this many units, whatever the baseline.
    Below(f64),
    /// Reported only.
    None,
}

struct Row {
    name: &'static str,
    ours: f64,
    base: f64,
    unit: &'static str,
    baseline: &'static str,
    target: Target,
}

impl Row {
    fn ratio(&self) -> f64 {
        self.ours / self.base
    }

    fn target_text(&self) -> String {
        match self.target {
            Target::AtMost(k) => format!("≤ {k}× baseline"),
            Target::AtLeast(k) => format!("≥ {k}× baseline"),
            Target::Below(v) => format!("< {v} {}", self.unit),
            Target::None => "—".into(),
        }
    }

    fn met(&self) -> Option<bool> {
        match self.target {
            Target::AtMost(k) => Some(self.ratio() <= k),
            Target::AtLeast(k) => Some(self.ratio() >= k),
            Target::Below(v) => Some(self.ours < v),
            Target::None => None,
        }
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => o.push_str(&format!("\\u{:04x}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn json_num(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}")
    } else {
        "null".into()
    }
}

/// The bench's scratch file mapped shared: words 0 (the ball) and 1 (the
/// peer is ready) of the native two-process spin.
fn spin_words(path: &str) -> memmap2::MmapMut {
    let f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .unwrap();
    // SAFETY: the bench's own scratch file, only touched through `word`.
    unsafe { memmap2::MmapMut::map_mut(&f).unwrap() }
}

/// Word `i` of a [`spin_words`] map.
fn word(map: &memmap2::MmapMut, i: usize) -> &AtomicU32 {
    assert!(4 * i + 4 <= map.len());
    // SAFETY: a 4-aligned word inside the live map, which outlives it.
    unsafe { AtomicU32::from_ptr(map.as_ptr().cast_mut().add(4 * i).cast()) }
}

/// The peer of the native two-process spin: `bench --spin-peer FILE N`.
fn spin_peer(path: &str, n: u32) {
    let map = spin_words(path);
    let (ball, ready) = (word(&map, 0), word(&map, 1));
    ready.store(1, SeqCst);
    for i in 0..n {
        while ball.load(SeqCst) != 2 * i + 1 {
            std::hint::spin_loop();
        }
        ball.store(2 * i + 2, SeqCst);
    }
}

/// Native two-process spin round trip over a shared file (ns).
fn native_spin(path: &Path, n: u32) -> f64 {
    std::fs::write(path, [0u8; 4096]).unwrap();
    let mut peer = Command::new(std::env::current_exe().unwrap())
        .args(["--spin-peer", path.to_str().unwrap(), &n.to_string()])
        .spawn()
        .unwrap();
    let map = spin_words(path.to_str().unwrap());
    let (ball, ready) = (word(&map, 0), word(&map, 1));
    while ready.load(SeqCst) == 0 {
        std::hint::spin_loop();
    }
    let t = Instant::now();
    for i in 0..n {
        ball.store(2 * i + 1, SeqCst);
        while ball.load(SeqCst) != 2 * i + 2 {
            std::hint::spin_loop();
        }
    }
    let rt = t.elapsed().as_nanos() as f64 / f64::from(n);
    peer.wait().unwrap();
    rt
}

/// Median wall time of `runs` runs of `cmd` (ns).
fn median_wall(runs: usize, mut cmd: impl FnMut() -> Command) -> f64 {
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            let st = cmd().stdout(Stdio::null()).status().unwrap();
            assert!(st.success());
            t.elapsed().as_nanos() as f64
        })
        .collect();
    v.sort_by(f64::total_cmp);
    v[runs / 2]
}

/// The floors of a call (a free function, a method), beside CPython's
/// `read_byte`: what the runtime charges whatever the host does.
fn floor_rows(
    rows: &mut Vec<Row>,
    g: &HashMap<String, f64>,
    cpython_read_byte: f64,
    floors: [(&str, &'static str); 2],
) {
    for (k, name) in floors {
        rows.push(Row {
            name,
            ours: g[k],
            base: cpython_read_byte,
            unit: "ns/op",
            baseline: "CPython mmap read_byte, in a function",
            target: Target::None,
        });
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("--spin-peer") {
        spin_peer(&argv[1], argv[2].parse().unwrap());
        return;
    }
    let json_path = match argv.iter().position(|a| a == "--json") {
        Some(i) => argv[i + 1].clone(),
        None => cli()
            .parent()
            .unwrap()
            .parent()
            .unwrap()
            .join("bench.json")
            .to_string_lossy()
            .into_owned(),
    };

    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let big = d.path().join("big.bin");
    let pattern: Vec<u8> = (0..64u32 << 20).map(|i| (i % 251) as u8).collect();
    std::fs::write(&big, &pattern).unwrap();
    let small = d.path().join("small.bin");
    std::fs::write(&small, vec![1u8; 4096]).unwrap();
    let mut rows = Vec::new();

    // ---- Single-byte operations through calls, vs CPython in a function.
    let n_byte = 2_000_000;
    let g = guest(&[], dir, &["byte", "small.bin", &n_byte.to_string()]);
    let p = python(&format!(
        r#"
import mmap, os, time
def bench(m, n):
    L = len(m)
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
f = os.open({path:?}, os.O_RDWR)
bench(mmap.mmap(f, 0), {n})
"#,
        path = small.to_str().unwrap(),
        n = n_byte
    ));
    // What one fstat costs (the per-access size check issue H removed).
    let fstat_ns = {
        let f = std::fs::File::open(&small).unwrap();
        let n = 200_000;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(f.metadata().unwrap().len());
        }
        t.elapsed().as_nanos() as f64 / f64::from(n)
    };
    for (k, name) in [
        ("read_byte", "call.read_byte"),
        ("get", "call.getitem"),
        ("set", "call.setitem"),
    ] {
        rows.push(Row {
            name,
            ours: g[k],
            base: p[k],
            unit: "ns/op",
            baseline: "CPython mmap, in a function",
            target: Target::AtMost(4.0),
        });
    }
    // What any call costs in the runtime, whatever the host does.
    floor_rows(
        &mut rows,
        &g,
        p["read_byte"],
        [
            ("floor_free", "call.floor.free_function (pagesize)"),
            ("floor_method", "call.floor.method (closed)"),
        ],
    );
    rows.push(Row {
        name: "call.read_byte.before_h (with the removed per-access fstat)",
        ours: g["read_byte"] + fstat_ns,
        base: p["read_byte"],
        unit: "ns/op",
        baseline: "CPython mmap, in a function",
        target: Target::None,
    });

    // ---- Single bytes through a window, vs native memmap2.
    let g = guest(&[], dir, &["wbyte", "small.bin", "50000000"]);
    let (native_read, native_write) = {
        let f = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&small)
            .unwrap();
        // Raw volatile accesses only: no reference to the mapped bytes.
        let map = memmap2::MmapRaw::map_raw(&f).unwrap();
        let (p, l, n) = (map.as_mut_ptr(), map.len(), 50_000_000usize);
        let t = Instant::now();
        let mut sum = 0u32;
        for i in 0..n {
            // SAFETY: inside the live map.
            sum = sum.wrapping_add(u32::from(unsafe { p.add(i % l).read_volatile() }));
        }
        std::hint::black_box(sum);
        let r = t.elapsed().as_nanos() as f64 / n as f64;
        let t = Instant::now();
        for i in 0..n {
            // SAFETY: inside the live map.
            unsafe { p.add(i % l).write_volatile(i as u8) };
        }
        (r, t.elapsed().as_nanos() as f64 / n as f64)
    };
    rows.push(Row {
        name: "window.read_byte",
        ours: g["wread_byte"],
        base: native_read,
        unit: "ns/op",
        baseline: "native memmap2 volatile load",
        target: Target::AtMost(2.0),
    });
    rows.push(Row {
        name: "window.write_byte",
        ours: g["wwrite_byte"],
        base: native_write,
        unit: "ns/op",
        baseline: "native memmap2 volatile store",
        target: Target::AtMost(2.0),
    });
    rows.push(Row {
        name: "window.read_byte vs CPython m[i]",
        ours: g["wread_byte"],
        base: rows[1].base,
        unit: "ns/op",
        baseline: "CPython m[i], in a function",
        target: Target::AtMost(0.1),
    });

    // ---- Random 4 KiB reads.
    let n4k = 200_000;
    let g = guest(&[], dir, &["rand4k", "big.bin", &n4k.to_string()]);
    let gw = guest(&[], dir, &["wrand4k", "big.bin", &n4k.to_string()]);
    let p = python(&format!(
        r#"
import mmap, os, time, random
def bench(m, offs):
    t = time.perf_counter_ns()
    for o in offs:
        m.seek(o); m.read(4096)
    print("rand4k", (time.perf_counter_ns() - t) / len(offs))
f = os.open({path:?}, os.O_RDWR); m = mmap.mmap(f, 0)
random.seed(1)
bench(m, [random.randrange(len(m) // 4096) * 4096 for _ in range({n})])
"#,
        path = big.to_str().unwrap(),
        n = n4k
    ));
    for (name, ours, base, baseline, target) in [
        (
            "call.read_4k_random",
            g["map_seek_read_4k"],
            p["rand4k"],
            "CPython seek+read, in a function",
            Target::AtMost(1.0),
        ),
        (
            "call.read_at_4k_random",
            g["map_read_at_4k"],
            p["rand4k"],
            "CPython seek+read, in a function",
            Target::AtMost(1.0),
        ),
        (
            "call.read_4k_random vs wasi:filesystem",
            g["map_seek_read_4k"],
            g["wasi_read_4k"],
            "same guest, wasi:filesystem read",
            Target::AtMost(0.5),
        ),
        (
            "window.read_4k_random",
            gw["wread_4k"],
            p["rand4k"],
            "CPython seek+read, in a function",
            Target::AtMost(1.0),
        ),
    ] {
        rows.push(Row {
            name,
            ours,
            base,
            unit: "ns/read",
            baseline,
            target,
        });
    }

    // ---- 1 MiB sequential copies vs native memmap2 + memcpy.
    let g = guest(&[], dir, &["seq", "big.bin", "4"]);
    let gw = guest(&[], dir, &["wseq", "big.bin", "4"]);
    let (native_read, native_write) = {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .open(&big)
            .unwrap();
        // SAFETY: the bench's scratch file, not changed by anyone else
        // while mapped here.
        let mut map = unsafe { memmap2::MmapMut::map_mut(&file).unwrap() };
        let mib = 1 << 20;
        let mut buf = vec![0u8; mib];
        let t = Instant::now();
        for k in 0..4 * 64 {
            buf.copy_from_slice(&map[(k % 64) * mib..(k % 64 + 1) * mib]);
            std::hint::black_box(&buf);
        }
        let r = (4 * 64 * mib) as f64 / t.elapsed().as_secs_f64() / 1e6;
        let t = Instant::now();
        for k in 0..4 * 64 {
            map[(k % 64) * mib..(k % 64 + 1) * mib].copy_from_slice(&buf);
        }
        (r, (4 * 64 * mib) as f64 / t.elapsed().as_secs_f64() / 1e6)
    };
    for (name, ours, base, target) in [
        ("call.read_1mib", g["read_1m_mb_s"], native_read, 0.8),
        ("call.write_1mib", g["write_1m_mb_s"], native_write, 0.8),
        ("window.copy_1mib", gw["wcopy_1m_mb_s"], native_read, 0.9),
    ] {
        rows.push(Row {
            name,
            ours,
            base,
            unit: "MB/s",
            baseline: "native memmap2 + memcpy",
            target: Target::AtLeast(target),
        });
    }

    // ---- find over 64 MiB, short and long absent needles, vs CPython; and
    // the worst case for long needles: periodic data (zeros) where every
    // prefix matches and only the needle's last byte (a one) differs.
    std::fs::write(&big, &pattern).unwrap();
    let zeros = d.path().join("zeros.bin");
    std::fs::write(&zeros, vec![0u8; 64 << 20]).unwrap();
    for (name, file, needle, periodic) in [
        ("call.find_64mib", &big, None, false),
        (
            "call.find_64mib_needle_1mib",
            &big,
            Some(1usize << 20),
            false,
        ),
        ("call.find_64mib_needle_16mib", &big, Some(16 << 20), false),
        (
            "call.find_64mib_needle_16mib_periodic",
            &zeros,
            Some(16 << 20),
            true,
        ),
    ] {
        let fname = file.file_name().unwrap().to_str().unwrap();
        let mut args = vec!["find", fname];
        let n = needle.map(|n| n.to_string());
        if let Some(n) = &n {
            args.push(n);
        }
        if periodic {
            args.push("periodic");
        }
        let g = guest(&[], dir, &args);
        let p = python(&format!(
            r#"
import mmap, os, time
def bench(m, needle):
    t = time.perf_counter_ns()
    for _ in range(3): assert m.find(needle, 0) == -1
    print("find", (time.perf_counter_ns() - t) / 3)
f = os.open({path:?}, os.O_RDWR)
bench(mmap.mmap(f, 0), {needle})
"#,
            path = file.to_str().unwrap(),
            needle = match needle {
                Some(n) if periodic => format!("bytes({}) + b'\\x01'", n - 1),
                Some(n) => format!("b'\\xff' * {n}"),
                None => "b'needle-that-is-absent'".into(),
            }
        ));
        rows.push(Row {
            name,
            ours: g["find_ns"] / 1e6,
            base: p["find"] / 1e6,
            unit: "ms/find",
            baseline: "CPython find, in a function",
            target: Target::AtMost(2.0),
        });
    }

    // ---- Round trips between two guests in two processes.
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
    let spin_native = native_spin(&d.path().join("nspin.bin"), 200_000);
    let pair = |args_first: Vec<&str>, args_second: Vec<&str>| {
        std::fs::write(d.path().join("ping.bin"), [0u8; 4096]).unwrap();
        let second = Command::new(cli())
            .args(["run", "--dir", dir, BENCH_OPS])
            .args(&args_second)
            .spawn()
            .unwrap();
        let g = guest(&[], dir, &args_first);
        let _ = second.wait_with_output();
        g["round_trip_ns"]
    };
    let call_spin = pair(
        vec!["ping", "ping.bin", "200000", "spin", "first"],
        vec!["ping", "ping.bin", "200000", "spin", "second"],
    );
    let call_block = pair(
        vec!["ping", "ping.bin", "20000", "block", "first"],
        vec!["ping", "ping.bin", "20000", "block", "second"],
    );
    let window_spin = pair(
        vec!["wping", "ping.bin", "200000", "first"],
        vec!["wping", "ping.bin", "200000", "second"],
    );
    rows.push(Row {
        name: "window.spin_round_trip",
        ours: window_spin,
        base: spin_native,
        unit: "ns",
        baseline: "native two-process spin on a shared file",
        target: Target::AtMost(3.0),
    });
    rows.push(Row {
        name: "call.spin_round_trip",
        ours: call_spin,
        base: socket_rt,
        unit: "ns",
        baseline: "native Unix-socket ping-pong",
        target: Target::Below(1000.0),
    });
    rows.push(Row {
        name: "call.wait_notify_round_trip",
        ours: call_block,
        base: socket_rt,
        unit: "ns",
        baseline: "native Unix-socket ping-pong",
        target: Target::Below(20_000.0),
    });

    // ---- Start-up: a small Rust guest, vs importing CPython's mmap.
    let py_start = median_wall(7, || {
        let mut c = Command::new("python3");
        c.args(["-c", "import mmap"]);
        c
    });
    let start = |extra: &'static [&'static str]| {
        median_wall(7, || {
            let mut c = Command::new(cli());
            c.arg("run").args(extra).args([BENCH_OPS, "nop"]);
            c
        })
    };
    // Warm the compile cache first: the default run is served from it.
    let _ = start(&[]);
    let with_windows = start(&[]);
    let without = start(&["--no-windows"]);
    let cold = start(&["--no-cache"]);
    rows.push(Row {
        name: "startup.rust_guest",
        ours: with_windows / 1e6,
        base: py_start / 1e6,
        unit: "ms",
        baseline: "python3 -c 'import mmap'",
        target: Target::AtMost(0.5),
    });
    rows.push(Row {
        name: "startup.rust_guest_cold (--no-cache)",
        ours: cold / 1e6,
        base: py_start / 1e6,
        unit: "ms",
        baseline: "python3 -c 'import mmap'",
        target: Target::None,
    });
    rows.push(Row {
        name: "startup.rust_guest windows on vs off",
        ours: with_windows / 1e6,
        base: without / 1e6,
        unit: "ms",
        baseline: "same guest, --no-windows",
        target: Target::AtMost(1.1),
    });

    // ---- Start-up: a Python guest (componentize-py, ~18 MB: CPython and
    // the wasm_mmap package, snapshotted after import), its cache warm.
    match language_guests() {
        Ok(guests) => {
            let writer = guests.join("python/writer.wasm");
            std::fs::write(d.path().join("p.txt"), "start").unwrap();
            let start = |extra: &'static [&'static str]| {
                median_wall(7, || {
                    // Opens the file, says "ready", and ends at EOF of stdin.
                    let mut c = Command::new(cli());
                    c.arg("run")
                        .args(extra)
                        .args(["--dir", &format!("{dir}::.")])
                        .arg(&writer)
                        .arg("p.txt")
                        .stdin(Stdio::null());
                    c
                })
            };
            let _ = start(&[]);
            let warm = start(&[]);
            let cold = start(&["--no-cache"]);
            rows.push(Row {
                name: "startup.python_guest",
                ours: warm / 1e6,
                base: py_start / 1e6,
                unit: "ms",
                baseline: "python3 -c 'import mmap'",
                target: Target::AtMost(2.0),
            });
            rows.push(Row {
                name: "startup.python_guest (absolute)",
                ours: warm / 1e6,
                base: 300.0,
                unit: "ms",
                baseline: "the issue's 0.3 s",
                target: Target::AtMost(1.0),
            });
            rows.push(Row {
                name: "startup.python_guest_cold (--no-cache)",
                ours: cold / 1e6,
                base: py_start / 1e6,
                unit: "ms",
                baseline: "python3 -c 'import mmap'",
                target: Target::None,
            });
        }
        Err(why) => eprintln!("startup.python_guest: skipped: {why} (./setup.sh installs it)"),
    }

    // ---- The Python package's hot calls in a componentize-py guest: vs
    // the raw bindings under them (the floor) and vs native CPython.
    match language_guests() {
        Ok(guests) => {
            let mib: Vec<u8> = (0..1u32 << 20).map(|i| (i % 253) as u8).collect();
            std::fs::write(d.path().join("py1m.bin"), &mib).unwrap();
            let n = 200_000;
            let program = guests.join("python/bench_py.wasm");
            let g = run_parsed(&[
                "run",
                "--dir",
                &format!("{dir}::."),
                program.to_str().unwrap(),
                "py1m.bin",
                &n.to_string(),
            ]);
            let p = python(&format!(
                r#"
import mmap, os, time
def bench(m, n):
    L = len(m)
    t = time.perf_counter_ns()
    for i in range(n): m[i % L]
    print("getitem", (time.perf_counter_ns() - t) / n)
    t = time.perf_counter_ns()
    for _ in range(n):
        try: m.read_byte()
        except ValueError: m.seek(0)
    print("read_byte", (time.perf_counter_ns() - t) / n)
    t = time.perf_counter_ns()
    for i in range(n):
        m.seek((i * 4096) % (L - 4096))
        m.read(4096)
    print("read_4k", (time.perf_counter_ns() - t) / n)
f = os.open({path:?}, os.O_RDWR)
bench(mmap.mmap(f, 0), {n})
"#,
                path = d.path().join("py1m.bin").to_str().unwrap(),
            ));
            for (k, floor, name, floor_name) in [
                (
                    "getitem",
                    "raw_get",
                    "python.getitem",
                    "python.getitem vs CPython m[i]",
                ),
                (
                    "read_byte",
                    "raw_read_byte",
                    "python.read_byte",
                    "python.read_byte vs CPython",
                ),
                (
                    "read_4k",
                    "raw_read_4k",
                    "python.read_4k (seek + read(4096))",
                    "python.read_4k vs CPython",
                ),
            ] {
                rows.push(Row {
                    name,
                    ours: g[k],
                    base: g[floor],
                    unit: "ns/op",
                    baseline: "the raw componentize-py binding, same guest (the floor)",
                    target: Target::AtMost(1.5),
                });
                rows.push(Row {
                    name: floor_name,
                    ours: g[k],
                    base: p[k],
                    unit: "ns/op",
                    baseline: "CPython mmap, in a function",
                    target: Target::None,
                });
            }
            floor_rows(
                &mut rows,
                &g,
                p["read_byte"],
                [
                    ("free_function", "python.floor.free_function (pagesize)"),
                    ("method_bool", "python.floor.method (closed)"),
                ],
            );
        }
        Err(why) => eprintln!("python.*: skipped: {why} (./setup.sh installs it)"),
    }

    // ---- The watcher's change-to-print latency.
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
    rows.push(Row {
        name: "watcher: line typed → printed (median of 30)",
        ours: lat[lat.len() / 2].as_nanos() as f64 / 1e3,
        base: f64::NAN,
        unit: "µs",
        baseline: "—",
        target: Target::Below(1000.0),
    });

    println!("| benchmark | wasm-mmap | baseline (same run) | ratio | target | met |");
    println!("|---|---|---|---|---|---|");
    let mut json = String::from("[\n");
    for (i, r) in rows.iter().enumerate() {
        let (base, ratio) = if r.base.is_nan() {
            ("—".to_string(), "—".to_string())
        } else {
            (
                format!("{:.2} {} ({})", r.base, r.unit, r.baseline),
                format!("{:.2}×", r.ratio()),
            )
        };
        let met = match r.met() {
            Some(true) => "yes",
            Some(false) => "no",
            None => "—",
        };
        println!(
            "| {} | {:.2} {} | {} | {} | {} | {} |",
            r.name,
            r.ours,
            r.unit,
            base,
            ratio,
            r.target_text(),
            met
        );
        json.push_str(&format!(
            "  {{\"name\": {}, \"ours\": {}, \"baseline\": {}, \"baseline_name\": {}, \"unit\": {}, \"ratio\": {}, \"target\": {}, \"met\": {}}}{}\n",
            json_str(r.name),
            json_num(r.ours),
            json_num(r.base),
            json_str(r.baseline),
            json_str(r.unit),
            json_num(r.ratio()),
            json_str(&r.target_text()),
            r.met().map_or("null".into(), |m| m.to_string()),
            if i + 1 < rows.len() { "," } else { "" }
        ));
    }
    json.push_str("]\n");
    std::fs::write(&json_path, json).unwrap();
    eprintln!("wrote {json_path}");
}
