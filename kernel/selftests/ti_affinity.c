// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_affinity: while the main thread is isolated on CPU 1 (STRICT, SIGUSR1),
 * a thread on CPU 0 calls sched_setaffinity(its tid, {1,2}): isolation ends
 * with cause AFFINITY, even though CPU 1 stays allowed (no migration).
 */
#include "ti_common.h"

#define CPU 1
#define HELPER_CPU 0

static atomic_int g_isolated, g_done;
static pid_t g_target;
static long g_rc = -2;
static int g_errno, g_helper_cpu = -1;

static void* helper(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_isolated, 1, 20000)) {
        ti_sleep_ms(100);
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(1, &set);
        CPU_SET(2, &set);
        g_helper_cpu = sched_getcpu();
        g_rc = sched_setaffinity(g_target, sizeof set, &set);
        g_errno = g_rc ? errno : 0;
    }
    atomic_store(&g_done, 1);
    return NULL;
}

static void run(void* arg) {
    (void)arg;
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_need_online_cpu(HELPER_CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    g_target = ti_gettid();
    pthread_t t;
    ti_thread(&t, HELPER_CPU, helper, NULL);
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    atomic_store(&g_isolated, 1);
    const struct ti_outcome o = ti_await_break(SIGUSR1, 20000000000ULL);
    const int cpu_now = sched_getcpu();
    ti_join(t, &g_done, 20000);
    ti_diag("helper on CPU %d: sched_setaffinity(%d, {1,2}) returned %ld%s%s; now on CPU %d",
            g_helper_cpu, (int)g_target, g_rc, g_rc ? ": " : "", g_rc ? strerror(g_errno) : "",
            cpu_now);
    ti_diag_break("break record", &o.brk);

    ti_ok(g_rc == 0 && o.hits == 1,
          "sched_setaffinity from CPU %d ended isolation with SIGUSR1 (%d)", g_helper_cpu, o.hits);
    ti_ok(o.brc >= 0 && o.brk.cause == TASK_ISOLATION_CAUSE_AFFINITY,
          "GET_BREAK: cause AFFINITY (got %s)", ti_cause_name(o.brk.cause));
    ti_ok(o.brk.cpu == CPU && o.brk.count == 1 && o.flags_after == 0,
          "GET_BREAK: cpu %d (got %d), count 1 (got %llu); isolation ended (flags %ld)", CPU,
          o.brk.cpu, (unsigned long long)o.brk.count, o.flags_after);
}

int main(void) {
    ti_init(3);
    ti_case("affinity", 3, 90, run, NULL);
    return ti_done();
}
