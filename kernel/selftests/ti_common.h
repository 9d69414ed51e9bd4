/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * ti_common.h: shared code of the task-isolation selftests (kernel/selftests).
 *
 * Each ti_* program is one C file that includes this header (everything here
 * is static inline, so no library). It prints TAP version 13 on stdout:
 * "TAP version 13", "1..N", then "ok K - ..." / "not ok K - ..." lines and
 * "# ..." diagnostics; it exits 0 iff no point failed.
 *
 * Test cases run in forked children (ti_case) so isolation state, pinning,
 * signal handlers and mlockall never leak from one case to the next. A child
 * reports its points itself (numbers come from a shared page); if it dies,
 * hangs (killed after the case's time limit) or bails out, the parent prints
 * the points it did not reach as "not ok" with the reason. No wait is
 * unbounded: a kernel without the patch, or a broken one, gives "not ok",
 * never a hang.
 *
 * Rules for code that runs while a thread is isolated (STRICT): no system
 * call other than prctl 48/49, no page fault (ti_lock_memory() first, then
 * touch nothing new), no stdio; spin on ti_cycles() (the CPU's counter, never
 * clock_gettime: under TCG the vDSO may fall back to a system call) and on
 * C11 atomics that other threads set. Other threads of the process must not
 * munmap/mprotect while a sibling is isolated (TLB shootdown IPIs) unless
 * that is the point of the test.
 */
#ifndef QC_TI_COMMON_H
#define QC_TI_COMMON_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- the ABI under test (DESIGN.md "Kernel ABI"); the guest build uses the
 * host's headers, which do not have it ---- */
#ifndef PR_SET_TASK_ISOLATION
#define PR_SET_TASK_ISOLATION 48
#endif
#ifndef PR_GET_TASK_ISOLATION
#define PR_GET_TASK_ISOLATION 49
#endif
#ifndef PR_TASK_ISOLATION_GET_BREAK
#define PR_TASK_ISOLATION_GET_BREAK 1
#endif
#ifndef PR_TASK_ISOLATION_ENABLE
#define PR_TASK_ISOLATION_ENABLE (1U << 0)
#endif
#ifndef PR_TASK_ISOLATION_STRICT
#define PR_TASK_ISOLATION_STRICT (1U << 1)
#endif
#ifndef PR_TASK_ISOLATION_ONESHOT
#define PR_TASK_ISOLATION_ONESHOT (1U << 2)
#endif
#ifndef PR_TASK_ISOLATION_SET_SIG
#define PR_TASK_ISOLATION_SET_SIG(s) ((((unsigned)(s)) & 0x7fU) << 8)
#endif
#ifndef PR_TASK_ISOLATION_GET_SIG
#define PR_TASK_ISOLATION_GET_SIG(f) ((int)(((f) >> 8) & 0x7f))
#endif

#ifndef TASK_ISOLATION_CAUSE_NONE
#define TASK_ISOLATION_CAUSE_NONE 0
#define TASK_ISOLATION_CAUSE_SYSCALL 1
#define TASK_ISOLATION_CAUSE_PAGE_FAULT 2
#define TASK_ISOLATION_CAUSE_EXCEPTION 3
#define TASK_ISOLATION_CAUSE_IRQ 4
#define TASK_ISOLATION_CAUSE_IPI 5
#define TASK_ISOLATION_CAUSE_SIGNAL 6
#define TASK_ISOLATION_CAUSE_PREEMPTION 7
#define TASK_ISOLATION_CAUSE_MIGRATION 8
#define TASK_ISOLATION_CAUSE_AFFINITY 9
#endif

#define TI_ISO_STRICT_SIG(sig) \
    (PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_STRICT | PR_TASK_ISOLATION_SET_SIG(sig))

/* struct task_isolation_break, our own copy (56 bytes, fixed-size fields). */
struct ti_break {
    uint32_t size;
    uint32_t cause;
    int32_t cpu;
    int32_t syscall_nr;
    uint64_t fault_address;
    uint32_t irq;
    uint32_t vector;
    int32_t source_cpu;
    int32_t signal;
    uint64_t timestamp_ns;
    uint64_t count;
};
_Static_assert(sizeof(struct ti_break) == 56, "struct task_isolation_break is 56 bytes");

static inline const char* ti_cause_name(uint32_t cause) {
    static const char* const names[] = {
        "NONE", "SYSCALL", "PAGE_FAULT", "EXCEPTION", "IRQ",
        "IPI",  "SIGNAL",  "PREEMPTION", "MIGRATION", "AFFINITY",
    };
    return cause < sizeof(names) / sizeof(names[0]) ? names[cause] : "?";
}

/* ---- TAP ---- */

#define TI_MAX_VALS 32

/* One shared page: the children of ti_case() report through it. */
struct ti_shared {
    atomic_int next;            /* number of the next test point */
    atomic_int failed;          /* a "not ok" was printed */
    char reason[512];           /* why the running case bailed out */
    long long val[TI_MAX_VALS]; /* values a case hands back to main() */
};

static struct ti_shared* ti_sh;
static int ti_planned;
static int ti_abi_present; /* the kernel answers PR_GET_TASK_ISOLATION */
static int ti_abi_errno;
/* TI_FORCE=1: run the cases even without the ABI; 2: also on CPUs that are
 * not nohz_full/isolated (to exercise the programs on a stock host) */
static int ti_force;
static double ti_cyc_per_ns; /* ti_cycles() ticks per nanosecond */

static inline void ti_vdiag(const char* fmt, va_list ap) {
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    /* one "# " per line, whatever the text holds */
    char* line = buf;
    for (;;) {
        char* nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        printf("# %s\n", line);
        if (!nl || !nl[1])
            break;
        line = nl + 1;
    }
    fflush(stdout);
}

__attribute__((format(printf, 1, 2))) static inline void ti_diag(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ti_vdiag(fmt, ap);
    va_end(ap);
}

/* A test point: ok/not ok; skip != NULL makes it "ok K - text # SKIP skip". */
__attribute__((format(printf, 3, 4))) static inline int ti_point(int ok, const char* skip,
                                                                 const char* fmt, ...) {
    char text[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (char* p = text; *p; p++)
        if (*p == '\n' || *p == '#')
            *p = (*p == '#') ? '+' : ' ';
    int n = atomic_fetch_add(&ti_sh->next, 1);
    if (skip)
        printf("ok %d - %s # SKIP %s\n", n, text, skip);
    else
        printf("%sok %d - %s\n", ok ? "" : "not ", n, text);
    fflush(stdout);
    if (!ok && !skip)
        atomic_store(&ti_sh->failed, 1);
    return ok;
}

#define ti_ok(cond, ...) ti_point(!!(cond), NULL, __VA_ARGS__)

/*
 * Ends the current case child: the points it has not printed yet are
 * printed by the parent as "not ok ... not reached: <reason>".
 */
__attribute__((format(printf, 1, 2), noreturn)) static inline void ti_bail(const char* fmt, ...) {
    char why[sizeof ti_sh->reason];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap); /* the arguments may point into reason */
    va_end(ap);
    memcpy(ti_sh->reason, why, sizeof why);
    ti_diag("bail out of this case: %s", why);
    fflush(stdout);
    _exit(3);
}

/* ---- time and counters ---- */

static inline uint64_t ti_now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void ti_sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The CPU's free-running counter, read without entering the kernel. */
static inline uint64_t ti_cycles(void) {
#if defined(__x86_64__) || defined(__i386__)
    return __builtin_ia32_rdtsc();
#elif defined(__aarch64__)
    uint64_t v;
    __asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v)::"memory");
    return v;
#else
    return ti_now_ns();
#endif
}

static inline void ti_calibrate(void) {
#if defined(__aarch64__)
    uint64_t frq;
    __asm__ __volatile__("mrs %0, cntfrq_el0" : "=r"(frq));
    if (frq) {
        ti_cyc_per_ns = (double)frq / 1e9;
        return;
    }
#endif
    uint64_t t0 = ti_now_ns(), c0 = ti_cycles();
    ti_sleep_ms(100);
    uint64_t t1 = ti_now_ns(), c1 = ti_cycles();
    ti_cyc_per_ns = (t1 > t0 && c1 > c0) ? (double)(c1 - c0) / (double)(t1 - t0) : 1.0;
}

static inline uint64_t ti_ns_to_cycles(uint64_t ns) {
    return (uint64_t)((double)ns * ti_cyc_per_ns);
}

static inline double ti_cycles_to_us(uint64_t c) {
    return (double)c / ti_cyc_per_ns / 1000.0;
}

/* ---- signals: handlers record what arrived and the break record ---- */

struct ti_sigrec {
    atomic_int hits;
    int code;              /* si_code of the last one */
    int sender;            /* si_pid of the last one */
    long flags_in_handler; /* PR_GET_TASK_ISOLATION in the handler */
    long brk_rc;           /* PR_TASK_ISOLATION_GET_BREAK in the handler */
    struct ti_break brk;
};

static struct ti_sigrec ti_sigs[65];
static atomic_int ti_sig_total;

static inline long ti_prctl(long option, unsigned long a2, unsigned long a3, unsigned long a4) {
    long r = syscall(SYS_prctl, option, a2, a3, a4, 0UL);
    return r < 0 ? -errno : r;
}

/* PR_SET_TASK_ISOLATION: 0 or -errno. */
static inline long ti_set(unsigned flags) {
    return ti_prctl(PR_SET_TASK_ISOLATION, flags, 0, 0);
}

/* PR_GET_TASK_ISOLATION: flags or -errno. */
static inline long ti_get(void) {
    return ti_prctl(PR_GET_TASK_ISOLATION, 0, 0, 0);
}

/* PR_TASK_ISOLATION_GET_BREAK into *b: 0 (or >= 0) or -errno. */
static inline long ti_get_break(struct ti_break* b) {
    memset(b, 0, sizeof *b);
    return ti_prctl(PR_GET_TASK_ISOLATION, PR_TASK_ISOLATION_GET_BREAK, (unsigned long)b,
                    sizeof *b);
}

__attribute__((unused)) static void ti_on_signal(int sig, siginfo_t* si, void* ctx) {
    (void)ctx;
    int saved = errno;
    if (sig > 0 && sig < 65) {
        struct ti_sigrec* r = &ti_sigs[sig];
        r->code = si ? si->si_code : 0;
        r->sender = si ? si->si_pid : 0;
        /* prctl 49 is allowed while isolated; by now isolation ended */
        r->flags_in_handler = ti_get();
        r->brk_rc = ti_get_break(&r->brk);
        atomic_fetch_add(&r->hits, 1);
    }
    atomic_fetch_add(&ti_sig_total, 1);
    errno = saved;
}

static inline void ti_catch(int sig) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = ti_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(sig, &sa, NULL) != 0)
        ti_bail("sigaction(%d): %s", sig, strerror(errno));
}

static inline int ti_hits(int sig) {
    return atomic_load(&ti_sigs[sig].hits);
}

static inline void ti_diag_break(const char* what, const struct ti_break* b) {
    ti_diag(
        "%s: size=%u cause=%s(%u) cpu=%d syscall_nr=%d fault_address=%#llx irq=%u "
        "vector=%u source_cpu=%d signal=%d timestamp_ns=%llu count=%llu",
        what, b->size, ti_cause_name(b->cause), b->cause, b->cpu, b->syscall_nr,
        (unsigned long long)b->fault_address, b->irq, b->vector, b->source_cpu, b->signal,
        (unsigned long long)b->timestamp_ns, (unsigned long long)b->count);
}

/* ---- spinning while isolated: no system calls ---- */

struct ti_spin_res {
    uint64_t elapsed_cycles;
    uint64_t max_gap_cycles;
    uint64_t iterations;
    int stopped; /* 1: a signal arrived or *stop was set before the end */
};

/*
 * Busy loop of `ns` nanoseconds reading only the counter; ends early when a
 * signal handler ran (stop_on_signal) or *stop (may be NULL) becomes nonzero.
 */
static inline void ti_spin(uint64_t ns, int stop_on_signal, atomic_int* stop,
                           struct ti_spin_res* res) {
    const int sig0 = atomic_load(&ti_sig_total);
    const uint64_t limit = ti_ns_to_cycles(ns);
    const uint64_t start = ti_cycles();
    uint64_t prev = start, max_gap = 0, iters = 0, now = start;
    int stopped = 0;
    for (;;) {
        now = ti_cycles();
        uint64_t gap = now - prev;
        if (gap > max_gap)
            max_gap = gap;
        prev = now;
        iters++;
        if (now - start >= limit)
            break;
        if (stop_on_signal && atomic_load_explicit(&ti_sig_total, memory_order_relaxed) != sig0) {
            stopped = 1;
            break;
        }
        if (stop && atomic_load_explicit(stop, memory_order_relaxed)) {
            stopped = 1;
            break;
        }
    }
    if (res) {
        res->elapsed_cycles = now - start;
        res->max_gap_cycles = max_gap;
        res->iterations = iters;
        res->stopped = stopped;
    }
}

/* Spins (no system calls) until signal `sig` has been handled or ns passed. */
static inline int ti_spin_for_signal(int sig, uint64_t ns) {
    const uint64_t limit = ti_ns_to_cycles(ns);
    const uint64_t start = ti_cycles();
    while (ti_cycles() - start < limit)
        if (atomic_load(&ti_sigs[sig].hits) > 0)
            return 1;
    return atomic_load(&ti_sigs[sig].hits) > 0;
}

/* What a test asserts on after a break: the signal's hits, the flags and the
 * break record read afterwards (prctl 49 only). */
struct ti_outcome {
    int hits;
    long flags_after;
    long brc; /* ti_get_break()'s return */
    struct ti_break brk;
};

/* On the isolated thread once the break is under way: waits up to `ns` for
 * `sig`, reads the outcome, and leaves isolation if it is still on. */
static inline struct ti_outcome ti_await_break(int sig, uint64_t ns) {
    struct ti_outcome o;
    ti_spin_for_signal(sig, ns);
    o.hits = ti_hits(sig);
    o.flags_after = ti_get();
    o.brc = ti_get_break(&o.brk);
    if (o.flags_after > 0)
        ti_set(0);
    return o;
}

/* For threads that are not isolated: waits until *f >= want, polling. */
static inline int ti_wait_flag(atomic_int* f, int want, long timeout_ms) {
    uint64_t end = ti_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
    while (atomic_load(f) < want) {
        if (ti_now_ns() >= end)
            return 0;
        ti_sleep_ms(1);
    }
    return 1;
}

/* ---- processes ---- */

static inline pid_t ti_gettid(void) {
    return (pid_t)syscall(SYS_gettid);
}

/* 1 and *status when pid ended within timeout_ms, 0 on timeout, -1 error. */
static inline int ti_waitpid_timeout(pid_t pid, long timeout_ms, int* status) {
    uint64_t end = ti_now_ns() + (uint64_t)timeout_ms * 1000000ULL;
    for (;;) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
        if (ti_now_ns() >= end)
            return 0;
        ti_sleep_ms(5);
    }
}

static inline void ti_describe_status(int status, char* buf, size_t cap) {
    if (WIFEXITED(status))
        snprintf(buf, cap, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, cap, "killed by signal %d (%s)", WTERMSIG(status),
                 strsignal(WTERMSIG(status)));
    else
        snprintf(buf, cap, "wait status %#x", status);
}

/* ---- CPUs ---- */

/* Whether `cpu` is in the cpulist file (e.g. "1-3,5"): 1, 0, or -1 unreadable. */
static inline int ti_cpu_in_list_file(const char* path, int cpu) {
    char buf[512];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    char* p = buf;
    while (*p) {
        while (*p == ',' || isspace((unsigned char)*p))
            p++;
        if (!isdigit((unsigned char)*p))
            break;
        long a = strtol(p, &p, 10), b = a;
        if (*p == '-')
            b = strtol(p + 1, &p, 10);
        if (cpu >= a && cpu <= b)
            return 1;
    }
    return 0;
}

static inline void ti_read_small(const char* path, char* buf, size_t cap) {
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(buf, cap, "(%s)", strerror(errno));
        return;
    }
    ssize_t n = read(fd, buf, cap - 1);
    close(fd);
    buf[n > 0 ? n : 0] = '\0';
    char* nl = strchr(buf, '\n');
    if (nl)
        *nl = '\0';
}

static inline int ti_cpu_online(int cpu) {
    return ti_cpu_in_list_file("/sys/devices/system/cpu/online", cpu) == 1;
}

/* Bails out unless cpu is online, nohz_full and domain-isolated. */
static inline void ti_need_isolated_cpu(int cpu) {
    if (!ti_cpu_online(cpu))
        ti_bail("CPU %d is not online (the guest runs -smp 4)", cpu);
    if (ti_force >= 2)
        return;
    if (ti_cpu_in_list_file("/sys/devices/system/cpu/nohz_full", cpu) != 1)
        ti_bail("CPU %d is not in /sys/devices/system/cpu/nohz_full (want nohz_full=1-3)", cpu);
    if (ti_cpu_in_list_file("/sys/devices/system/cpu/isolated", cpu) != 1)
        ti_bail(
            "CPU %d is not in /sys/devices/system/cpu/isolated (want "
            "isolcpus=nohz,domain,managed_irq,1-3)",
            cpu);
}

static inline void ti_need_online_cpu(int cpu) {
    if (!ti_cpu_online(cpu))
        ti_bail("CPU %d is not online (the guest runs -smp 4)", cpu);
}

/* Pins thread tid (0: the caller) to one CPU: 0 or -errno. */
static inline int ti_pin_tid(pid_t tid, int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return sched_setaffinity(tid, sizeof set, &set) == 0 ? 0 : -errno;
}

/* Pins the calling thread to cpu and checks it runs there; bails otherwise. */
static inline void ti_pin_self(int cpu) {
    int r = ti_pin_tid(0, cpu);
    if (r)
        ti_bail("sched_setaffinity(self, {%d}): %s", cpu, strerror(-r));
    sched_yield();
    if (sched_getcpu() != cpu)
        ti_bail("pinned to CPU %d but running on CPU %d", cpu, sched_getcpu());
}

/* Creates a thread pinned to cpu (-1: inherit) with a small stack. */
static inline void ti_thread(pthread_t* t, int cpu, void* (*fn)(void*), void* arg) {
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setstacksize(&a, 256 * 1024);
    if (cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(cpu, &set);
        pthread_attr_setaffinity_np(&a, sizeof set, &set);
    }
    int r = pthread_create(t, &a, fn, arg);
    pthread_attr_destroy(&a);
    if (r)
        ti_bail("pthread_create (CPU %d): %s", cpu, strerror(r));
}

/* Waits for a thread that set *done, at most timeout_ms; 1 if joined. */
static inline int ti_join(pthread_t t, atomic_int* done, long timeout_ms) {
    if (!ti_wait_flag(done, 1, timeout_ms))
        return 0;
    pthread_join(t, NULL);
    return 1;
}

/*
 * So that the isolated thread never page-faults: touch stack below us, then
 * lock (and so populate) every current mapping. MCL_CURRENT only, so a later
 * mmap stays unpopulated (the page-fault test needs that).
 */
__attribute__((noinline, unused)) static void ti_touch_stack(void) {
    volatile char buf[256 * 1024];
    for (size_t i = 0; i < sizeof buf; i += 512)
        buf[i] = 1;
    __asm__ __volatile__("" ::"r"(buf) : "memory");
}

static inline void ti_lock_memory(void) {
    ti_touch_stack();
    /*
     * The shared report page is written while isolated. A forked child maps
     * it on its first access; mlockall() maps it with a read fault, clean.
     * Without hardware dirty-bit management (arm64 under QEMU's TCG) the
     * first write to a clean page is a permission fault, a page-fault break:
     * write it now (an atomic add of 0 is a write that changes nothing).
     */
    if (ti_sh)
        atomic_fetch_add(&ti_sh->failed, 0);
    if (mlockall(MCL_CURRENT) != 0)
        ti_diag(
            "mlockall(MCL_CURRENT): %s (continuing; a page fault may break "
            "isolation)",
            strerror(errno));
}

/* ---- entering isolation ---- */

/*
 * prctl(PR_SET_TASK_ISOLATION, flags), retried on EAGAIN (the tick may take a
 * moment to stop) up to `tries` times, 20 ms apart. 0 or -errno.
 */
static inline long ti_isolate(unsigned flags, int tries, int* eagains) {
    long r = -EAGAIN;
    if (eagains)
        *eagains = 0;
    for (int i = 0; i < tries; i++) {
        r = ti_set(flags);
        if (r != -EAGAIN)
            return r;
        if (eagains)
            ++*eagains;
        ti_sleep_ms(20);
    }
    return r;
}

/* ti_isolate or bail out, naming the CPU and flags. */
static inline void ti_isolate_or_bail(unsigned flags) {
    int eagains = 0;
    long r = ti_isolate(flags, 50, &eagains);
    if (r)
        ti_bail("prctl(PR_SET_TASK_ISOLATION, %#x) on CPU %d: %s (after %d EAGAIN)", flags,
                sched_getcpu(), strerror((int)-r), eagains);
}

/* ---- /proc files ---- */

/* Reads a whole file into buf (NUL-terminated): length or -errno. */
static inline long ti_read_file(const char* path, char* buf, size_t cap) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0;
    while (len + 1 < cap) {
        ssize_t n = read(fd, buf + len, cap - 1 - len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            close(fd);
            return -e;
        }
        if (n == 0)
            break;
        len += (size_t)n;
    }
    close(fd);
    buf[len] = '\0';
    return (long)len;
}

static inline long ti_write_file(const char* path, const char* text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC | O_TRUNC);
    if (fd < 0)
        return -errno;
    ssize_t n = write(fd, text, strlen(text));
    int e = errno;
    close(fd);
    return n < 0 ? -e : 0;
}

/* /proc/<pid>/task/<tid>/task_isolation into buf: length or -errno. */
static inline long ti_read_task_isolation(pid_t pid, pid_t tid, char* buf, size_t cap) {
    char path[96];
    snprintf(path, sizeof path, "/proc/%d/task/%d/task_isolation", (int)pid, (int)tid);
    return ti_read_file(path, buf, cap);
}

/* Value of "key: value" in text; copies the value string. 1 found, 0 not. */
static inline int ti_kv_str(const char* text, const char* key, char* out, size_t cap) {
    size_t klen = strlen(key);
    const char* p = text;
    while (p && *p) {
        if (strncmp(p, key, klen) == 0 && p[klen] == ':') {
            const char* v = p + klen + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t n = strcspn(v, "\r\n");
            while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                n--;
            if (n >= cap)
                n = cap - 1;
            memcpy(out, v, n);
            out[n] = '\0';
            return 1;
        }
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return 0;
}

/* Numeric value of key (decimal, or 0x hex); -1 when missing or not a number. */
static inline long long ti_kv(const char* text, const char* key) {
    char v[64];
    if (!ti_kv_str(text, key, v, sizeof v) || !v[0])
        return -1;
    char* end;
    errno = 0;
    long long n = strtoll(v, &end, 0);
    if (errno || *end)
        return -1;
    return n;
}

static const char* const ti_proc_keys[] = {
    "state",
    "flags",
    "signal",
    "breaks",
    "breaks_syscall",
    "breaks_page_fault",
    "breaks_exception",
    "breaks_irq",
    "breaks_ipi",
    "breaks_signal",
    "breaks_preemption",
    "breaks_migration",
    "breaks_affinity",
    "quiesce_eagain",
};
#define TI_PROC_NKEYS ((int)(sizeof ti_proc_keys / sizeof ti_proc_keys[0]))

/*
 * /proc/interrupts: the local timer count (x86 "LOC:", arm64 the sum of the
 * "arch_timer" lines) and the sum of all per-CPU rows for one CPU. Uses a
 * static buffer and no malloc, so a helper thread can call it while a sibling
 * is isolated. 0 or -errno / -ENOENT when the CPU or timer row is missing.
 */
struct ti_irqs {
    long long loc;
    long long total;
};

static char ti_irq_buf[128 * 1024];

static inline int ti_read_irqs(int cpu, struct ti_irqs* out) {
    long len = ti_read_file("/proc/interrupts", ti_irq_buf, sizeof ti_irq_buf);
    if (len < 0)
        return (int)len;
    char *line = ti_irq_buf, *nl = strchr(line, '\n');
    if (!nl)
        return -EINVAL;
    *nl = '\0';
    int ncols = 0, col = -1;
    for (char* p = line; *p;) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        if (strncmp(p, "CPU", 3) == 0 && isdigit((unsigned char)p[3]) && atoi(p + 3) == cpu)
            col = ncols;
        ncols++;
        while (*p && *p != ' ')
            p++;
    }
    if (col < 0)
        return -ENOENT;
    long long loc = -1, arch_timer = -1, total = 0;
    for (line = nl + 1; line && *line; line = nl ? nl + 1 : NULL) {
        nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char* colon = strchr(line, ':');
        if (!colon)
            continue;
        char* name = line;
        while (*name == ' ')
            name++;
        long long v = -1;
        int got = 0;
        char* p = colon + 1;
        while (got < ncols) {
            while (*p == ' ')
                p++;
            if (!isdigit((unsigned char)*p))
                break;
            long long x = strtoll(p, &p, 10);
            if (got == col)
                v = x;
            got++;
        }
        if (got < ncols || v < 0)
            continue; /* ERR:, MIS: and friends: one global number */
        total += v;
        if (strncmp(name, "LOC:", 4) == 0)
            loc = v;
        else if (strstr(p, "arch_timer"))
            arch_timer = (arch_timer < 0 ? 0 : arch_timer) + v;
    }
    out->loc = loc >= 0 ? loc : arch_timer;
    out->total = total;
    return out->loc >= 0 ? 0 : -ENOENT;
}

/* ---- the program ---- */

static inline void ti_init(int npoints) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    ti_sh = mmap(NULL, sizeof *ti_sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (ti_sh == MAP_FAILED) {
        printf("TAP version 13\n1..0 # SKIP mmap of the shared page failed\n");
        exit(1);
    }
    memset(ti_sh, 0, sizeof *ti_sh);
    atomic_store(&ti_sh->next, 1);
    ti_planned = npoints;
    printf("TAP version 13\n1..%d\n", npoints);

    struct utsname u;
    uname(&u);
    char nohz[128], iso[128], online[128], cs[128];
    ti_read_small("/sys/devices/system/cpu/nohz_full", nohz, sizeof nohz);
    ti_read_small("/sys/devices/system/cpu/isolated", iso, sizeof iso);
    ti_read_small("/sys/devices/system/cpu/online", online, sizeof online);
    ti_read_small("/sys/devices/system/clocksource/clocksource0/current_clocksource", cs,
                  sizeof cs);
    long r = ti_get();
    ti_abi_present = r >= 0;
    ti_abi_errno = r < 0 ? (int)-r : 0;
    const char* force = getenv("TI_FORCE");
    ti_force = force ? atoi(force) : 0;
    ti_calibrate();
    ti_diag(
        "kernel %s %s; cpus online=%s nohz_full=%s isolated=%s clocksource=%s; "
        "counter %.3f ticks/ns",
        u.release, u.machine, online, nohz, iso, cs, ti_cyc_per_ns);
    if (ti_abi_present)
        ti_diag("PR_GET_TASK_ISOLATION answers %ld: the kernel has task isolation", r);
    else
        ti_diag(
            "PR_GET_TASK_ISOLATION (prctl 49) failed: %s: this kernel lacks task "
            "isolation%s",
            strerror(ti_abi_errno), ti_force ? " (TI_FORCE set: running the cases anyway)" : "");
}

/* Prints "not ok" for points start..start+n-1 that were not reached. */
static inline void ti_fill(const char* name, int first, int npoints, const char* why) {
    for (int i = first; i < npoints; i++)
        ti_point(0, NULL, "%s: point %d of %d not reached: %s", name, i + 1, npoints, why);
}

/*
 * Runs fn(arg) in a forked child that prints exactly npoints points; waits at
 * most timeout_s (then SIGKILL). Missing points become "not ok".
 */
static inline void ti_case(const char* name, int npoints, int timeout_s, void (*fn)(void*),
                           void* arg) {
    int start = atomic_load(&ti_sh->next);
    char why[600];
    ti_sh->reason[0] = '\0';
    if (!ti_abi_present && !ti_force) {
        snprintf(why, sizeof why, "kernel lacks task isolation (PR_GET_TASK_ISOLATION: %s)",
                 strerror(ti_abi_errno));
        ti_fill(name, 0, npoints, why);
        return;
    }
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, sizeof why, "fork: %s", strerror(errno));
        ti_fill(name, 0, npoints, why);
        return;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        fn(arg);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    int r = ti_waitpid_timeout(pid, (long)timeout_s * 1000, &status);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        snprintf(why, sizeof why, "case timed out after %d s (killed)", timeout_s);
    } else if (r < 0) {
        snprintf(why, sizeof why, "waitpid: %s", strerror(errno));
    } else {
        char st[96];
        ti_describe_status(status, st, sizeof st);
        if (ti_sh->reason[0])
            snprintf(why, sizeof why, "%s", ti_sh->reason);
        else
            snprintf(why, sizeof why, "case child %s", st);
        if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && !ti_sh->reason[0])
            ti_diag("%s: case child %s", name, st);
    }
    int emitted = atomic_load(&ti_sh->next) - start;
    if (emitted < npoints)
        ti_fill(name, emitted, npoints, why);
    else if (emitted > npoints)
        ti_diag("BUG in the selftest: case %s printed %d points, planned %d", name, emitted,
                npoints);
}

/* Closes the plan; returns the exit status (0 iff no "not ok"). */
static inline int ti_done(void) {
    int printed = atomic_load(&ti_sh->next) - 1;
    if (printed < ti_planned)
        ti_fill("plan", printed, ti_planned, "the program did not reach it (selftest bug)");
    else if (printed > ti_planned) {
        ti_diag("BUG in the selftest: %d points printed, plan said %d", printed, ti_planned);
        atomic_store(&ti_sh->failed, 1);
    }
    fflush(stdout);
    return atomic_load(&ti_sh->failed) ? 1 : 0;
}

#endif /* QC_TI_COMMON_H */
