// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_eagain: the quiesce is bounded. With another runnable thread pinned to
 * CPU 1 (spinning) the tick cannot stop, so PR_SET_TASK_ISOLATION fails with
 * EAGAIN within a bounded time, the task is not isolated, and quiesce_eagain
 * in /proc/<pid>/task/<tid>/task_isolation goes up by one. Once the spinner
 * has exited, the same call succeeds (control).
 */
#include "ti_common.h"

#define CPU 1
#define BOUND_MS 10000 /* generous: TCG, and the CPU is shared with the spinner */

static atomic_int g_spinning, g_stop, g_spinner_done;

static void* spinner(void* arg) {
    (void)arg;
    atomic_store(&g_spinning, 1);
    const uint64_t end = ti_now_ns() + 120000000000ULL;
    while (!atomic_load(&g_stop) && ti_now_ns() < end)
        ;
    atomic_store(&g_spinner_done, 1);
    return NULL;
}

static long long eagain_count(void) {
    char buf[1024];
    if (ti_read_task_isolation(getpid(), ti_gettid(), buf, sizeof buf) <= 0)
        return -1;
    return ti_kv(buf, "quiesce_eagain");
}

static void run(void* arg) {
    (void)arg;
    const unsigned flags = PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_ONESHOT;
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    pthread_t t;
    ti_thread(&t, CPU, spinner, NULL);
    if (!ti_wait_flag(&g_spinning, 1, 10000))
        ti_bail("the spinner thread did not start");
    ti_sleep_ms(50);
    ti_lock_memory();
    const long long before = eagain_count();
    const uint64_t t0 = ti_now_ns();
    const long r = ti_set(flags);
    const uint64_t t1 = ti_now_ns();
    const long after_flags = ti_get();
    if (after_flags > 0)
        ti_set(0);
    const long long after = eagain_count();
    atomic_store(&g_stop, 1);
    const int joined = ti_join(t, &g_spinner_done, 20000);
    const double ms = (double)(t1 - t0) / 1e6;
    ti_diag("prctl returned %ld (%s) after %.1f ms; quiesce_eagain %lld -> %lld", r,
            r ? strerror((int)-r) : "success", ms, before, after);

    ti_ok(r == -EAGAIN,
          "another runnable thread on CPU %d: prctl(ENABLE|ONESHOT) fails with EAGAIN (got "
          "%ld: %s)",
          CPU, r, r ? strerror((int)-r) : "success");
    ti_ok(r == -EAGAIN && ms < BOUND_MS,
          "the quiesce is bounded: the refusal came after %.1f ms (< %d)", ms, BOUND_MS);
    ti_ok(after_flags == 0, "not isolated after the refusal (flags %ld)", after_flags);
    ti_ok(before >= 0 && after == before + 1, "quiesce_eagain went up by one (%lld -> %lld)",
          before, after);

    int eagains = 0;
    long c = -1;
    if (joined) {
        c = ti_isolate(flags, 100, &eagains);
        syscall(SYS_getppid); /* ONESHOT: ends it */
        if (ti_get() > 0)
            ti_set(0);
    }
    ti_ok(joined && c == 0,
          "control: with the spinner gone the same call succeeds (rc %ld after %d EAGAIN)", c,
          eagains);
}

int main(void) {
    ti_init(5);
    ti_case("eagain", 5, 120, run, NULL);
    return ti_done();
}
