//! Named shared memory, one side of a multi-process test:
//! - `hold NAME TEXT N`: create-or-open NAME (N bytes), write TEXT at 0,
//!   print `ready`, wait for a stdin line, print the first N bytes.
//! - `read NAME N`: open the existing NAME, print its first N bytes.
//! - `write NAME TEXT`: open the existing NAME and write TEXT at 0.
//! - `missing NAME`: opening the existing NAME must be ENOENT.
//! - `remove NAME`: remove-named.
//! - `rules`: one-process rules (names, modes, sizes, resize, removal).
//! - `rules-windows`: the same where Windows differs (a name lives while a
//!   handle is open; remove-named does nothing; no resize of a named map).

use std::io::{BufRead, Write};
use wasm_mmap_guest::{CreateMode, Mmap, MmapOptions, remove_named};
use wasm_mmap_test_programs::expect_err;

fn text(m: &Mmap, n: usize) -> String {
    String::from_utf8_lossy(&m.slice(..n).unwrap()).replace('\0', ".")
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let a: Vec<&str> = args.iter().skip(1).map(String::as_str).collect();
    let opts = MmapOptions::new();
    match a.as_slice() {
        ["hold", name, t, n] => {
            let m = Mmap::named(name, n.parse().unwrap(), CreateMode::CreateOrOpen, opts).unwrap();
            m.write_bytes(t.as_bytes()).unwrap();
            println!("ready");
            std::io::stdout().flush().unwrap();
            std::io::stdin()
                .lock()
                .read_line(&mut String::new())
                .unwrap();
            println!("{}", text(&m, n.parse().unwrap()));
        }
        ["read", name, n] => {
            let m = Mmap::named(name, 0, CreateMode::OpenExisting, opts).unwrap();
            println!("{}", text(&m, n.parse().unwrap()));
        }
        ["write", name, t] => {
            let m = Mmap::named(name, 0, CreateMode::OpenExisting, opts).unwrap();
            m.write_bytes(t.as_bytes()).unwrap();
            println!("done");
        }
        ["missing", name] => {
            expect_err(
                Mmap::named(name, 0, CreateMode::OpenExisting, opts),
                "OSError",
                "2",
            );
            println!("missing");
        }
        ["remove", name] => {
            remove_named(name).unwrap();
            println!("removed");
        }
        ["rules"] => rules(),
        ["rules-windows"] => rules_windows(),
        _ => panic!("usage: shm_peer hold|read|write|missing|remove|rules ..."),
    }
}

fn rules() {
    let o = MmapOptions::new();
    let bad = "invalid shared memory name";
    for name in [
        "",
        "a/b",
        "../x",
        "/abs",
        "back\\slash",
        "nul\0",
        &"n".repeat(201),
    ] {
        let e = Mmap::named(name, 10, CreateMode::CreateOrOpen, o).unwrap_err();
        assert_eq!(e.class(), "ValueError", "{name:?}: {e}");
        assert!(e.message().starts_with(bad), "{e}");
        assert_eq!(remove_named(name).unwrap_err().class(), "ValueError");
    }
    let _ = remove_named("rules");
    expect_err(
        Mmap::named("rules", 0, CreateMode::OpenExisting, o),
        "OSError",
        "2",
    );
    expect_err(
        Mmap::named("rules", 0, CreateMode::CreateOrOpen, o),
        "OSError",
        "22",
    );
    let a = Mmap::named("rules", 8192, CreateMode::CreateNew, o).unwrap();
    assert_eq!(a.len().unwrap(), 8192);
    assert_eq!(a.size().unwrap(), 8192);
    assert_eq!(
        a.to_vec().unwrap(),
        vec![0; 8192],
        "new shared memory is zero-filled"
    );
    expect_err(
        Mmap::named("rules", 10, CreateMode::CreateNew, o),
        "OSError",
        "17",
    );
    a.write_bytes(b"shared").unwrap();
    // An existing object keeps its size: length 0 is all of it, a smaller
    // length a view of its start, a larger one EACCES.
    let b = Mmap::named("rules", 0, CreateMode::CreateOrOpen, o).unwrap();
    assert_eq!(b.len().unwrap(), 8192);
    assert_eq!(b.slice(..6).unwrap(), b"shared");
    let c = Mmap::named("rules", 100, CreateMode::OpenExisting, o).unwrap();
    assert_eq!(c.len().unwrap(), 100);
    expect_err(
        Mmap::named("rules", 8193, CreateMode::OpenExisting, o),
        "OSError",
        "13",
    );
    expect_err(
        Mmap::named("rules", 1, CreateMode::CreateOrOpen, o.offset(1)),
        "OSError",
        "22",
    );
    let view = Mmap::named("rules", 0, CreateMode::OpenExisting, o.offset(4096)).unwrap();
    assert_eq!(view.len().unwrap(), 4096);
    // Read access maps it read-only.
    let r = Mmap::named(
        "rules",
        0,
        CreateMode::OpenExisting,
        o.access(wasm_mmap_guest::Access::Read),
    )
    .unwrap();
    expect_err(
        r.write_bytes(b"x"),
        "TypeError",
        "mmap can't modify a readonly memory map.",
    );
    // POSIX shared memory resizes like a file; the other maps see the size.
    a.resize(12288).unwrap();
    assert_eq!(b.size().unwrap(), 12288);
    a.set(12287, 7).unwrap();
    // Removal: open maps keep working, the name is gone, a new one is new.
    remove_named("rules").unwrap();
    expect_err(remove_named("rules"), "OSError", "2");
    assert_eq!(b.slice(..6).unwrap(), b"shared");
    expect_err(
        Mmap::named("rules", 0, CreateMode::OpenExisting, o),
        "OSError",
        "2",
    );
    let fresh = Mmap::named("rules", 10, CreateMode::CreateNew, o).unwrap();
    assert_eq!(fresh.to_vec().unwrap(), vec![0; 10]);
    remove_named("rules").unwrap();
    println!("ok");
}

fn rules_windows() {
    let o = MmapOptions::new();
    assert_eq!(wasm_mmap_guest::allocation_granularity(), 65536);
    let e = Mmap::named("a/b", 10, CreateMode::CreateOrOpen, o).unwrap_err();
    assert_eq!(e.class(), "ValueError", "{e}");
    expect_err(
        Mmap::named("win", 0, CreateMode::OpenExisting, o),
        "OSError",
        "2",
    );
    let a = Mmap::named("win", 8192, CreateMode::CreateNew, o).unwrap();
    assert_eq!(
        a.to_vec().unwrap(),
        vec![0; 8192],
        "new shared memory is zero-filled"
    );
    assert_eq!(a.size().unwrap(), 8192);
    expect_err(
        Mmap::named("win", 10, CreateMode::CreateNew, o),
        "OSError",
        "17",
    );
    a.write_bytes(b"shared").unwrap();
    let b = Mmap::named("win", 0, CreateMode::OpenExisting, o).unwrap();
    assert_eq!(b.len().unwrap(), 8192);
    assert_eq!(b.slice(..6).unwrap(), b"shared");
    let c = Mmap::named("win", 100, CreateMode::CreateOrOpen, o).unwrap();
    assert_eq!(
        c.len().unwrap(),
        100,
        "an existing name keeps its size; a smaller view is fine"
    );
    expect_err(
        Mmap::named("win", 8193, CreateMode::OpenExisting, o),
        "OSError",
        "13",
    );
    expect_err(
        Mmap::named("win", 1, CreateMode::OpenExisting, o.offset(4096)),
        "OSError",
        "22",
    );
    expect_err(a.resize(12288), "OSError", "16");
    remove_named("win").unwrap(); // nothing on Windows: the maps hold it
    assert_eq!(
        Mmap::named("win", 0, CreateMode::OpenExisting, o)
            .unwrap()
            .slice(..6)
            .unwrap(),
        b"shared"
    );
    drop((a, b, c));
    // The last handle gone, the name is gone.
    expect_err(
        Mmap::named("win", 0, CreateMode::OpenExisting, o),
        "OSError",
        "2",
    );
    println!("ok");
}
