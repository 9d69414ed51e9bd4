// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_preemption: a thread pinned to CPU 1 sleeps in read() on a pipe before
 * the main thread isolates there (STRICT, SIGUSR1); a thread on CPU 0 writes
 * to the pipe, waking the sleeper on CPU 1: isolation ends with cause
 * PREEMPTION and source_cpu 0 (the waker's CPU).
 */
#include "ti_common.h"

#define CPU 1
#define WAKER_CPU 0

static int g_pipe[2];
static atomic_int g_sleeper_tid, g_sleeper_done, g_isolated, g_waker_done;
static long g_read_rc = -1, g_write_rc = -1;
static int g_waker_cpu = -1;

static void* sleeper(void* arg) {
    (void)arg;
    char c;
    atomic_store(&g_sleeper_tid, (int)ti_gettid());
    g_read_rc = read(g_pipe[0], &c, 1);
    atomic_store(&g_sleeper_done, 1);
    return NULL;
}

static void* waker(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_isolated, 1, 20000)) {
        ti_sleep_ms(100);
        g_waker_cpu = sched_getcpu();
        g_write_rc = write(g_pipe[1], "x", 1);
    }
    atomic_store(&g_waker_done, 1);
    return NULL;
}

/* The thread's state letter from /proc/self/task/<tid>/stat, or '?'. */
static char task_state(int tid) {
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    if (ti_read_file(path, buf, sizeof buf) <= 0)
        return '?';
    const char* p = strrchr(buf, ')');
    return p && p[1] == ' ' ? p[2] : '?';
}

static void run(void* arg) {
    (void)arg;
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_need_online_cpu(WAKER_CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    if (pipe(g_pipe) != 0)
        ti_bail("pipe: %s", strerror(errno));
    pthread_t ts, tw;
    ti_thread(&ts, CPU, sleeper, NULL);
    ti_thread(&tw, WAKER_CPU, waker, NULL);
    if (!ti_wait_flag(&g_sleeper_tid, 1, 10000))
        ti_bail("the sleeper thread did not start");
    const int stid = atomic_load(&g_sleeper_tid);
    char st = '?';
    for (int i = 0; i < 500 && (st = task_state(stid)) != 'S'; i++)
        ti_sleep_ms(10);
    if (st != 'S')
        ti_bail("the sleeper thread %d is in state %c, not S (asleep in read)", stid, st);
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    atomic_store(&g_isolated, 1);
    const struct ti_outcome o = ti_await_break(SIGUSR1, 20000000000ULL);
    const int woke = ti_join(ts, &g_sleeper_done, 20000);
    ti_join(tw, &g_waker_done, 20000);
    ti_diag("waker on CPU %d: write returned %ld; sleeper %d read returned %ld", g_waker_cpu,
            g_write_rc, stid, g_read_rc);
    ti_diag_break("break record", &o.brk);

    ti_ok(g_write_rc == 1 && o.hits == 1,
          "waking a thread on CPU %d from CPU %d ended isolation with SIGUSR1 (%d)", CPU,
          g_waker_cpu, o.hits);
    ti_ok(o.brc >= 0 && o.brk.cause == TASK_ISOLATION_CAUSE_PREEMPTION &&
              o.brk.source_cpu == WAKER_CPU,
          "GET_BREAK: cause PREEMPTION (got %s), source_cpu %d (got %d)",
          ti_cause_name(o.brk.cause), WAKER_CPU, o.brk.source_cpu);
    ti_ok(o.brk.cpu == CPU && o.flags_after == 0 && woke && g_read_rc == 1,
          "GET_BREAK: cpu %d (got %d); isolation ended (flags %ld); the sleeper ran (read %ld)",
          CPU, o.brk.cpu, o.flags_after, g_read_rc);
}

int main(void) {
    ti_init(3);
    ti_case("preemption", 3, 90, run, NULL);
    return ti_done();
}
