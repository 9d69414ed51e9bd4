// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_einval: PR_SET_TASK_ISOLATION refuses with EINVAL unless the caller is
 * pinned to exactly one nohz_full, domain-isolated CPU, and refuses unknown
 * flag bits; the same call pinned to isolated CPU 1 succeeds (control).
 */
#include "ti_common.h"

static const unsigned kFlags = PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_ONESHOT;

static void case_present(void* arg) {
    (void)arg;
    long r = ti_get();
    ti_ok(r == 0, "PR_GET_TASK_ISOLATION answers 0 in a task that never isolated (got %ld%s%s)", r,
          r < 0 ? ": " : "", r < 0 ? strerror((int)-r) : "");
}

/* Affinity = every online CPU, as a fresh process has. */
static void case_unpinned(void* arg) {
    (void)arg;
    cpu_set_t all;
    CPU_ZERO(&all);
    int n = 0;
    for (int c = 0; c < CPU_SETSIZE && c < 64; c++)
        if (ti_cpu_online(c)) {
            CPU_SET(c, &all);
            n++;
        }
    if (sched_setaffinity(0, sizeof all, &all) != 0)
        ti_bail("sched_setaffinity(all %d online CPUs): %s", n, strerror(errno));
    long r = ti_set(kFlags);
    ti_ok(r == -EINVAL, "unpinned (allowed on all %d online CPUs): EINVAL (got %ld: %s)", n, r,
          r ? strerror((int)-r) : "success");
    long g = ti_get();
    ti_ok(g == 0, "not isolated after the refusal: PR_GET_TASK_ISOLATION = %ld", g);
}

static void case_housekeeping(void* arg) {
    (void)arg;
    ti_pin_self(0);
    long r = ti_set(kFlags);
    ti_ok(r == -EINVAL, "pinned to housekeeping CPU 0: EINVAL (got %ld: %s)", r,
          r ? strerror((int)-r) : "success");
}

static void case_two_cpus(void* arg) {
    (void)arg;
    ti_need_isolated_cpu(1);
    ti_need_isolated_cpu(2);
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(1, &set);
    CPU_SET(2, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        ti_bail("sched_setaffinity({1,2}): %s", strerror(errno));
    long r = ti_set(kFlags);
    ti_ok(r == -EINVAL, "pinned to two isolated CPUs {1,2}: EINVAL (got %ld: %s)", r,
          r ? strerror((int)-r) : "success");
}

static void case_bad_flags(void* arg) {
    (void)arg;
    ti_need_isolated_cpu(1);
    ti_pin_self(1);
    static const unsigned bad[] = {1U << 3, 1U << 7, 1U << 15, 1U << 20, 1U << 31};
    int all = 1;
    char got[256] = "";
    size_t len = 0;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long r = ti_set(kFlags | bad[i]);
        if (r != -EINVAL) {
            all = 0;
            /* it may have isolated us: leave before anything else */
            ti_set(0);
        }
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%#x->%ld", i ? " " : "",
                                kFlags | bad[i], r);
        if (len >= sizeof got)
            len = sizeof got - 1;
    }
    ti_ok(all, "pinned to CPU 1, unknown flag bits 3, 7, 15, 20, 31: EINVAL each (%s)", got);
}

static void case_control(void* arg) {
    (void)arg;
    ti_need_isolated_cpu(1);
    ti_pin_self(1);
    ti_lock_memory();
    int eagains = 0;
    long r = ti_isolate(kFlags, 50, &eagains);
    long flags = r == 0 ? ti_get() : -1; /* prctl 49: allowed, keeps isolation */
    long end = syscall(SYS_getppid);     /* ONESHOT: this ends it, no signal */
    (void)end;
    long after = ti_get();
    ti_ok(r == 0,
          "control: pinned to isolated CPU 1, prctl(ENABLE|ONESHOT) succeeds (got %ld%s%s, "
          "%d EAGAIN retries)",
          r, r ? ": " : "", r ? strerror((int)-r) : "", eagains);
    ti_ok(r == 0 && flags == (long)kFlags && after == 0,
          "control: flags %ld (want %u) while isolated, %ld after the ONESHOT syscall", flags,
          kFlags, after);
}

int main(void) {
    ti_init(8);
    ti_case("abi present", 1, 20, case_present, NULL);
    ti_case("unpinned", 2, 20, case_unpinned, NULL);
    ti_case("housekeeping CPU 0", 1, 20, case_housekeeping, NULL);
    ti_case("two CPUs", 1, 20, case_two_cpus, NULL);
    ti_case("unknown flags", 1, 20, case_bad_flags, NULL);
    ti_case("control", 2, 30, case_control, NULL);
    return ti_done();
}
