//! Shared pieces of the integration tests: the guests' paths (built by
//! `build.rs`), the `wasm-mmap` CLI, and child processes whose output lines
//! can be awaited with a timeout.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::Duration;

include!(concat!(env!("OUT_DIR"), "/programs.rs"));

/// For `foreach_<suite>!(assert_test_exists)`: fails to compile unless a
/// test function named after each test program exists in the calling file.
#[macro_export]
macro_rules! assert_test_exists {
    ($name:ident) => {
        #[allow(unused_imports)]
        use self::$name as _;
    };
}

/// Removes the outer `cargo test`'s `CARGO_*` (but `CARGO_HOME`) and
/// `RUSTFLAGS` variables from `cmd`, a nested cargo build, so that it
/// configures itself from its own arguments.
pub fn without_cargo_env(cmd: &mut Command) -> &mut Command {
    for (k, _) in std::env::vars() {
        if k.starts_with("CARGO_") && k != "CARGO_HOME" || k.contains("RUSTFLAGS") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// `WASM_MMAP_QUICK=1` skips the tests that install and build other
/// toolchains (wine, other languages): a developer's quick path. CI never
/// sets it. Says so on stderr when it skips.
pub fn quick(test: &str) -> bool {
    let q = std::env::var_os("WASM_MMAP_QUICK").is_some_and(|v| v == "1");
    if q {
        eprintln!("{test}: skipped (WASM_MMAP_QUICK=1)");
    }
    q
}

/// A suite's toolchain is missing (`why`): under `CI=true` that fails the
/// run, since CI runs `./setup.sh` first; elsewhere the test is skipped
/// with one line naming the script.
#[track_caller]
pub fn toolchain_missing(test: &str, why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{test}: {why} (CI=true: ./setup.sh must have installed it)");
    }
    eprintln!("{test}: skipped: {why} (./setup.sh installs it)");
}

/// The guests in other languages, built by `guest/languages/build.sh` into
/// `target/language-guests` once per process; `Err` says which toolchain is
/// missing (build.sh exits 3: `./setup.sh` installs it). Any other failure
/// of the build panics.
pub fn language_guests() -> Result<PathBuf, String> {
    static BUILT: std::sync::OnceLock<Result<PathBuf, String>> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let out = cli()
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("language-guests");
            let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../guest/languages/build.sh");
            let run = Command::new("bash")
                .arg(script)
                .arg(&out)
                .stderr(Stdio::piped())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&run.stderr).trim().to_string();
            match run.status.code() {
                Some(0) => Ok(out),
                Some(3) => Err(err),
                _ => panic!("guest/languages/build.sh failed: {err}"),
            }
        })
        .clone()
}

/// How long any single step of a test may take before it fails.
pub const STEP: Duration = Duration::from_secs(20);

/// The `wasm-mmap` binary of this build. Cargo builds it for the host
/// crate's own integration tests; this crate's tests run from the same
/// `target/<profile>/deps` directory.
pub fn cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join(format!("wasm-mmap{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests from the workspace root (cargo test --release)",
        bin.display()
    );
    bin
}

/// `wasm-mmap <args>`, to completion.
pub fn run(args: &[&str]) -> Output {
    Command::new(cli())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// Runs a test program with `dir` preopened read-write and asserts it
/// printed `ok` and exited 0.
pub fn run_program_ok(program: &str, dir: &std::path::Path, extra: &[&str]) {
    let dir = dir.to_str().unwrap();
    let mut args = vec!["run", "--dir", dir, program];
    args.extend_from_slice(extra);
    let out = run(&args);
    assert_ok(&out);
}

/// Asserts a finished guest exited 0 having printed `ok`.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success()
            && String::from_utf8_lossy(&out.stdout)
                .trim_end()
                .ends_with("ok"),
        "guest failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running `wasm-mmap` process: its stdout arrives line by line.
pub struct Proc {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Receiver<String>,
}

impl Proc {
    /// Starts `wasm-mmap <args>` with piped stdin and stdout.
    pub fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(cli())
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stdin = child.stdin.take();
        Proc {
            child,
            stdin,
            lines,
        }
    }

    /// The next line of output; panics after `timeout` or at end of output.
    #[track_caller]
    pub fn line(&self, timeout: Duration) -> String {
        match self.lines.recv_timeout(timeout) {
            Ok(l) => l,
            Err(RecvTimeoutError::Timeout) => panic!("no output line within {timeout:?}"),
            Err(RecvTimeoutError::Disconnected) => panic!("the process ended its output"),
        }
    }

    /// The next line, if one comes within `timeout`.
    pub fn try_line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Writes `line` and a newline to the process's stdin.
    pub fn send(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes stdin and waits (up to [`STEP`]) for the exit status.
    pub fn finish(mut self) -> std::process::ExitStatus {
        drop(self.stdin.take());
        let deadline = std::time::Instant::now() + STEP;
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                return s;
            }
            assert!(std::time::Instant::now() < deadline, "process did not exit");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How long a test of hostile input lets one `wasm-mmap` process run before
/// it kills the process and fails: generous, so that only a hang (never a
/// slow machine) trips it.
pub const HANG: Duration = Duration::from_secs(120);

/// `wasm-mmap` as a [`Command`], to add arguments and stdio to.
pub fn cli_command() -> Command {
    Command::new(cli())
}

/// `wasm-mmap` run through `sh -c 'ulimit -n N; exec ...'`: the CLI starts
/// with at most `nofile` open files (soft and hard limit). `exec` keeps the
/// shell's process id, so the child's id is the CLI's.
pub fn cli_command_with_nofile(nofile: u32) -> Command {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("ulimit -n {nofile} || exit 97; exec \"$0\" \"$@\""))
        .arg(cli());
    cmd
}

/// Waits for `child` to exit; after `timeout` kills it and panics (a hang
/// fails the test instead of blocking the run).
#[track_caller]
pub fn wait_within(child: &mut Child, timeout: Duration) -> std::process::ExitStatus {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the process did not exit within {timeout:?}: killed (a hang)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process whose stdout and stderr are being collected; killed
/// when dropped unless it was waited for.
pub struct Captured {
    child: Child,
    out: Option<std::thread::JoinHandle<Vec<u8>>>,
    err: Option<std::thread::JoinHandle<Vec<u8>>>,
}

impl Captured {
    /// Starts `cmd` with stdin empty and stdout/stderr captured.
    pub fn spawn(cmd: &mut Command) -> Captured {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        fn collect(mut r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        }
        let out = Some(collect(child.stdout.take().unwrap()));
        let err = Some(collect(child.stderr.take().unwrap()));
        Captured { child, out, err }
    }

    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit and returns the output. After `timeout` it kills
    /// the process and panics, showing what the process had printed.
    #[track_caller]
    pub fn wait_within(mut self, timeout: Duration) -> Output {
        let deadline = std::time::Instant::now() + timeout;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break Some(s);
            }
            if std::time::Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = self.out.take().unwrap().join().unwrap();
        let stderr = self.err.take().unwrap().join().unwrap();
        match status {
            Some(status) => Output {
                status,
                stdout,
                stderr,
            },
            None => panic!(
                "the process did not exit within {timeout:?}: killed (a hang)\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&stdout),
                String::from_utf8_lossy(&stderr)
            ),
        }
    }
}

impl Drop for Captured {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `cmd` to completion with stdin empty and stdout/stderr captured,
/// returning its process id and output. After `timeout` it kills the
/// process and panics, showing what the process had printed.
#[track_caller]
pub fn output_within_pid(cmd: &mut Command, timeout: Duration) -> (u32, Output) {
    let c = Captured::spawn(cmd);
    let pid = c.id();
    (pid, c.wait_within(timeout))
}

/// [`output_within_pid`] without the process id.
#[track_caller]
pub fn output_within(cmd: &mut Command, timeout: Duration) -> Output {
    output_within_pid(cmd, timeout).1
}

/// `wasm-mmap <args>` to completion, killed (and the test failed) after
/// `timeout`.
#[track_caller]
pub fn run_within(args: &[&str], timeout: Duration) -> Output {
    output_within(cli_command().args(args), timeout)
}

impl Proc {
    /// The process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Closes the process's stdin (end of input).
    pub fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    /// Closes stdin and waits up to `timeout` for the exit status; kills the
    /// process and panics after that.
    #[track_caller]
    pub fn finish_within(mut self, timeout: Duration) -> std::process::ExitStatus {
        drop(self.stdin.take());
        wait_within(&mut self.child, timeout)
    }
}
