//! `ipc_channel send FILE N` creates a channel over FILE and sends N
//! length-prefixed messages; `ipc_channel recv FILE N` receives and checks
//! them, printing `received N messages, B bytes`.

use wasm_mmap_guest::{Mmap, MmapOptions, channel_create, channel_open, open_file};

fn message(i: u32) -> Vec<u8> {
    let len = (i as usize * 37) % 600;
    (0..len).map(|k| (i as usize + k) as u8).collect()
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let f = open_file(&a[1], true).unwrap();
    let m = Mmap::map(&f, 0, MmapOptions::new()).unwrap();
    let n: u32 = a[2].parse().unwrap();
    match a[0].as_str() {
        "send" => {
            let tx = channel_create(m).unwrap();
            for i in 0..n {
                let msg = message(i);
                tx.send_all(&(msg.len() as u32).to_le_bytes()).unwrap();
                tx.send_all(&msg).unwrap();
            }
            println!("sent {n}");
        }
        "recv" => {
            let rx = channel_open(m).unwrap();
            let mut bytes = 0;
            for i in 0..n {
                let mut len = [0u8; 4];
                rx.recv_exact(&mut len).unwrap();
                let mut msg = vec![0u8; u32::from_le_bytes(len) as usize];
                rx.recv_exact(&mut msg).unwrap();
                assert_eq!(msg, message(i), "message {i}");
                bytes += msg.len();
            }
            println!("received {n} messages, {bytes} bytes");
        }
        _ => panic!("usage"),
    }
}
