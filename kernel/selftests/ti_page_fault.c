// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_page_fault: in STRICT mode, touching a fresh (never touched, so not
 * populated) anonymous page faults: isolation ends with cause PAGE_FAULT,
 * fault_address the touched address, and the chosen signal. A breakpoint
 * exception ends it with cause EXCEPTION: on x86_64 int3 (#BP), vector 3;
 * on arm64 brk, vector 0x3c (the ESR exception class BRK64).
 */
#include "ti_common.h"

#include <ucontext.h>

#if defined(__x86_64__)
#define TRAP_NAME "int3"
#define TRAP_VECTOR 3U
static inline void ti_trap(void) {
    __asm__ __volatile__("int3" ::: "memory"); /* #BP: a trap, returns after it */
}
#elif defined(__aarch64__)
#define TRAP_NAME "brk"
#define TRAP_VECTOR 0x3cU /* ESR_ELx_EC_BRK64 */
static inline void ti_trap(void) {
    __asm__ __volatile__("brk #0x7" ::: "memory"); /* the handler steps over it */
}
/* SIGTRAP from brk returns to the brk itself: step over the instruction. */
static void on_brk(int sig, siginfo_t* si, void* ctx) {
    ((ucontext_t*)ctx)->uc_mcontext.pc += 4;
    ti_on_signal(sig, si, ctx);
}
#endif

#define CPU 1
#define OFFSET 0x48 /* not page-aligned, so an aligned report is caught */

static void case_fault(void* arg) {
    (void)arg;
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    ti_lock_memory(); /* MCL_CURRENT only: the mapping below stays unpopulated */
    const long page = sysconf(_SC_PAGESIZE);
    char* p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        ti_bail("mmap: %s", strerror(errno));
    volatile char* target = p + OFFSET;
    ti_isolate_or_bail(flags);

    *target = 42; /* the page fault */
    const struct ti_outcome o = ti_await_break(SIGUSR1, 2000000000ULL);
    ti_diag("touched %p (page %p)", (void*)target, (void*)p);
    ti_diag_break("break record", &o.brk);

    ti_ok(o.hits == 1, "SIGUSR1 delivered after the first touch of a fresh page (%d)", o.hits);
    ti_ok(o.brc >= 0 && o.brk.cause == TASK_ISOLATION_CAUSE_PAGE_FAULT &&
              o.brk.fault_address == (uint64_t)(uintptr_t)target,
          "GET_BREAK: cause PAGE_FAULT (got %s), fault_address %p (got %#llx%s)",
          ti_cause_name(o.brk.cause), (void*)target, (unsigned long long)o.brk.fault_address,
          o.brk.fault_address == (uint64_t)(uintptr_t)p ? ", the page start" : "");
    ti_ok(o.brk.cpu == CPU && o.brk.count == 1, "GET_BREAK: cpu %d (got %d), count 1 (got %llu)",
          CPU, o.brk.cpu, (unsigned long long)o.brk.count);
    ti_ok(*target == 42 && o.flags_after == 0,
          "the write landed (%d) and isolation ended (flags %ld)", *target, o.flags_after);
    munmap(p, (size_t)page);
}

static void case_exception(void* arg) {
    (void)arg;
#if defined(TRAP_NAME)
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    ti_catch(SIGTRAP);
#if defined(__aarch64__)
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_brk;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGTRAP, &sa, NULL) != 0)
        ti_bail("sigaction(SIGTRAP): %s", strerror(errno));
#endif
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    ti_trap();
    ti_spin_for_signal(SIGUSR1, 2000000000ULL);
    const int usr1 = ti_hits(SIGUSR1), trap = ti_hits(SIGTRAP);
    const long flags_after = ti_get();
    struct ti_break brk;
    const long brc = ti_get_break(&brk);
    if (flags_after > 0)
        ti_set(0);
    ti_diag_break("break record", &brk);
    ti_ok(usr1 == 1 && trap == 1, TRAP_NAME ": SIGTRAP (%d) and the STRICT SIGUSR1 (%d) delivered",
          trap, usr1);
    ti_ok(brc >= 0 && brk.cause == TASK_ISOLATION_CAUSE_EXCEPTION && brk.vector == TRAP_VECTOR,
          "GET_BREAK: cause EXCEPTION (got %s), vector %#x (" TRAP_NAME " trap; got %#x)",
          ti_cause_name(brk.cause), TRAP_VECTOR, brk.vector);
    ti_ok(brk.cpu == CPU && flags_after == 0,
          "GET_BREAK: cpu %d (got %d); isolation ended (flags %ld)", CPU, brk.cpu, flags_after);
#else
    ti_point(1, "x86_64 and arm64 only", "breakpoint: SIGTRAP and the STRICT signal");
    ti_point(1, "x86_64 and arm64 only", "GET_BREAK: cause EXCEPTION");
    ti_point(1, "x86_64 and arm64 only", "GET_BREAK: cpu");
#endif
}

int main(void) {
    ti_init(7);
    ti_case("page fault", 4, 60, case_fault, NULL);
    ti_case("exception", 3, 60, case_exception, NULL);
    return ti_done();
}
