/*
 * Fault-guarded copies for memory another process can shrink under us.
 *
 * When a file is truncated while mapped, touching a page past its new end
 * raises SIGBUS; so does a write to a hole of a sparse file when the disk
 * is full. Each routine here arms a per-thread jump buffer, copies, and
 * disarms it. The SIGBUS handler jumps back to the armed routine, which
 * returns 1 instead of letting the signal kill the process.
 *
 * Why this is sound from Rust: siglongjmp only unwinds the frame of the C
 * routine that called sigsetjmp (the copy itself runs in that frame or in
 * libc's memcpy), so no Rust frame, destructor or borrow is ever skipped.
 * No Rust reference to the mapped memory exists; Rust passes raw pointers.
 * The handler is installed with SA_NODEFER so SIGBUS is not left blocked
 * after the jump, which lets sigsetjmp skip saving the signal mask (no
 * syscall per copy). A SIGBUS outside an armed copy is handed to the
 * handler that was there before (Rust's, or the default: the process dies
 * as it should for a host bug).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static struct sigaction wmm_prev;
static __thread sigjmp_buf *volatile wmm_armed;

#define BARRIER() __asm__ __volatile__("" ::: "memory")

static void wmm_on_sigbus(int sig, siginfo_t *info, void *uctx) {
    sigjmp_buf *jb = wmm_armed;
    if (jb != NULL) {
        wmm_armed = NULL;
        siglongjmp(*jb, 1);
    }
    if (wmm_prev.sa_flags & SA_SIGINFO) {
        wmm_prev.sa_sigaction(sig, info, uctx);
    } else if (wmm_prev.sa_handler == SIG_DFL || wmm_prev.sa_handler == SIG_IGN) {
        /* Restore the default and return: the access faults again and the
           process dies of SIGBUS, as it would have without us. */
        signal(SIGBUS, SIG_DFL);
    } else {
        wmm_prev.sa_handler(sig);
    }
}

int wmm_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = wmm_on_sigbus;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(SIGBUS, &sa, &wmm_prev);
}

#define GUARDED(body)                \
    sigjmp_buf jb;                   \
    if (sigsetjmp(jb, 0) != 0) {     \
        BARRIER();                   \
        return 1;                    \
    }                                \
    wmm_armed = &jb;                 \
    BARRIER();                       \
    body;                            \
    BARRIER();                       \
    wmm_armed = NULL;                \
    return 0;

/* memmove(dst, src, n); 1 if a page faulted. */
int wmm_copy(void *dst, const void *src, size_t n) {
    GUARDED(memmove(dst, src, n))
}

/* dst[k] = base[first + k*step] for k < count. */
int wmm_gather(uint8_t *dst, const volatile uint8_t *base, ptrdiff_t first, ptrdiff_t step, size_t count) {
    GUARDED(for (size_t k = 0; k < count; k++) dst[k] = base[first + (ptrdiff_t)k * step])
}

/* base[first + k*step] = src[k] for k < count. */
int wmm_scatter(volatile uint8_t *base, const uint8_t *src, ptrdiff_t first, ptrdiff_t step, size_t count) {
    GUARDED(for (size_t k = 0; k < count; k++) base[first + (ptrdiff_t)k * step] = src[k])
}

/* Atomic operations on a mapped word, fault-guarded like the copies.
   op: 0 load, 1 store a, 2 compare-exchange (a expected, b new), 3 add a.
   *out receives the loaded / previous value. */
int wmm_atomic32(int op, uint32_t *p, uint32_t a, uint32_t b, uint32_t *out) {
    GUARDED(switch (op) {
        case 0: *out = __atomic_load_n(p, __ATOMIC_SEQ_CST); break;
        case 1: __atomic_store_n(p, a, __ATOMIC_SEQ_CST); break;
        case 2: { uint32_t e = a; __atomic_compare_exchange_n(p, &e, b, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); *out = e; break; }
        default: *out = __atomic_fetch_add(p, a, __ATOMIC_SEQ_CST); break;
    })
}

int wmm_atomic64(int op, uint64_t *p, uint64_t a, uint64_t b, uint64_t *out) {
    GUARDED(switch (op) {
        case 0: *out = __atomic_load_n(p, __ATOMIC_SEQ_CST); break;
        case 1: __atomic_store_n(p, a, __ATOMIC_SEQ_CST); break;
        case 2: { uint64_t e = a; __atomic_compare_exchange_n(p, &e, b, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); *out = e; break; }
        default: *out = __atomic_fetch_add(p, a, __ATOMIC_SEQ_CST); break;
    })
}
