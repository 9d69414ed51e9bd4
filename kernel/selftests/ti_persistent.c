// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_persistent: ENABLE alone (persistent mode) survives system calls: after
 * 1000 getppid calls the task is still isolated (flags), no signal came, and
 * during a 2 s busy loop right after them CPU 1 takes zero local-timer
 * interrupts (the kernel re-quiesced on each return). prctl(48, 0) leaves.
 */
#include "ti_common.h"

#define CPU 1
#define HELPER_CPU 0
#define NCALLS 1000
#define LOOP_S 2

static atomic_int g_calls_done, g_go, g_done, g_helper_done;
static struct ti_irqs g_before, g_after;
static int g_rc_before = -1, g_rc_after = -1;

static void* helper(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_calls_done, 1, 120000)) {
        g_rc_before = ti_read_irqs(CPU, &g_before);
        atomic_store(&g_go, 1);
        if (ti_wait_flag(&g_done, 1, (LOOP_S + 60) * 1000L))
            g_rc_after = ti_read_irqs(CPU, &g_after);
    }
    atomic_store(&g_helper_done, 1);
    return NULL;
}

static void run(void* arg) {
    (void)arg;
    const unsigned flags = PR_TASK_ISOLATION_ENABLE;
    ti_need_isolated_cpu(CPU);
    ti_need_online_cpu(HELPER_CPU);
    ti_pin_self(CPU);
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGSEGV && s != SIGBUS &&
            s != SIGILL && s != SIGFPE && s != SIGTRAP)
            ti_catch(s);
    const long expect_ppid = getppid();
    pthread_t t;
    ti_thread(&t, HELPER_CPU, helper, NULL);
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    const long at_start = ti_get();
    int wrong = 0;
    const uint64_t c0 = ti_cycles();
    for (int i = 0; i < NCALLS; i++)
        if (syscall(SYS_getppid) != expect_ppid)
            wrong++;
    const uint64_t c1 = ti_cycles();
    const long after_calls = ti_get();
    const int sigs_calls = atomic_load(&ti_sig_total);
    atomic_store(&g_calls_done, 1);
    const uint64_t wait_limit = ti_ns_to_cycles(120ULL * 1000000000ULL);
    while (!atomic_load(&g_go) && ti_cycles() - c1 < wait_limit)
        ;
    struct ti_spin_res res;
    ti_spin(LOOP_S * 1000000000ULL, 1, NULL, &res);
    atomic_store(&g_done, 1);
    const long after_loop = ti_get();
    const int sigs = atomic_load(&ti_sig_total);
    char proc[1024];
    const long plen = ti_read_task_isolation(getpid(), ti_gettid(), proc, sizeof proc);
    const long leave = ti_set(0);
    const long after_leave = ti_get();
    struct ti_break brk;
    ti_get_break(&brk);

    const int joined = ti_join(t, &g_helper_done, (LOOP_S + 120) * 1000L);
    const long long loc = g_after.loc - g_before.loc;
    ti_diag(
        "%d getppid calls took %.1f us each; loop %.2f s, max gap %.1f us; CPU %d: %lld "
        "local-timer, %lld interrupts in all during the loop",
        NCALLS, ti_cycles_to_us(c1 - c0) / NCALLS, ti_cycles_to_us(res.elapsed_cycles) / 1e6,
        ti_cycles_to_us(res.max_gap_cycles), CPU, loc, g_after.total - g_before.total);
    if (plen > 0) {
        char state[32] = "?";
        ti_kv_str(proc, "state", state, sizeof state);
        ti_diag(
            "task_isolation while persistent after the loop: state %s, breaks %lld, "
            "breaks_syscall %lld",
            state, ti_kv(proc, "breaks"), ti_kv(proc, "breaks_syscall"));
    }
    ti_diag_break("break record at the end", &brk);

    ti_ok(at_start == (long)flags, "isolated with ENABLE only: flags %#x (got %#lx)", flags,
          at_start);
    ti_ok(wrong == 0 && sigs_calls == 0,
          "%d getppid calls while isolated: %d wrong results, %d signals", NCALLS, wrong,
          sigs_calls);
    ti_ok(after_calls == (long)flags && after_loop == (long)flags && sigs == 0,
          "still isolated after the calls (%#lx) and after the %d s loop (%#lx), no signal (%d)",
          after_calls, LOOP_S, after_loop, sigs);
    ti_ok(joined && !g_rc_before && !g_rc_after && loc == 0 && !res.stopped,
          "zero local-timer interrupts on CPU %d in the %d s loop after the calls (got %lld%s)",
          CPU, LOOP_S, loc, (g_rc_before || g_rc_after) ? "; /proc/interrupts unreadable" : "");
    ti_ok(leave == 0 && after_leave == 0,
          "prctl(PR_SET_TASK_ISOLATION, 0) leaves (rc %ld); flags then %ld", leave, after_leave);
}

int main(void) {
    ti_init(5);
    ti_case("persistent", 5, 240, run, NULL);
    return ti_done();
}
