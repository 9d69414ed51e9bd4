// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_oneshot: with ENABLE|ONESHOT the next kernel entry (a getppid) ends
 * isolation without any signal (the default STRICT signal would be SIGKILL:
 * the child would die); prctl 49 before it does not end it; flags read 0
 * afterwards and the break is recorded (SYSCALL, getppid, count 1).
 */
#include "ti_common.h"

#define CPU 1

static void run(void* arg) {
    (void)arg;
    const unsigned flags = PR_TASK_ISOLATION_ENABLE | PR_TASK_ISOLATION_ONESHOT;
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    /* any catchable signal the kernel might pick by mistake is counted */
    for (int s = 1; s < 32; s++)
        if (s != SIGKILL && s != SIGSTOP && s != SIGCHLD && s != SIGSEGV && s != SIGBUS &&
            s != SIGILL && s != SIGFPE && s != SIGTRAP)
            ti_catch(s);
    const long expect_ppid = getppid();
    ti_lock_memory();
    ti_isolate_or_bail(flags);

    const long during = ti_get();
    const long ppid = syscall(SYS_getppid);
    ti_spin(500000000ULL, 1, NULL, NULL); /* a late signal would show up here */
    const int sigs = atomic_load(&ti_sig_total);
    const long after = ti_get();
    struct ti_break brk;
    const long brc = ti_get_break(&brk);
    if (after > 0)
        ti_set(0);
    ti_diag_break("break record", &brk);

    ti_ok(during == (long)flags, "prctl 49 does not end ONESHOT isolation: flags %#x (got %#lx)",
          flags, during);
    ti_ok(ppid == expect_ppid, "getppid() ran and returned %ld (want %ld)", ppid, expect_ppid);
    int first = 0;
    for (int s = 1; s < 32 && !first; s++)
        if (ti_hits(s))
            first = s;
    ti_ok(sigs == 0, "no signal delivered (%d; first: %d)", sigs, first);
    ti_ok(after == 0, "isolation ended: PR_GET_TASK_ISOLATION 0 after the syscall (got %#lx)",
          after);
    ti_ok(brc >= 0 && brk.cause == TASK_ISOLATION_CAUSE_SYSCALL && brk.syscall_nr == SYS_getppid &&
              brk.count == 1 && brk.cpu == CPU,
          "break recorded: cause SYSCALL (got %s), syscall_nr %d (got %d), count 1 (got %llu), "
          "cpu %d (got %d)",
          ti_cause_name(brk.cause), (int)SYS_getppid, brk.syscall_nr, (unsigned long long)brk.count,
          CPU, brk.cpu);
}

int main(void) {
    ti_init(5);
    ti_case("oneshot", 5, 60, run, NULL);
    return ti_done();
}
