//! Compiles the SIGBUS-guarded copy routines (`src/sys/guard.c`) on Unix.

fn main() {
    println!("cargo:rerun-if-changed=src/sys/guard.c");
    if std::env::var("CARGO_CFG_UNIX").is_ok() {
        cc::Build::new()
            .file("src/sys/guard.c")
            .opt_level(2)
            .compile("wasm_mmap_guard");
    }
}
