//! Bindings generated from `wit/` for the `host` world: the guest's
//! `mmap` resource is [`crate::Mmap`], its errors [`crate::Error`], and
//! WASI is wasmtime-wasi's own (the same descriptors the guest holds).

#![allow(missing_docs)]

wasmtime::component::bindgen!({
    path: "../wit",
    world: "wasm-mmap:mmap/host",
    imports: { default: trappable },
    trappable_error_type: {
        "wasm-mmap:mmap/mmap.error-code" => crate::Error,
    },
    with: {
        "wasi": wasmtime_wasi::p2::bindings::sync,
        "wasm-mmap:mmap/mmap.mmap": crate::Mmap,
        // Linked by hand (window.rs): `place` needs the guest's pointer.
        "wasm-mmap:mmap/windows.window": crate::Window,
    },
    require_store_data_send: true,
});

pub use self::wasm_mmap::mmap::mmap as wit;
