// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_quiet_loop: the tick-free proof. A thread pinned to CPU 1 busy-loops for
 * S seconds (default 10; argv[1] or TI_QUIET_SECONDS) reading only the CPU
 * counter, once without and once with prctl(ENABLE|STRICT|SET_SIG(SIGUSR1)),
 * while a thread on CPU 0 reads CPU 1's local-timer count from
 * /proc/interrupts before and after. Isolated: zero local-timer interrupts,
 * no signal, no break recorded, PR_GET_TASK_ISOLATION still returns the flags
 * afterwards. Prints, for kernel/README.md:
 * "# tick-free: cpu=1 seconds=S loc_without=A loc_with=B maxgap_without_us=X maxgap_with_us=Y"
 */
#include "ti_common.h"

#define CPU 1
#define HELPER_CPU 0

enum { V_LOC, V_TOTAL, V_GAP_NS, V_ELAPSED_MS, V_DONE, V_PER_RUN };

static int g_seconds = 10;
static const unsigned kFlags = TI_ISO_STRICT_SIG(SIGUSR1);

static atomic_int g_ready, g_go, g_done, g_helper_done;
static struct ti_irqs g_before, g_after;
static int g_rc_before = -1, g_rc_after = -1;

static void* helper(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_ready, 1, 60000)) {
        g_rc_before = ti_read_irqs(CPU, &g_before);
        atomic_store(&g_go, 1);
        if (ti_wait_flag(&g_done, 1, (long)g_seconds * 1000 + 60000))
            g_rc_after = ti_read_irqs(CPU, &g_after);
    }
    atomic_store(&g_helper_done, 1);
    return NULL;
}

static void run(void* arg) {
    const int with = *(int*)arg;
    long long* v = &ti_sh->val[with ? V_PER_RUN : 0];
    ti_need_isolated_cpu(CPU);
    ti_need_online_cpu(HELPER_CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    pthread_t t;
    ti_thread(&t, HELPER_CPU, helper, NULL);
    ti_lock_memory();
    if (with)
        ti_isolate_or_bail(kFlags);

    /* From here to the end of the loop: no system call but prctl 49. */
    atomic_store(&g_ready, 1);
    const uint64_t wait_limit = ti_ns_to_cycles(60ULL * 1000000000ULL);
    const uint64_t w0 = ti_cycles();
    while (!atomic_load(&g_go) && ti_cycles() - w0 < wait_limit)
        ;
    const int go = atomic_load(&g_go);
    struct ti_spin_res res;
    ti_spin((uint64_t)g_seconds * 1000000000ULL, 1, NULL, &res);
    atomic_store(&g_done, 1);
    const int sigs_loop = ti_hits(SIGUSR1);
    long flags = ti_get();
    const int sigs_get = ti_hits(SIGUSR1); /* prctl 49 must not have broken it */
    struct ti_break brk;
    long brc = ti_get_break(&brk);
    if (with)
        ti_set(0); /* leave quietly (prctl 48 does not break isolation) */
    /* end of the quiet part */

    const int joined = ti_join(t, &g_helper_done, (long)g_seconds * 1000 + 90000);
    if (!go)
        ti_bail("the CPU %d helper never read /proc/interrupts", HELPER_CPU);
    if (!joined || g_rc_before || g_rc_after)
        ti_bail("reading CPU %d's local-timer count from /proc/interrupts failed (%s/%s)", CPU,
                g_rc_before ? strerror(-g_rc_before) : "ok",
                g_rc_after ? strerror(-g_rc_after) : "ok");
    const long long loc = g_after.loc - g_before.loc;
    const long long total = g_after.total - g_before.total;
    const double secs = ti_cycles_to_us(res.elapsed_cycles) / 1e6;
    v[V_LOC] = loc;
    v[V_TOTAL] = total;
    v[V_GAP_NS] = (long long)(ti_cycles_to_us(res.max_gap_cycles) * 1000.0);
    v[V_ELAPSED_MS] = (long long)(secs * 1000.0);
    v[V_DONE] = 1;
    ti_diag(
        "%s: loop %.2f s, %llu iterations, max gap %.1f us; CPU %d: %lld local-timer, "
        "%lld interrupts in all",
        with ? "isolated" : "not isolated", secs, (unsigned long long)res.iterations,
        ti_cycles_to_us(res.max_gap_cycles), CPU, loc, total);

    if (!with) {
        ti_ok(!res.stopped && sigs_loop == 0,
              "without prctl: %d s busy loop on CPU %d ran to the end (%lld local-timer "
              "interrupts)",
              g_seconds, CPU, loc);
        return;
    }
    ti_diag_break("break record after the loop", &brk);
    ti_ok(1, "prctl(PR_SET_TASK_ISOLATION, %#x) pinned to CPU %d succeeded", kFlags, CPU);
    ti_ok(loc == 0, "isolated: zero local-timer interrupts on CPU %d in %.1f s (got %lld)", CPU,
          secs, loc);
    ti_ok(!res.stopped && sigs_loop == 0 && sigs_get == 0,
          "isolated: no SIGUSR1 during the loop (%d) or from prctl 49 (%d), loop ran the full "
          "%d s",
          sigs_loop, sigs_get - sigs_loop, g_seconds);
    ti_ok(brc >= 0 && brk.count == 0 && brk.cause == TASK_ISOLATION_CAUSE_NONE,
          "isolated: no break recorded (GET_BREAK rc %ld, count %llu, cause %s)", brc,
          (unsigned long long)brk.count, ti_cause_name(brk.cause));
    ti_ok(flags == (long)kFlags,
          "PR_GET_TASK_ISOLATION after the loop returns the flags %#x "
          "(got %#lx)",
          kFlags, flags);
}

int main(int argc, char** argv) {
    const char* s = argc > 1 ? argv[1] : getenv("TI_QUIET_SECONDS");
    if (s && atoi(s) > 0)
        g_seconds = atoi(s);
    ti_init(6);
    static int without = 0, with = 1;
    const int limit = g_seconds + 120;
    ti_case("quiet loop without prctl", 1, limit, run, &without);
    ti_case("quiet loop isolated", 5, limit, run, &with);
    const long long *a = &ti_sh->val[0], *b = &ti_sh->val[V_PER_RUN];
    char la[32] = "NA", lb[32] = "NA", ga[32] = "NA", gb[32] = "NA";
    if (a[V_DONE]) {
        snprintf(la, sizeof la, "%lld", a[V_LOC]);
        snprintf(ga, sizeof ga, "%.1f", (double)a[V_GAP_NS] / 1000.0);
    }
    if (b[V_DONE]) {
        snprintf(lb, sizeof lb, "%lld", b[V_LOC]);
        snprintf(gb, sizeof gb, "%.1f", (double)b[V_GAP_NS] / 1000.0);
    }
    ti_diag(
        "tick-free: cpu=%d seconds=%d loc_without=%s loc_with=%s maxgap_without_us=%s "
        "maxgap_with_us=%s",
        CPU, g_seconds, la, lb, ga, gb);
    return ti_done();
}
