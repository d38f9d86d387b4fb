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
#include <stdatomic.h>
#include <sys/mman.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static struct sigaction wmm_prev;
static __thread sigjmp_buf *volatile wmm_armed;

#define BARRIER() __asm__ __volatile__("" ::: "memory")

/*
 * Windows: ranges of a guest's linear memory where a file is mapped
 * (see `windows.rs` at the crate root). A page of such a range vanishes
 * when another process shortens the file; the guest's own loads, the
 * runtime's memory.copy and the host's lifting of arguments all touch it
 * in native code. The handlers below replace the vanished page by an
 * anonymous one (mmap is async-signal-safe) and record it in the
 * window's slot:
 * (and every page after it in the window: a shortened file loses a suffix)
 *   policy ZERO: zero pages; the access is retried and reads zeros.
 *   policy TRAP: inaccessible pages; the retried access faults again,
 *   with SIGSEGV. From wasm code, wasmtime's handler (installed after
 *   ours) turns that into a trap of the guest. From host code wasmtime
 *   passes it on to us: we put a zero page there, mark the slot PENDING
 *   and bump an epoch the host checks at the guest's next call, which
 *   traps the guest then.
 * The slot table is fixed-size and lock-free; the handlers only read it.
 */
#define WMM_SLOTS 4096
#define WMM_FREE 0u
#define WMM_CLAIMED 1u
#define WMM_ACTIVE 2u
#define WMM_REPLACED 1u
#define WMM_TRAPPED 2u
#define WMM_PENDING 4u

struct wmm_slot {
    _Atomic uintptr_t start, end;
    _Atomic unsigned state, policy, flags;
    /* Bumped before and after the slot is (re)filled: odd while it
       changes, so a handler that read a torn range sees the change. */
    _Atomic unsigned gen;
};
static struct wmm_slot wmm_slots[WMM_SLOTS];
static _Atomic size_t wmm_high;
static _Atomic unsigned long long wmm_epoch;
static _Atomic uintptr_t wmm_pagesize = 4096;
static struct sigaction wmm_prev_segv;

/* The active slot holding address a (its range in *end), or NULL. */
static struct wmm_slot *wmm_find(uintptr_t a, uintptr_t *end) {
    size_t n = atomic_load(&wmm_high);
    for (size_t i = 0; i < n && i < WMM_SLOTS; i++) {
        struct wmm_slot *s = &wmm_slots[i];
        unsigned g = atomic_load(&s->gen);
        if ((g & 1u) || atomic_load(&s->state) != WMM_ACTIVE)
            continue;
        uintptr_t lo = atomic_load(&s->start), hi = atomic_load(&s->end);
        if (lo <= a && a < hi && atomic_load(&s->gen) == g) {
            *end = hi;
            return s;
        }
    }
    return NULL;
}

/* Replaces [page of a, end) by anonymous memory. A shortened file loses a
   suffix, so every page from the faulting one to the window's end is gone
   too: one mapping for all of them keeps the kernel's mapping count
   bounded (one fault, at most one more mapping per window). NORESERVE as
   the guest memory's reservation, so the ranges merge again later. */
static int wmm_replace_from(uintptr_t a, uintptr_t end, int prot) {
    uintptr_t ps = atomic_load(&wmm_pagesize);
    uintptr_t page = a & ~(ps - 1);
    return mmap((void *)page, end - page, prot,
                MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

static void wmm_chain(struct sigaction *prev, int sig, siginfo_t *info, void *uctx) {
    if (prev->sa_flags & SA_SIGINFO) {
        prev->sa_sigaction(sig, info, uctx);
    } else if (prev->sa_handler == SIG_DFL || prev->sa_handler == SIG_IGN) {
        /* Restore the default and return: the access faults again and the
           process dies of the signal, as it would have without us. */
        signal(sig, SIG_DFL);
    } else {
        prev->sa_handler(sig);
    }
}

static void wmm_on_sigbus(int sig, siginfo_t *info, void *uctx) {
    sigjmp_buf *jb = wmm_armed;
    if (jb != NULL) {
        wmm_armed = NULL;
        siglongjmp(*jb, 1);
    }
    uintptr_t a = (uintptr_t)info->si_addr, end = 0;
    struct wmm_slot *s = wmm_find(a, &end);
    if (s != NULL) {
        int trap = atomic_load(&s->policy) == 0;
        if (wmm_replace_from(a, end, trap ? PROT_NONE : PROT_READ | PROT_WRITE)) {
            atomic_fetch_or(&s->flags, WMM_REPLACED | (trap ? WMM_TRAPPED : 0u));
            return;
        }
    }
    wmm_chain(&wmm_prev, sig, info, uctx);
}

static void wmm_on_sigsegv(int sig, siginfo_t *info, void *uctx) {
    uintptr_t a = (uintptr_t)info->si_addr, end = 0;
    struct wmm_slot *s = wmm_find(a, &end);
    if (s != NULL && (atomic_load(&s->flags) & WMM_TRAPPED) &&
        wmm_replace_from(a, end, PROT_READ | PROT_WRITE)) {
        atomic_fetch_or(&s->flags, WMM_PENDING);
        atomic_fetch_add(&wmm_epoch, 1);
        return;
    }
    wmm_chain(&wmm_prev_segv, sig, info, uctx);
}

/* Installs `handler` for `sig`, saving the previous action in `prev`. */
static int wmm_sigaction(int sig, void (*handler)(int, siginfo_t *, void *), struct sigaction *prev) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, prev);
}

int wmm_install(void) {
    return wmm_sigaction(SIGBUS, wmm_on_sigbus, &wmm_prev);
}

/* The SIGSEGV half of the window handlers. Installed before wasmtime's
   (before the first Engine), so wasmtime sees every fault first and hands
   us only those it does not own. */
int wmm_install_segv(uintptr_t pagesize) {
    atomic_store(&wmm_pagesize, pagesize);
    return wmm_sigaction(SIGSEGV, wmm_on_sigsegv, &wmm_prev_segv);
}

/* Registers [start, end) under a policy (0 trap, 1 zero): the slot index,
   or -1 when the table is full. */
int wmm_slot_claim(uintptr_t start, uintptr_t end, unsigned policy) {
    for (size_t i = 0; i < WMM_SLOTS; i++) {
        unsigned expect = WMM_FREE;
        struct wmm_slot *s = &wmm_slots[i];
        if (atomic_compare_exchange_strong(&s->state, &expect, WMM_CLAIMED)) {
            atomic_fetch_add(&s->gen, 1u);
            atomic_store(&s->start, start);
            atomic_store(&s->end, end);
            atomic_store(&s->policy, policy);
            atomic_store(&s->flags, 0u);
            atomic_fetch_add(&s->gen, 1u);
            size_t high = atomic_load(&wmm_high);
            while (high < i + 1 && !atomic_compare_exchange_weak(&wmm_high, &high, i + 1)) {
            }
            atomic_store(&s->state, WMM_ACTIVE);
            return (int)i;
        }
    }
    return -1;
}

unsigned wmm_slot_flags(int i) {
    return (i >= 0 && i < WMM_SLOTS) ? atomic_load(&wmm_slots[i].flags) : 0u;
}

void wmm_slot_release(int i) {
    if (i >= 0 && i < WMM_SLOTS) atomic_store(&wmm_slots[i].state, WMM_FREE);
}

unsigned long long wmm_pending_epoch(void) {
    return atomic_load(&wmm_epoch);
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
