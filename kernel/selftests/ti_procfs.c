// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_procfs: /proc/<pid>/task/<tid>/task_isolation has its 14 keys in order;
 * it says "off" with zero counts before, "isolated" with the flags and signal
 * while isolated (read from CPU 0), and counts the breaks made: one SYSCALL
 * break, then one PAGE_FAULT break.
 */
#include "ti_common.h"

#define CPU 1
#define HELPER_CPU 0

static pid_t g_pid, g_tid;
static atomic_int g_isolated, g_read_done, g_helper_done;
static char g_during[1024];
static long g_during_len = -1;

static void* helper(void* arg) {
    (void)arg;
    if (ti_wait_flag(&g_isolated, 1, 20000)) {
        ti_sleep_ms(50);
        g_during_len = ti_read_task_isolation(g_pid, g_tid, g_during, sizeof g_during);
        atomic_store(&g_read_done, 1);
    }
    atomic_store(&g_helper_done, 1);
    return NULL;
}

/* Whether text has exactly the keys, in order; describes the first problem. */
static int keys_in_order(const char* text, char* why, size_t cap) {
    const char* p = text;
    int i = 0;
    snprintf(why, cap, "ok");
    while (*p) {
        const char* nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > 0) {
            if (i >= TI_PROC_NKEYS) {
                snprintf(why, cap, "extra line %d: %.*s", i + 1, (int)len, p);
                return 0;
            }
            size_t k = strlen(ti_proc_keys[i]);
            if (len <= k || strncmp(p, ti_proc_keys[i], k) != 0 || p[k] != ':') {
                snprintf(why, cap, "line %d is \"%.*s\", want \"%s: ...\"", i + 1, (int)len, p,
                         ti_proc_keys[i]);
                return 0;
            }
            i++;
        }
        p = nl ? nl + 1 : p + len;
    }
    if (i != TI_PROC_NKEYS) {
        snprintf(why, cap, "%d keys, want %d", i, TI_PROC_NKEYS);
        return 0;
    }
    return 1;
}

/* The breaks_* counts other than the named ones are all zero. */
static int other_breaks_zero(const char* text, const char* a, const char* b) {
    for (int i = 4; i < 13; i++) {
        const char* k = ti_proc_keys[i];
        if ((a && !strcmp(k, a)) || (b && !strcmp(k, b)))
            continue;
        if (ti_kv(text, k) != 0)
            return 0;
    }
    return 1;
}

static long long sum_breaks(const char* text) {
    long long s = 0;
    for (int i = 4; i < 13; i++)
        s += ti_kv(text, ti_proc_keys[i]);
    return s;
}

static void read_self(char* buf, size_t cap, const char* when) {
    long n = ti_read_task_isolation(g_pid, g_tid, buf, cap);
    if (n < 0)
        ti_bail("/proc/%d/task/%d/task_isolation %s: %s", (int)g_pid, (int)g_tid, when,
                strerror((int)-n));
}

static void state_of(const char* text, char* out, size_t cap) {
    if (!ti_kv_str(text, "state", out, cap))
        snprintf(out, cap, "(missing)");
}

static void run(void* arg) {
    (void)arg;
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    char before[1024], after1[1024], after2[1024], why[256], st[32];
    ti_need_isolated_cpu(CPU);
    ti_need_online_cpu(HELPER_CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    g_pid = getpid();
    g_tid = ti_gettid();

    read_self(before, sizeof before, "before isolating");
    ti_diag("before: %s", before);
    const int ordered = keys_in_order(before, why, sizeof why);
    ti_ok(ordered, "the file has the %d keys in order (%s)", TI_PROC_NKEYS, why);
    state_of(before, st, sizeof st);
    ti_ok(!strcmp(st, "off") && ti_kv(before, "flags") == 0 && ti_kv(before, "breaks") == 0 &&
              other_breaks_zero(before, NULL, NULL),
          "before isolating: state off (got %s), flags 0 (got %lld), breaks 0 (got %lld), "
          "every breaks_* 0",
          st, ti_kv(before, "flags"), ti_kv(before, "breaks"));

    pthread_t t;
    ti_thread(&t, HELPER_CPU, helper, NULL);
    ti_lock_memory();
    const long page = sysconf(_SC_PAGESIZE);
    volatile char* fresh =
        mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (fresh == MAP_FAILED)
        ti_bail("mmap: %s", strerror(errno));

    /* break 1: a syscall, after CPU 0 has read the file */
    ti_isolate_or_bail(flags);
    atomic_store(&g_isolated, 1);
    const uint64_t limit = ti_ns_to_cycles(20000000000ULL), c0 = ti_cycles();
    while (!atomic_load(&g_read_done) && ti_cycles() - c0 < limit)
        ;
    const int sig_while_read = ti_hits(SIGUSR1);
    syscall(SYS_getppid);
    ti_spin_for_signal(SIGUSR1, 2000000000ULL);
    const int hits1 = ti_hits(SIGUSR1);
    if (ti_get() > 0)
        ti_set(0);
    read_self(after1, sizeof after1, "after the syscall break");

    /* break 2: a page fault */
    ti_isolate_or_bail(flags);
    *fresh = 1;
    ti_spin_for_signal(SIGUSR1, 2000000000ULL);
    const int hits2 = ti_hits(SIGUSR1);
    if (ti_get() > 0)
        ti_set(0);
    struct ti_break brk;
    ti_get_break(&brk);
    read_self(after2, sizeof after2, "after the page-fault break");
    ti_join(t, &g_helper_done, 20000);

    char dst[32] = "(unread)";
    if (g_during_len > 0) {
        ti_diag("while isolated: %s", g_during);
        state_of(g_during, dst, sizeof dst);
    }
    ti_diag("after the syscall break: %s", after1);
    ti_diag("after the page-fault break: %s", after2);
    ti_ok(g_during_len > 0 && !strcmp(dst, "isolated") &&
              ti_kv(g_during, "flags") == (long long)flags &&
              ti_kv(g_during, "signal") == SIGUSR1 && sig_while_read == 0,
          "while isolated, read from CPU %d: state isolated (got %s), flags %#x (got %#llx), "
          "signal %d (got %lld)",
          HELPER_CPU, dst, flags, g_during_len > 0 ? ti_kv(g_during, "flags") : -1LL, SIGUSR1,
          g_during_len > 0 ? ti_kv(g_during, "signal") : -1LL);
    state_of(after1, st, sizeof st);
    ti_ok(hits1 == 1 && !strcmp(st, "off") && ti_kv(after1, "breaks") == 1 &&
              ti_kv(after1, "breaks_syscall") == 1 &&
              other_breaks_zero(after1, "breaks_syscall", NULL),
          "after a syscall break: state off (got %s), breaks 1 (got %lld), breaks_syscall 1 "
          "(got %lld), other breaks_* 0",
          st, ti_kv(after1, "breaks"), ti_kv(after1, "breaks_syscall"));
    state_of(after2, st, sizeof st);
    ti_ok(hits2 == 2 && !strcmp(st, "off") && ti_kv(after2, "breaks") == 2 &&
              ti_kv(after2, "breaks_syscall") == 1 && ti_kv(after2, "breaks_page_fault") == 1 &&
              other_breaks_zero(after2, "breaks_syscall", "breaks_page_fault") &&
              sum_breaks(after2) == 2,
          "after a page-fault break too: breaks 2 (got %lld) = breaks_syscall 1 (got %lld) + "
          "breaks_page_fault 1 (got %lld), others 0",
          ti_kv(after2, "breaks"), ti_kv(after2, "breaks_syscall"),
          ti_kv(after2, "breaks_page_fault"));
    ti_ok(brk.count == 2 && brk.cause == TASK_ISOLATION_CAUSE_PAGE_FAULT,
          "GET_BREAK agrees: count 2 (got %llu), last cause PAGE_FAULT (got %s)",
          (unsigned long long)brk.count, ti_cause_name(brk.cause));
}

int main(void) {
    ti_init(6);
    ti_case("procfs", 6, 90, run, NULL);
    return ti_done();
}
