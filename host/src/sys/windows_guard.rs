//! Windows (x86_64): the twin of `guard.c`. A mapped page can vanish on
//! Windows too: a file truncated from outside Windows' own rules (wine's
//! Linux side, a network or removable file) makes the next access raise
//! `EXCEPTION_IN_PAGE_ERROR`, which would kill the host. Every access the
//! host makes to mapped bytes goes through the routines below, written in
//! assembly so that the instructions that may fault, and the stack at that
//! moment, are known: a vectored exception handler sees a fault whose
//! instruction pointer lies inside them and resumes at their common exit,
//! which returns `false`. Nothing is unwound and no lock is held, as in a
//! kernel's exception tables.
//!
//! The fault must also be on the bytes the routine was given (recorded per
//! thread before each call): a fault anywhere else is a host bug, and the
//! process dies of it as it should.
//!
//! The routines never touch the stack (no push, no call), keep `rdi`/`rsi`
//! (callee-saved on Windows) in `r10`/`r11` from their first instruction,
//! and the exit restores them and clears the direction flag, so resuming
//! there from any instruction of any routine returns to the caller intact.

use super::super::{AtomicOp, Waited};
use std::cell::Cell;
use std::io;
use std::sync::Once;
use std::time::{Duration, Instant};
use windows_sys::Win32::Foundation::{EXCEPTION_ACCESS_VIOLATION, EXCEPTION_IN_PAGE_ERROR};
use windows_sys::Win32::System::Diagnostics::Debug::{
    AddVectoredExceptionHandler, EXCEPTION_CONTINUE_EXECUTION, EXCEPTION_CONTINUE_SEARCH,
    EXCEPTION_POINTERS,
};

// Windows x64 calling convention: arguments in rcx, rdx, r8, r9, the fifth
// at [rsp+40]; rax, rcx, rdx, r8-r11 are the caller's to lose. Each routine
// returns 1 in eax, or 0 from the exit after a fault.
std::arch::global_asm!(
    ".text",
    ".p2align 4",
    ".globl wasm_mmap_guard_begin",
    "wasm_mmap_guard_begin:",
    // bool copy(dst, src, n): memmove.
    ".globl wasm_mmap_guard_copy",
    "wasm_mmap_guard_copy:",
    "mov r10, rdi",
    "mov r11, rsi",
    "mov rdi, rcx",
    "mov rsi, rdx",
    "mov rcx, r8",
    // dst - src < n (unsigned): dst starts inside src's range, copy
    // backwards.
    "mov rax, rdi",
    "sub rax, rsi",
    "cmp rax, rcx",
    "jb 2f",
    "rep movsb",
    "jmp 3f",
    "2:",
    "lea rsi, [rsi + rcx - 1]",
    "lea rdi, [rdi + rcx - 1]",
    "std",
    "rep movsb",
    "cld",
    "3:",
    "mov rdi, r10",
    "mov rsi, r11",
    "mov eax, 1",
    "ret",
    // bool gather(dst, base, first, step, count): dst[k] = base[first + k*step].
    ".globl wasm_mmap_guard_gather",
    "wasm_mmap_guard_gather:",
    "mov r10, rdi",
    "mov r11, rsi",
    "mov rax, [rsp + 40]",
    "add rdx, r8",
    "4:",
    "test rax, rax",
    "jz 5f",
    "movzx r8d, byte ptr [rdx]",
    "mov byte ptr [rcx], r8b",
    "add rdx, r9",
    "inc rcx",
    "dec rax",
    "jmp 4b",
    "5:",
    "mov eax, 1",
    "ret",
    // bool scatter(base, src, first, step, count): base[first + k*step] = src[k].
    ".globl wasm_mmap_guard_scatter",
    "wasm_mmap_guard_scatter:",
    "mov r10, rdi",
    "mov r11, rsi",
    "mov rax, [rsp + 40]",
    "add rcx, r8",
    "6:",
    "test rax, rax",
    "jz 7f",
    "movzx r8d, byte ptr [rdx]",
    "mov byte ptr [rcx], r8b",
    "add rcx, r9",
    "inc rdx",
    "dec rax",
    "jmp 6b",
    "7:",
    "mov eax, 1",
    "ret",
    // bool atomic32(op, p, a, b, out): op 0 load, 1 store, 2 cas, 3 add;
    // *out = the loaded or previous value (0 for a store). xchg and the
    // locked instructions are sequentially consistent on x86.
    ".globl wasm_mmap_guard_atomic32",
    "wasm_mmap_guard_atomic32:",
    "mov r10, rdi",
    "mov r11, rsi",
    "cmp ecx, 1",
    "je 12f",
    "cmp ecx, 2",
    "je 13f",
    "cmp ecx, 3",
    "je 14f",
    "mov eax, dword ptr [rdx]",
    "jmp 15f",
    "12:",
    "xchg dword ptr [rdx], r8d",
    "xor eax, eax",
    "jmp 15f",
    "13:",
    "mov eax, r8d",
    "lock cmpxchg dword ptr [rdx], r9d",
    "jmp 15f",
    "14:",
    "lock xadd dword ptr [rdx], r8d",
    "mov eax, r8d",
    "15:",
    "mov rcx, [rsp + 40]",
    "mov dword ptr [rcx], eax",
    "mov eax, 1",
    "ret",
    // bool atomic64(op, p, a, b, out): as atomic32 on a u64.
    ".globl wasm_mmap_guard_atomic64",
    "wasm_mmap_guard_atomic64:",
    "mov r10, rdi",
    "mov r11, rsi",
    "cmp ecx, 1",
    "je 22f",
    "cmp ecx, 2",
    "je 23f",
    "cmp ecx, 3",
    "je 24f",
    "mov rax, qword ptr [rdx]",
    "jmp 25f",
    "22:",
    "xchg qword ptr [rdx], r8",
    "xor eax, eax",
    "jmp 25f",
    "23:",
    "mov rax, r8",
    "lock cmpxchg qword ptr [rdx], r9",
    "jmp 25f",
    "24:",
    "lock xadd qword ptr [rdx], r8",
    "mov rax, r8",
    "25:",
    "mov rcx, [rsp + 40]",
    "mov qword ptr [rcx], rax",
    "mov eax, 1",
    "ret",
    // The common exit after a fault (the handler resumes here).
    ".globl wasm_mmap_guard_fault",
    "wasm_mmap_guard_fault:",
    "cld",
    "mov rdi, r10",
    "mov rsi, r11",
    "xor eax, eax",
    "ret",
    ".globl wasm_mmap_guard_end",
    "wasm_mmap_guard_end:",
    "int3",
);

unsafe extern "C" {
    static wasm_mmap_guard_begin: u8;
    static wasm_mmap_guard_end: u8;
    fn wasm_mmap_guard_fault();
    fn wasm_mmap_guard_copy(dst: *mut u8, src: *const u8, n: usize) -> u32;
    fn wasm_mmap_guard_gather(
        dst: *mut u8,
        base: *const u8,
        first: isize,
        step: isize,
        count: usize,
    ) -> u32;
    fn wasm_mmap_guard_scatter(
        base: *mut u8,
        src: *const u8,
        first: isize,
        step: isize,
        count: usize,
    ) -> u32;
    fn wasm_mmap_guard_atomic32(op: u32, p: *mut u8, a: u32, b: u32, out: *mut u32) -> u32;
    fn wasm_mmap_guard_atomic64(op: u32, p: *mut u8, a: u64, b: u64, out: *mut u64) -> u32;
}

thread_local! {
    /// The two byte ranges `[start, end)` the current routine on this
    /// thread may touch (an empty range where there is one).
    static RANGES: Cell<[usize; 4]> = const { Cell::new([0; 4]) };
}

/// Records the ranges a routine is about to touch.
fn arm(a: *const u8, a_len: usize, b: *const u8, b_len: usize) {
    let (a, b) = (a as usize, b as usize);
    RANGES.set([a, a.saturating_add(a_len), b, b.saturating_add(b_len)]);
}

/// The span of `base[first + k*step]` for `k < count` (count > 0).
fn strided(base: *const u8, first: isize, step: isize, count: usize) -> (*const u8, usize) {
    let last = first.wrapping_add(step.wrapping_mul(count as isize - 1));
    let lo = base.wrapping_offset(first.min(last));
    (lo, first.abs_diff(last) + 1)
}

/// A page fault inside the routines above, on the bytes they were given,
/// resumes at their exit; every other exception is someone else's
/// (wasmtime's handler, Rust's stack overflow handler, the default crash).
unsafe extern "system" fn handler(info: *mut EXCEPTION_POINTERS) -> i32 {
    // SAFETY: Windows passes valid exception and context records.
    let (record, context) = unsafe { (&*(*info).ExceptionRecord, &mut *(*info).ContextRecord) };
    let code = record.ExceptionCode;
    if code != EXCEPTION_IN_PAGE_ERROR && code != EXCEPTION_ACCESS_VIOLATION {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    // Both codes carry the faulting data address as their second
    // parameter.
    if record.NumberParameters < 2 {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    let addr = record.ExceptionInformation[1];
    let [a, a_end, b, b_end] = RANGES.get();
    if !((a..a_end).contains(&addr) || (b..b_end).contains(&addr)) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    let (begin, end) = (
        &raw const wasm_mmap_guard_begin as u64,
        &raw const wasm_mmap_guard_end as u64,
    );
    if !(begin..end).contains(&context.Rip) {
        return EXCEPTION_CONTINUE_SEARCH;
    }
    context.Rip = wasm_mmap_guard_fault as *const () as u64;
    context.EFlags &= !0x400; // the direction flag
    EXCEPTION_CONTINUE_EXECUTION
}

/// Installs the handler once, first in the chain (before any crash
/// reporter), on the first guarded access.
fn install() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // SAFETY: `handler` lives for the process; the registration is
        // never removed.
        let h = unsafe { AddVectoredExceptionHandler(1, Some(handler)) };
        assert!(!h.is_null(), "AddVectoredExceptionHandler failed");
    });
}

/// `memmove(dst, src, n)`; false if a page of either range vanished.
///
/// # Safety
/// Both ranges must lie in live mappings (or owned memory) of `n` bytes.
pub unsafe fn copy(dst: *mut u8, src: *const u8, n: usize) -> bool {
    install();
    arm(dst, n, src, n);
    // SAFETY: the caller's contract; a fault returns 0.
    unsafe { wasm_mmap_guard_copy(dst, src, n) != 0 }
}

/// `dst[k] = base[first + k*step]` for `k < count`; false on a fault.
///
/// # Safety
/// Every index must lie in the mapping at `base`; `dst` holds `count`.
pub unsafe fn gather(
    dst: *mut u8,
    base: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    if count == 0 {
        return true;
    }
    install();
    let (lo, n) = strided(base, first, step, count);
    arm(dst, count, lo, n);
    // SAFETY: the caller's contract; a fault returns 0.
    unsafe { wasm_mmap_guard_gather(dst, base, first, step, count) != 0 }
}

/// `base[first + k*step] = src[k]` for `k < count`; false on a fault.
///
/// # Safety
/// Every index must lie in the writable mapping at `base`; `src` holds
/// `count` bytes.
pub unsafe fn scatter(
    base: *mut u8,
    src: *const u8,
    first: isize,
    step: isize,
    count: usize,
) -> bool {
    if count == 0 {
        return true;
    }
    install();
    let (lo, n) = strided(base, first, step, count);
    arm(lo, n, src, count);
    // SAFETY: the caller's contract; a fault returns 0.
    unsafe { wasm_mmap_guard_scatter(base, src, first, step, count) != 0 }
}

/// An atomic operation on the 4-aligned u32 at `p`; false on a fault.
///
/// # Safety
/// `p` must be 4-aligned inside a live mapping (writable for all but
/// loads).
pub unsafe fn atomic32(op: AtomicOp, p: *mut u8, a: u32, b: u32, out: &mut u32) -> bool {
    install();
    arm(p, 4, std::ptr::null(), 0);
    // SAFETY: the caller's contract; a fault returns 0.
    unsafe { wasm_mmap_guard_atomic32(op as u32, p, a, b, out) != 0 }
}

/// An atomic operation on the 8-aligned u64 at `p`; false on a fault.
///
/// # Safety
/// `p` must be 8-aligned inside a live mapping (writable for all but
/// loads).
pub unsafe fn atomic64(op: AtomicOp, p: *mut u8, a: u64, b: u64, out: &mut u64) -> bool {
    install();
    arm(p, 8, std::ptr::null(), 0);
    // SAFETY: the caller's contract; a fault returns 0.
    unsafe { wasm_mmap_guard_atomic64(op as u32, p, a, b, out) != 0 }
}

/// Re-checks the word every millisecond until it differs or `timeout`
/// (Windows' WaitOnAddress does not cross processes); a vanished page is
/// EFAULT, as the Linux futex answers.
///
/// # Safety
/// `p` must be 4-aligned inside a live mapping.
pub unsafe fn wait32(p: *mut u8, expected: u32, timeout: Duration) -> io::Result<Waited> {
    let load = || {
        let mut v = 0;
        // SAFETY: the caller's contract.
        if unsafe { atomic32(AtomicOp::Load, p, 0, 0, &mut v) } {
            Ok(v)
        } else {
            Err(crate::errno::efault_io())
        }
    };
    if load()? != expected {
        return Ok(Waited::Mismatch);
    }
    let deadline = Instant::now() + timeout;
    loop {
        std::thread::sleep(Duration::from_millis(1));
        if load()? != expected {
            return Ok(Waited::Woken);
        }
        if Instant::now() >= deadline {
            return Ok(Waited::TimedOut);
        }
    }
}
