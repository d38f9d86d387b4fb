//! For the CLI tests: `code N` exits with N (exit-with-code), `std-exit N`
//! through Rust's std (which can only say 0 or 1), `panic` traps,
//! `env NAME` prints a variable, `args ...` prints argv.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("code") => wasm_mmap_guest::exit(args[2].parse().unwrap()),
        Some("std-exit") => std::process::exit(args[2].parse().unwrap()),
        Some("panic") => panic!("asked to panic"),
        Some("env") => println!("{}", std::env::var(&args[2]).unwrap()),
        Some("args") => println!("{}", args.join(" ")),
        _ => println!("ok"),
    }
}
