//! `hostile_trap`: traps at once (`abort` is `unreachable` in wasm), so that
//! the host reports a trap; the test has closed the host's stderr.

fn main() {
    std::process::abort();
}
