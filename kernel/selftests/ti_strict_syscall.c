// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_strict_syscall: in STRICT mode a system call still runs, then ends
 * isolation and delivers the chosen signal on the way back; the break record
 * says SYSCALL with the syscall's number, CPU 1, count 1. prctl 49 does not
 * break isolation. With SET_SIG(0) the task dies of SIGKILL. exit_group
 * while isolated is not a break: the process exits with its own status.
 */
#include "ti_common.h"

#define CPU 1

static void case_sigusr1(void* arg) {
    (void)arg;
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    const long expect_ppid = getppid();
    ti_lock_memory();
    const uint64_t t_before = ti_now_ns();
    ti_isolate_or_bail(flags);

    /* isolated: nothing but prctl 49 until the getppid */
    const long got_flags = ti_get();
    const int hits_after_get = ti_hits(SIGUSR1);
    const long ppid = syscall(SYS_getppid);
    const int hits_on_return = ti_hits(SIGUSR1);
    ti_spin_for_signal(SIGUSR1, 2000000000ULL);
    /* isolation is over (or broken): system calls are fine again */
    ti_sleep_ms(200);
    const uint64_t t_after = ti_now_ns();
    const int hits = ti_hits(SIGUSR1);
    const long flags_after = ti_get();
    struct ti_break brk;
    const long brc = ti_get_break(&brk);
    const struct ti_sigrec* h = &ti_sigs[SIGUSR1];
    if (hits)
        ti_diag_break("break record read in the SIGUSR1 handler", &h->brk);
    ti_diag_break("break record read after the handler", &brk);
    if (flags_after > 0)
        ti_set(0);

    ti_ok(got_flags == (long)flags && hits_after_get == 0,
          "prctl 49 while isolated returns the flags %#x (got %#lx) and sends no signal (%d)",
          flags, got_flags, hits_after_get);
    ti_ok(ppid == expect_ppid, "the syscall still ran: getppid() = %ld (want %ld)", ppid,
          expect_ppid);
    ti_ok(hits_on_return == 1 && hits == 1,
          "SIGUSR1 delivered on return from the syscall (%d on return, %d in all)", hits_on_return,
          hits);
    ti_ok(brc >= 0 && brk.cause == TASK_ISOLATION_CAUSE_SYSCALL && brk.syscall_nr == SYS_getppid,
          "GET_BREAK: cause SYSCALL (got %s), syscall_nr %d (got %d)", ti_cause_name(brk.cause),
          (int)SYS_getppid, brk.syscall_nr);
    ti_ok(brk.cpu == CPU && brk.count == 1 && brk.size == sizeof brk &&
              brk.timestamp_ns >= t_before && brk.timestamp_ns <= t_after,
          "GET_BREAK: cpu %d (got %d), count 1 (got %llu), size %zu (got %u), timestamp in "
          "the test's CLOCK_MONOTONIC window (%+lld ns from its start)",
          CPU, brk.cpu, (unsigned long long)brk.count, sizeof brk, brk.size,
          (long long)(brk.timestamp_ns - t_before));
    ti_ok(flags_after == 0 && (hits == 0 || h->flags_in_handler == 0) &&
              (hits == 0 || (h->brk_rc >= 0 && h->brk.cause == TASK_ISOLATION_CAUSE_SYSCALL)),
          "isolation ended: PR_GET_TASK_ISOLATION 0 in the handler (%ld) and after (%ld); the "
          "handler's GET_BREAK says SYSCALL (%s)",
          h->flags_in_handler, flags_after, ti_cause_name(h->brk.cause));
}

/* Runs `body` in a grandchild; val[0] says it isolated. */
static int grandchild(void (*body)(void), int* status) {
    ti_sh->val[0] = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        ti_bail("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        body();
        _exit(0);
    }
    int r = ti_waitpid_timeout(pid, 30000, status);
    if (r == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, status, 0);
    }
    return r;
}

static void body_kill(void) {
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_lock_memory();
    ti_isolate_or_bail(PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_STRICT |
                       PR_TASK_ISOLATION_SET_SIG(0));
    ti_sh->val[0] = 1;
    syscall(SYS_getppid);
    /* still alive: the kernel did not kill us */
    ti_spin(1000000000ULL, 0, NULL, NULL);
    ti_set(0);
    _exit(0);
}

static void case_sigkill(void* arg) {
    (void)arg;
    int status = 0;
    int r = grandchild(body_kill, &status);
    char st[96];
    ti_describe_status(status, st, sizeof st);
    if (ti_sh->val[0] != 1)
        ti_bail("the grandchild did not isolate (%s)%s%s", st, ti_sh->reason[0] ? ": " : "",
                ti_sh->reason);
    ti_ok(r == 1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
          "STRICT with SET_SIG(0): a syscall kills the task with SIGKILL (wait status: %s)",
          r == 1 ? st : "hung");
}

static void body_exit(void) {
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_lock_memory();
    ti_isolate_or_bail(PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_STRICT |
                       PR_TASK_ISOLATION_SET_SIG(0));
    ti_sh->val[0] = 1;
    syscall(SYS_exit_group, 7);
    _exit(8);
}

static void case_exit(void* arg) {
    (void)arg;
    int status = 0;
    int r = grandchild(body_exit, &status);
    char st[96];
    ti_describe_status(status, st, sizeof st);
    if (ti_sh->val[0] != 1)
        ti_bail("the grandchild did not isolate (%s)%s%s", st, ti_sh->reason[0] ? ": " : "",
                ti_sh->reason);
    ti_ok(r == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 7,
          "STRICT with SET_SIG(0): exit_group(7) is no break, the task exits with status 7 "
          "(wait status: %s)",
          r == 1 ? st : "hung");
}

int main(void) {
    ti_init(8);
    ti_case("strict syscall, SIGUSR1", 6, 60, case_sigusr1, NULL);
    ti_case("strict syscall, SIGKILL", 1, 60, case_sigkill, NULL);
    ti_case("strict exit_group", 1, 60, case_exit, NULL);
    return ti_done();
}
