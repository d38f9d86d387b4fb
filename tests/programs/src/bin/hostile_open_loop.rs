//! `hostile_open_loop`: prints `looping`, then opens `x` read-only again and
//! again (ignoring errors: `x` is swapped between a file and a FIFO under it)
//! until a file `stop` exists. Opening must never block the host. Prints the
//! counts and `ok`.

use wasm_mmap_guest::open_file;

fn main() {
    println!("looping");
    let (mut opened, mut failed) = (0u64, 0u64);
    loop {
        match open_file("x", false) {
            Ok(_) => opened += 1,
            Err(_) => failed += 1,
        }
        if open_file("stop", false).is_ok() {
            break;
        }
    }
    println!("opened {opened} failed {failed}");
    println!("ok");
}
