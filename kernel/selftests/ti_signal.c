// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_signal: a signal from another process ends STRICT isolation with cause
 * SIGNAL and the signal's number: (a) kill(pid, SIGUSR2), (b) tgkill(pid,
 * tid, SIGALRM), each sent by a forked process on CPU 0 while the target
 * spins isolated on CPU 1 (STRICT signal SIGUSR1).
 */
#include "ti_common.h"

#define CPU 1

struct how {
    int sig;
    int use_tgkill;
};

static void sender(pid_t target, const struct how* h) {
    ti_pin_tid(0, 0);
    long long rc = -2;
    uint64_t end = ti_now_ns() + 20000000000ULL;
    while (ti_sh->val[0] != 1 && ti_now_ns() < end)
        ti_sleep_ms(1);
    if (ti_sh->val[0] == 1) {
        ti_sleep_ms(100); /* the target is back in its loop */
        rc = h->use_tgkill ? syscall(SYS_tgkill, target, target, h->sig) : kill(target, h->sig);
        if (rc)
            rc = -errno;
    }
    ti_sh->val[1] = rc;
    ti_sh->val[2] = sched_getcpu();
    _exit(0);
}

static void run(void* arg) {
    const struct how* h = arg;
    const char* how = h->use_tgkill ? "tgkill" : "kill";
    const unsigned flags = TI_ISO_STRICT_SIG(SIGUSR1);
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    ti_catch(h->sig);
    ti_sh->val[0] = 0;
    ti_sh->val[1] = -1;
    const pid_t self = getpid();
    fflush(stdout);
    pid_t pid = fork(); /* before mlockall: no COW pages left behind */
    if (pid < 0)
        ti_bail("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sender(self, h);
    }
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    ti_sh->val[0] = 1;
    const struct ti_outcome o = ti_await_break(h->sig, 20000000000ULL);
    int status;
    if (ti_waitpid_timeout(pid, 30000, &status) != 1)
        kill(pid, SIGKILL);
    ti_diag(
        "sender on CPU %lld: %s(%d, %s) returned %lld; handler saw si_pid %d; STRICT "
        "SIGUSR1 delivered %d times",
        ti_sh->val[2], how, (int)self, strsignal(h->sig), ti_sh->val[1], ti_sigs[h->sig].sender,
        ti_hits(SIGUSR1));
    ti_diag_break("break record", &o.brk);

    ti_ok(ti_sh->val[1] == 0 && o.hits == 1 && ti_sigs[h->sig].sender == pid,
          "%s from process %d: the %s handler ran (%d) and saw the sender", how, (int)pid,
          strsignal(h->sig), o.hits);
    ti_ok(o.brc >= 0 && o.brk.cause == TASK_ISOLATION_CAUSE_SIGNAL && o.brk.signal == h->sig,
          "GET_BREAK: cause SIGNAL (got %s), signal %d (got %d)", ti_cause_name(o.brk.cause),
          h->sig, o.brk.signal);
    ti_ok(o.brk.cpu == CPU && o.flags_after == 0,
          "GET_BREAK: cpu %d (got %d); isolation ended (flags %ld)", CPU, o.brk.cpu, o.flags_after);
}

int main(void) {
    ti_init(6);
    static const struct how by_kill = {SIGUSR2, 0}, by_tgkill = {SIGALRM, 1};
    ti_case("kill from another process", 3, 90, run, (void*)&by_kill);
    ti_case("tgkill from another process", 3, 90, run, (void*)&by_tgkill);
    return ti_done();
}
