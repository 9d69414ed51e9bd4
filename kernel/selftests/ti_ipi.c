// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_ipi: an IPI from another CPU ends STRICT isolation with cause IPI and
 * source_cpu = the sending CPU: (a) a sibling thread on CPU 2 (0 when 2 is
 * offline) runs membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), registered
 * before isolating; (b) the sibling munmaps a page the isolated thread has
 * touched (x86: TLB shootdown IPI to every CPU running the mm; skipped on
 * arm64, which flushes remote TLBs by broadcast TLBI without an IPI).
 */
#include <linux/membarrier.h>

#include "ti_common.h"

#define CPU 1

enum action { DO_MEMBARRIER, DO_MUNMAP };

static int g_sibling_cpu;
static enum action g_action;
static char* g_page;
static long g_page_size;
static atomic_int g_isolated, g_done;
static long g_rc;
static int g_errno, g_ran_on = -1;

static void* sibling(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_isolated, 1, 20000)) {
        ti_sleep_ms(100); /* let the isolated thread get back to its loop */
        g_ran_on = sched_getcpu();
        if (g_action == DO_MEMBARRIER)
            g_rc = syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
        else
            g_rc = munmap(g_page, (size_t)g_page_size);
        g_errno = g_rc ? errno : 0;
    } else {
        g_rc = -2;
    }
    atomic_store(&g_done, 1);
    return NULL;
}

static void run(void* arg) {
    g_action = *(enum action*)arg;
    const char* what = g_action == DO_MEMBARRIER ? "membarrier(PRIVATE_EXPEDITED)" : "munmap";
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    g_sibling_cpu = ti_cpu_online(2) ? 2 : 0;
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    if (g_action == DO_MEMBARRIER) {
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) != 0)
            ti_bail("membarrier(REGISTER_PRIVATE_EXPEDITED): %s", strerror(errno));
    } else {
        g_page_size = sysconf(_SC_PAGESIZE);
        g_page = mmap(NULL, (size_t)g_page_size, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (g_page == MAP_FAILED)
            ti_bail("mmap: %s", strerror(errno));
        g_page[0] = 1; /* touched by the thread that isolates */
    }
    pthread_t t;
    ti_thread(&t, g_sibling_cpu, sibling, NULL);
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    atomic_store(&g_isolated, 1);
    const struct ti_outcome o = ti_await_break(SIGUSR1, 20000000000ULL);
    const int joined = ti_join(t, &g_done, 30000);
    ti_diag("sibling on CPU %d: %s returned %ld%s%s", g_ran_on, what, g_rc, g_rc ? ": " : "",
            g_rc ? strerror(g_errno) : "");
    ti_diag_break("break record", &o.brk);

    ti_ok(joined && g_rc == 0 && o.hits == 1,
          "%s from CPU %d (rc %ld) ended isolation with SIGUSR1 (%d)", what, g_ran_on, g_rc,
          o.hits);
    ti_ok(o.brc >= 0 && o.brk.cause == TASK_ISOLATION_CAUSE_IPI && o.brk.source_cpu == g_ran_on,
          "GET_BREAK: cause IPI (got %s), source_cpu %d (got %d)", ti_cause_name(o.brk.cause),
          g_ran_on, o.brk.source_cpu);
    ti_ok(o.brk.cpu == CPU && o.brk.count == 1 && o.flags_after == 0,
          "GET_BREAK: cpu %d (got %d), count 1 (got %llu); isolation ended (flags %ld)", CPU,
          o.brk.cpu, (unsigned long long)o.brk.count, o.flags_after);
}

int main(void) {
    ti_init(6);
    static enum action mb = DO_MEMBARRIER, um = DO_MUNMAP;
    ti_case("membarrier IPI", 3, 90, run, &mb);
#if defined(__x86_64__) || defined(__i386__)
    ti_case("munmap TLB shootdown IPI", 3, 90, run, &um);
#else
    (void)um;
    /* arm64 invalidates other CPUs' TLBs with broadcast TLBI: no IPI to catch */
    for (int i = 0; i < 3; i++)
        ti_point(1, "x86 only: arm64 flushes remote TLBs by broadcast TLBI, no IPI",
                 "munmap TLB shootdown IPI, point %d of 3", i + 1);
#endif
    return ti_done();
}
