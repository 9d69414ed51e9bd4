// SPDX-License-Identifier: GPL-2.0-only
/*
 * ti_trace: the task_isolation tracepoints. With every event under
 * tracefs events/task_isolation/ enabled, a process isolates (STRICT,
 * SIGUSR1) and breaks with a getppid; the trace then has its enter event and
 * its break event naming the syscall cause. Event names are discovered by
 * listing the directory (enter/break or isolation_enter/isolation_break).
 */
#include "ti_common.h"

#define CPU 1

static char g_root[64];
static char g_enter[256], g_break[256];
static char g_trace[256 * 1024];

static int find_tracefs(void) {
    static const char* const roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
    for (size_t i = 0; i < 2; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/trace", roots[i]);
        if (access(p, R_OK) == 0) {
            snprintf(g_root, sizeof g_root, "%s", roots[i]);
            return 1;
        }
    }
    return 0;
}

static void tracefs_write(const char* rel, const char* text) {
    char p[192];
    snprintf(p, sizeof p, "%s/%s", g_root, rel);
    long r = ti_write_file(p, text);
    if (r)
        ti_diag("write \"%s\" to %s: %s", text, p, strerror((int)-r));
}

static void isolate_and_break(void) {
    ti_need_isolated_cpu(CPU);
    ti_pin_self(CPU);
    ti_catch(SIGUSR1);
    ti_lock_memory();
    ti_isolate_or_bail(TI_ISO_STRICT_SIG(SIGUSR1));
    ti_sh->val[0] = 1;
    syscall(SYS_getppid);
    ti_spin_for_signal(SIGUSR1, 2000000000ULL);
    ti_sh->val[1] = ti_hits(SIGUSR1);
    if (ti_get() > 0)
        ti_set(0);
    _exit(0);
}

/* The first trace line with " <event>:" from task pid, copied to out. */
static int find_line(const char* event, pid_t pid, char* out, size_t cap) {
    char ev[80], who[24];
    snprintf(ev, sizeof ev, " %s:", event);
    snprintf(who, sizeof who, "-%d ", (int)pid);
    for (const char* p = g_trace; p && *p;) {
        const char* nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char line[512];
        size_t n = len < sizeof line - 1 ? len : sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        if (line[0] != '#' && strstr(line, ev) && strstr(line, who)) {
            snprintf(out, cap, "%s", line);
            return 1;
        }
        p = nl ? nl + 1 : NULL;
    }
    return 0;
}

/* Whether the break line's cause is the syscall one: "cause=1", "cause=syscall"
 * (any case, maybe "SYSCALL(1)"); without a cause= field, any "syscall". */
static int says_syscall(const char* fields) {
    if (!fields)
        return 0;
    const char* c = strstr(fields, "cause=");
    if (!c)
        return strcasestr(fields, "syscall") != NULL;
    c += 6;
    if (*c == '1' && !isdigit((unsigned char)c[1]))
        return 1;
    return strncasecmp(c, "syscall", 7) == 0 && !isalnum((unsigned char)c[7]) && c[7] != '_';
}

static void run(void* arg) {
    (void)arg;
    if (!find_tracefs())
        ti_bail("no tracefs at /sys/kernel/tracing (or debug/tracing)");
    char dir[128];
    snprintf(dir, sizeof dir, "%s/events/task_isolation", g_root);
    DIR* d = opendir(dir);
    if (!d)
        ti_bail("%s: %s", dir, strerror(errno));
    char names[512] = "";
    size_t nlen = 0;
    struct dirent* e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "enable") || !strcmp(e->d_name, "filter"))
            continue;
        nlen +=
            (size_t)snprintf(names + nlen, sizeof names - nlen, "%s%s", nlen ? " " : "", e->d_name);
        if (nlen >= sizeof names)
            nlen = sizeof names - 1;
        if (strstr(e->d_name, "enter") && !g_enter[0])
            snprintf(g_enter, sizeof g_enter, "%s", e->d_name);
        else if (strstr(e->d_name, "break") && !g_break[0])
            snprintf(g_break, sizeof g_break, "%s", e->d_name);
    }
    closedir(d);
    ti_ok(g_enter[0] && g_break[0], "%s has an enter and a break event (events: %s)", dir,
          names[0] ? names : "none");
    if (!g_enter[0] || !g_break[0])
        ti_bail("no enter/break events to enable");

    tracefs_write("tracing_on", "0");
    tracefs_write("trace", "");
    tracefs_write("events/task_isolation/enable", "1");
    tracefs_write("tracing_on", "1");

    ti_sh->val[0] = 0;
    ti_sh->val[1] = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0)
        ti_bail("fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        isolate_and_break();
    }
    int status = 0;
    if (ti_waitpid_timeout(pid, 30000, &status) != 1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    tracefs_write("tracing_on", "0");
    char p[192];
    snprintf(p, sizeof p, "%s/trace", g_root);
    long n = ti_read_file(p, g_trace, sizeof g_trace);
    tracefs_write("events/task_isolation/enable", "0");
    tracefs_write("tracing_on", "1");
    if (ti_sh->val[0] != 1)
        ti_bail("the traced process %d did not isolate%s%s", (int)pid, ti_sh->reason[0] ? ": " : "",
                ti_sh->reason);
    if (n < 0)
        ti_bail("%s: %s", p, strerror((int)-n));

    char enter[512] = "", brk[512] = "";
    const int has_enter = find_line(g_enter, pid, enter, sizeof enter);
    const int has_break = find_line(g_break, pid, brk, sizeof brk);
    int shown = 0;
    for (const char* q = g_trace; q && *q && shown < 12; shown++) {
        const char* nl = strchr(q, '\n');
        if (*q != '#')
            ti_diag("trace: %.*s", (int)(nl ? nl - q : (long)strlen(q)), q);
        else
            shown--;
        q = nl ? nl + 1 : NULL;
    }
    const int cause_ok = has_break && says_syscall(strstr(brk, g_break));
    ti_ok(has_enter, "trace has %s from pid %d%s%s", g_enter, (int)pid, has_enter ? ": " : "",
          enter);
    ti_ok(has_break && cause_ok && ti_sh->val[1] == 1,
          "trace has %s from pid %d naming the syscall cause (SIGUSR1 %lld)%s%s", g_break, (int)pid,
          ti_sh->val[1], has_break ? ": " : "", brk);
}

int main(void) {
    ti_init(3);
    ti_case("tracepoints", 3, 90, run, NULL);
    return ti_done();
}
