//! `hostile_namespace create NAME`: creates the shared memory NAME (4096
//! bytes, which must not exist), writes `hi` at its start and prints `ok`;
//! without arguments only prints `ok`.

use wasm_mmap_guest::{CreateMode, Mmap, MmapOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["create", name] => {
            let m = Mmap::named(name, 4096, CreateMode::CreateNew, MmapOptions::new()).unwrap();
            m.write_at(0, b"hi").unwrap();
        }
        [] => {}
        _ => panic!("usage: hostile_namespace [create NAME]"),
    }
    println!("ok");
}
