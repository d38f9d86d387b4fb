//! `adapter OUT.wasm`: writes the preview1 reactor adapter that turns the C
//! guest's core module (wasi-libc, preview1) into a component.

fn main() {
    let out = std::env::args().nth(1).expect("usage: adapter OUT.wasm");
    std::fs::write(out, wasi_preview1_component_adapter_provider::WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER)
        .expect("write the adapter");
}
