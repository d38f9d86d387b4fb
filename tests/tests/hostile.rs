//! Hostile guests and hostile surroundings (issue H, hardening round 2):
//! whatever a guest asks for and whatever other processes do to its files,
//! the host answers with a typed error or a clean exit, never dies, never
//! hangs, and leaves nothing behind. Every run is bounded by [`HANG`]: a
//! host that blocks is killed and the test fails. Linux only (/dev/shm,
//! FIFOs, inotify, `ulimit`).

#![cfg(target_os = "linux")]

use std::fs;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wasm_mmap_tests::*;

foreach_hostile!(assert_test_exists);

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The number after `prefix` on the first stdout line starting with it.
#[track_caller]
fn field(out: &Output, prefix: &str) -> u64 {
    let text = stdout(out);
    let Some(line) = text.lines().find(|l| l.starts_with(prefix)) else {
        panic!(
            "no `{prefix}` line ({}):\nstdout: {text}\nstderr: {}",
            out.status,
            stderr(out)
        )
    };
    line[prefix.len()..].trim().parse().unwrap()
}

/// Asserts a refused command line: exit status 1 and one stderr line
/// starting `error:` (mentioning `mention`).
#[track_caller]
fn assert_cli_error(out: &Output, mention: &str) {
    let err = stderr(out);
    assert!(
        out.status.code() == Some(1)
            && err.starts_with("error:")
            && err.lines().count() == 1
            && err.contains(mention),
        "expected exit 1 and one `error:` line (mentioning {mention:?}), got {}:\nstdout: {}\nstderr: {err}",
        out.status,
        stdout(out)
    );
}

/// Removes, when dropped, every entry of /dev/shm whose name starts with
/// `prefix` (what a failing test, or a host that leaks, leaves behind).
struct ShmSweep(String);

impl ShmSweep {
    /// The entries now in /dev/shm starting with the prefix.
    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir("/dev/shm")
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().to_string_lossy().into_owned();
                name.starts_with(&self.0).then_some(name)
            })
            .collect();
        v.sort();
        v
    }
}

impl Drop for ShmSweep {
    fn drop(&mut self) {
        for name in self.entries() {
            let _ = fs::remove_file(Path::new("/dev/shm").join(name));
        }
    }
}

/// The prefix of the OS names of a host's default (private) namespace,
/// `p<pid>-<hex>`.
fn private_prefix(pid: u32) -> String {
    format!("wasm-mmap.p{pid}-")
}

/// Runs `wasm-mmap <args>` in the default shared memory namespace; returns
/// its output and what it left in /dev/shm (then removed).
fn run_private(cmd: &mut Command) -> (Output, Vec<String>) {
    let child = Captured::spawn(cmd);
    let sweep = ShmSweep(private_prefix(child.id()));
    let out = child.wait_within(HANG);
    let left = sweep.entries();
    (out, left)
}

fn mkfifo(path: &Path) {
    let st = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(st.success(), "mkfifo {}", path.display());
}

// 1. Mapping count --------------------------------------------------------

/// 32768 `madvise` calls that each split the host's mapping: the host must
/// refuse with ENOMEM (its mapping budget) long before the kernel's
/// `vm.max_map_count` leaves the host itself unable to map memory, and the
/// guest's map must keep working.
#[test]
fn hostile_vmas() {
    let out = run_within(&["run", HOSTILE_VMAS], HANG);
    assert!(
        !stdout(&out).contains("never refused"),
        "the host never refused a split:\n{}",
        stdout(&out)
    );
    let k = field(&out, "refused at ");
    assert_ok(&out);
    println!("default budget: refused at madvise call {k}");
}

/// With `--max-mappings 100` the refusal comes within the first 60 calls
/// (each call can cost two more mappings).
#[test]
fn hostile_vmas_max_mappings_flag() {
    let out = run_within(&["run", "--max-mappings", "100", HOSTILE_VMAS], HANG);
    let k = field(&out, "refused at ");
    assert!(k < 60, "refused only at madvise call {k}");
    assert_ok(&out);
}

// 2. Descriptors ----------------------------------------------------------

/// Under `ulimit -n 1024`, a guest creating named shared memory until
/// refused gets a typed EMFILE/ENOMEM, and the host can still write its
/// stdout afterwards.
#[test]
fn hostile_fds() {
    let mut cmd = cli_command_with_nofile(1024);
    cmd.args(["run", HOSTILE_FDS]);
    let (out, _left) = run_private(&mut cmd);
    let n = field(&out, "stopped at ");
    assert!(n > 0, "not one named map was made");
    assert_ok(&out);
}

// 3. A closed stderr ------------------------------------------------------

/// A trapping guest whose host has no stderr left to report on: the exit
/// status is still the trap's (134), not a host panic (101).
#[test]
fn hostile_trap() {
    let mut child = cli_command()
        .args(["run", HOSTILE_TRAP])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take()); // the reader goes away: writes are EPIPE
    let status = wait_within(&mut child, HANG);
    assert_eq!(status.code(), Some(134), "{status}");
}

// 4. A name swapped between a file and a FIFO -----------------------------

/// While a native thread swaps the name `x` between a regular file and a
/// FIFO 20,000 times, a guest opens `x` in a loop. The host checks for a
/// FIFO before opening; the swap races that check, and the host must
/// still never block in open(2) of the FIFO.
#[test]
fn hostile_open_loop() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    let (reg, fifo, x, tmp) = (
        d.path().join("reg"),
        d.path().join("fifo"),
        d.path().join("x"),
        d.path().join("x.tmp"),
    );
    fs::write(&reg, b"a regular file").unwrap();
    mkfifo(&fifo);
    fs::hard_link(&reg, &x).unwrap();

    let guest = Proc::spawn(&["run", "--dir", dir, HOSTILE_OPEN_LOOP]);
    assert_eq!(guest.line(HANG), "looping");
    let swapper = std::thread::spawn(move || {
        for i in 0..20_000 {
            let src = if i % 2 == 0 { &fifo } else { &reg };
            fs::hard_link(src, &tmp).unwrap();
            fs::rename(&tmp, &x).unwrap();
        }
    });
    swapper.join().unwrap();
    fs::write(d.path().join("stop"), b"").unwrap();
    let counts = guest.line(HANG);
    println!("guest: {counts}");
    assert_eq!(guest.line(HANG), "ok");
    assert!(guest.finish_within(HANG).success());
}

// 5. A FIFO at a shared memory name ---------------------------------------

/// Removes a path when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

/// The OS name of a guest's shared memory is a FIFO: opening it must be a
/// typed error at once, not a host blocked in open(2).
#[test]
fn hostile_shm_fifo() {
    let ns = format!("hostfifo{}", std::process::id());
    let path = PathBuf::from(format!("/dev/shm/wasm-mmap.{ns}.q"));
    let _ = fs::remove_file(&path);
    mkfifo(&path);
    let _guard = RemoveOnDrop(path.clone());
    let out = run_within(
        &["run", "--shm-namespace", &ns, HOSTILE_SHM_FIFO],
        Duration::from_secs(60),
    );
    assert_ok(&out);
    assert!(
        fs::symlink_metadata(&path).unwrap().file_type().is_fifo(),
        "the FIFO is left as it was"
    );
}

// 6. Namespaces and names map one-to-one onto OS names ---------------------

/// `(namespace, name) -> wasm-mmap.<namespace>.<name>` must be injective:
/// namespace `app` with name `tenantB.secret` and namespace `app.tenantB`
/// with name `secret` were the same OS object. A namespace may no longer
/// hold the separator `.`; a guest's name still may.
#[test]
fn hostile_namespace() {
    let pid = std::process::id();
    let _sweep = ShmSweep(format!("wasm-mmap.app{pid}."));
    let _sweep2 = ShmSweep(format!("wasm-mmap.a{pid}."));

    // The pair from the issue, literally (the guest creates nothing).
    let out = run_within(
        &["run", "--shm-namespace", "app.tenantB", HOSTILE_NAMESPACE],
        HANG,
    );
    assert_cli_error(&out, "--shm-namespace");
    for bad in [".", "x.", ".x", "a.b.c"] {
        let out = run_within(&["run", "--shm-namespace", bad, HOSTILE_NAMESPACE], HANG);
        assert_cli_error(&out, "--shm-namespace");
    }

    // Tenant A's host (namespace app<pid>) makes `tenantB.secret` ...
    let app = format!("app{pid}");
    let out = run_within(
        &[
            "run",
            "--shm-namespace",
            &app,
            HOSTILE_NAMESPACE,
            "create",
            "tenantB.secret",
        ],
        HANG,
    );
    assert_ok(&out);
    let secret = PathBuf::from(format!("/dev/shm/wasm-mmap.{app}.tenantB.secret"));
    assert!(secret.exists(), "{} was not made", secret.display());
    // ... and tenant B's host (namespace app<pid>.tenantB) cannot start, so
    // its `secret` can never be tenant A's object.
    let app_b = format!("{app}.tenantB");
    let out = run_within(
        &[
            "run",
            "--shm-namespace",
            &app_b,
            HOSTILE_NAMESPACE,
            "create",
            "secret",
        ],
        HANG,
    );
    assert_cli_error(&out, "--shm-namespace");

    // A dotted guest name lands where the rule says.
    let a = format!("a{pid}");
    let out = run_within(
        &[
            "run",
            "--shm-namespace",
            &a,
            HOSTILE_NAMESPACE,
            "create",
            "b.c",
        ],
        HANG,
    );
    assert_ok(&out);
    let os = PathBuf::from(format!("/dev/shm/wasm-mmap.{a}.b.c"));
    let bytes = fs::read(&os).unwrap_or_else(|e| panic!("{}: {e}", os.display()));
    assert_eq!(bytes.len(), 4096);
    assert_eq!(&bytes[..2], b"hi");
}

// 7. inotify instances ----------------------------------------------------

/// One guest arming 300 change watches must not take the user's inotify
/// instances (128 by default) from another process: a second guest can
/// still arm a watch and is woken by a change.
#[test]
fn hostile_watches() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    fs::write(d.path().join("hogged.txt"), b"hog").unwrap();
    let watched = d.path().join("watched.txt");
    fs::write(&watched, b"before").unwrap();

    let mut hog = Proc::spawn(&[
        "run",
        "--dir",
        dir,
        HOSTILE_WATCHES,
        "hog",
        "hogged.txt",
        "300",
    ]);
    let line = hog.line(HANG);
    println!("hog: {line}");
    let nums: Vec<u64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    assert!(
        line.starts_with("armed ") && nums.len() == 2 && nums[0] + nums[1] == 300,
        "{line}"
    );

    let watcher = Proc::spawn(&["run", "--dir", dir, HOSTILE_WATCHES, "watch", "watched.txt"]);
    assert_eq!(watcher.line(HANG), "armed", "with the hog alive");
    std::thread::sleep(Duration::from_millis(200));
    use std::io::Write;
    let mut f = fs::OpenOptions::new().append(true).open(&watched).unwrap();
    f.write_all(b" and after").unwrap();
    drop(f);
    assert_eq!(watcher.line(HANG), "changed");
    assert!(watcher.finish_within(HANG).success());

    assert!(hog.alive(), "the hog's host died");
    hog.close_stdin();
    assert_eq!(hog.line(HANG), "ok");
    assert!(hog.finish_within(HANG).success());
}

// 8. find is linear -------------------------------------------------------

/// find/rfind of a 16 MiB needle that almost matches everywhere in 64 MiB:
/// a quadratic search takes minutes per call and is killed at [`HANG`].
/// Also finds a 1 MiB needle at the right indices.
#[test]
fn hostile_find() {
    let d = tempfile::tempdir().unwrap();
    let out = run_within(
        &["run", "--dir", d.path().to_str().unwrap(), HOSTILE_FIND],
        HANG,
    );
    assert_ok(&out);
}

// 9. Nothing left in /dev/shm ---------------------------------------------

/// A guest's named memory in the default (private) namespace, which no
/// other process can ever open, is removed when the host exits: the two
/// closed objects and the one still mapped.
#[test]
fn hostile_shm_leak() {
    let (out, left) = run_private(cli_command().args(["run", HOSTILE_SHM_LEAK, "leave"]));
    assert_ok(&out);
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

/// Creating an enormous named object is ENOMEM and leaves no object behind
/// (opening the name afterwards is ENOENT).
#[test]
fn shm_huge_create_leaves_nothing() {
    let (out, left) = run_private(cli_command().args(["run", HOSTILE_SHM_LEAK, "huge"]));
    assert_ok(&out);
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

/// Named objects count against `--max-memory-bytes` while they exist, even
/// unmapped, until removed.
#[test]
fn shm_objects_count_against_the_memory_budget() {
    let (out, left) = run_private(cli_command().args([
        "run",
        "--max-memory-bytes",
        "1048576",
        HOSTILE_SHM_LEAK,
        "budget",
    ]));
    assert_ok(&out);
    assert!(left.is_empty(), "left in /dev/shm: {left:?}");
}

// 10. Defaults from the machine -------------------------------------------

/// MemTotal of /proc/meminfo, in bytes.
fn total_ram() -> u64 {
    let info = fs::read_to_string("/proc/meminfo").unwrap();
    let line = info.lines().find(|l| l.starts_with("MemTotal:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// The default memory budget comes from the machine: anonymous memory the
/// size of all RAM is refused (ENOMEM), also with the per-map and total
/// mapping limits raised out of the way; a file map of that size (not
/// memory) is made.
#[test]
fn hostile_ram() {
    let ram = total_ram();
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().to_str().unwrap();
    // Defaults throughout; the file map within the default per-map limit
    // (16 GiB).
    let file_len = ram.min(8 << 30);
    let out = run_within(
        &[
            "run",
            "--dir",
            dir,
            HOSTILE_RAM,
            &ram.to_string(),
            &file_len.to_string(),
        ],
        HANG,
    );
    assert_ok(&out);
    // Only the memory budget left to refuse.
    let big = (4 * ram).to_string();
    let out = run_within(
        &[
            "run",
            "--dir",
            dir,
            "--max-map-bytes",
            &big,
            "--max-mapped-bytes",
            &big,
            HOSTILE_RAM,
            &ram.to_string(),
            &ram.to_string(),
        ],
        HANG,
    );
    assert_ok(&out);
}

// 11. Truncation under a map: memory semantics ----------------------------

/// A 3-page file truncated to 5000 bytes under a shared map: bytes past the
/// end in the last page read 0 (the page exists, as CPython sees it), a
/// page wholly past the end is EFAULT, the bytes below the end are intact.
#[test]
fn hostile_truncate() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("t.bin");
    let bytes: Vec<u8> = (0..12288u64).map(|i| (i % 251 + 1) as u8).collect();
    fs::write(&path, &bytes).unwrap();
    let mut guest = Proc::spawn(&[
        "run",
        "--dir",
        d.path().to_str().unwrap(),
        HOSTILE_TRUNCATE,
        "t.bin",
    ]);
    assert_eq!(guest.line(HANG), "mapped");
    fs::OpenOptions::new()
        .write(true)
        .open(&path)
        .unwrap()
        .set_len(5000)
        .unwrap();
    guest.send("go");
    assert_eq!(
        guest.try_line(HANG).as_deref(),
        Some("ok"),
        "see the guest's stderr"
    );
    assert!(guest.finish_within(HANG).success());
}

// 12. Big lists -----------------------------------------------------------

/// A 200 MiB `write-at` and `read-at`: copied (or refused with a typed
/// error), never a trap.
#[test]
fn hostile_big_list() {
    let out = run_within(&["run", HOSTILE_BIG_LIST], HANG);
    assert_ok(&out);
}

// 13. Command-line input --------------------------------------------------

/// An empty variable name and an empty guest directory are refused with
/// one `error:` line and exit status 1.
#[test]
fn cli_refuses_empty_env_name_and_guest_dir() {
    let out = run_within(&["run", "--env", "=v", HOSTILE_NAMESPACE], HANG);
    assert_cli_error(&out, "");
    let out = run_within(&["run", "--dir", "/tmp::", HOSTILE_NAMESPACE], HANG);
    assert_cli_error(&out, "");
}
