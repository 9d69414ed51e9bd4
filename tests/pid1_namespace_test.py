#!/usr/bin/env python3
"""PID 1 in a PID namespace (DESIGN.md "Signals", seed 004).

Runs pid1_probe as PID 1 of a new PID namespace with util-linux
`unshare --pid --fork` and checks, against the real kernel:
  - SIGTERM from the parent namespace: graceful stop, exit 0, nothing left
    to reap, the child and the orphaned grandchild reaped by the probe;
  - SIGTERM from inside the namespace (which the kernel would drop for a PID 1
    without a handler): graceful stop too;
  - SIGUSR1 from inside the namespace, which the probe does not handle: it
    arrives (the probe reports it) and does not kill;
  - SIGKILL from the parent namespace: the probe dies by SIGKILL.

Usage: pid1_namespace_test.py PATH/TO/pid1_probe
Exit 77 (meson: skipped) when PID namespaces cannot be created here.
"""

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest

# Bounds against hangs only: every awaited event happens at once when things
# work. Nothing here asserts on speed.
HANG_GUARD_S = 20

PROBE = None


def proc_stat_fields(pid):
    """Fields 3.. of /proc/PID/stat (index 0 is the state), or None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
    return stat[stat.rfind(")") + 2:].split()


def wait_for_state(pid, states):
    """Waits (hang guard only) until PID is in one of `states`; returns the fields."""
    deadline = time.monotonic() + HANG_GUARD_S
    while time.monotonic() < deadline:
        fields = proc_stat_fields(pid)
        if fields is not None and fields[0] in states:
            return fields
        time.sleep(0.01)
    raise AssertionError(f"pid {pid} never reached state {states}: {proc_stat_fields(pid)}")


def children_of(pid):
    """(child pid, state) for every process whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        fields = proc_stat_fields(entry)
        if fields is not None and int(fields[1]) == pid:
            found.append((int(entry), fields[0]))
    return found


class ProbeRun:
    """One pid1_probe started as PID 1 of a fresh PID namespace."""

    def __init__(self):
        # --kill-child: if this driver kills unshare, the probe dies with it.
        self.proc = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--kill-child", PROBE],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines = []
        self._new = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self._new.put(line.rstrip("\n"))
        self._new.put(None)

    def output(self):
        return "\n".join(self.lines)

    def expect(self, pattern):
        """Waits for a line matching `pattern`; returns the match."""
        rx = re.compile(pattern)
        for line in self.lines:
            if m := rx.search(line):
                return m
        while True:
            try:
                line = self._new.get(timeout=HANG_GUARD_S)
            except queue.Empty:
                raise AssertionError(
                    f"no line matching {pattern!r} within {HANG_GUARD_S}s; "
                    f"output so far:\n{self.output()}")
            if line is None:
                raise AssertionError(
                    f"probe ended before printing {pattern!r}; output:\n{self.output()}")
            self.lines.append(line)
            if m := rx.search(line):
                return m

    def host_pid(self):
        """The probe's PID in this (parent) namespace: unshare's only child."""
        kids = [pid for pid, _ in children_of(self.proc.pid)]
        if len(kids) != 1:
            raise AssertionError(f"unshare {self.proc.pid} has children {kids}, expected one")
        return kids[0]

    def wait(self):
        try:
            return self.proc.wait(timeout=HANG_GUARD_S)
        finally:
            self._reader.join(timeout=HANG_GUARD_S)
            while (line := self._drain()) is not None:
                self.lines.append(line)

    def _drain(self):
        try:
            line = self._new.get_nowait()
        except queue.Empty:
            return None
        return line

    def close(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)  # in case a test left it stopped
            self.proc.kill()
            self.proc.wait(timeout=HANG_GUARD_S)
        self._reader.join(timeout=HANG_GUARD_S)
        self.proc.stdout.close()


def send_from_inside(host_pid, signame, ends_namespace=False):
    """kill -s SIG 1, run by a process inside the probe's PID namespace.

    When the signal makes PID 1 exit, the kernel SIGKILLs everything left in
    the namespace, possibly `kill` itself before it exits: its status then
    says nothing, and the probe's output shows whether the signal arrived."""
    r = subprocess.run(
        ["nsenter", "--target", str(host_pid), "--pid", "--", "kill", "-s", signame, "1"],
        capture_output=True, text=True, timeout=HANG_GUARD_S)
    if r.returncode != 0 and not ends_namespace:
        raise AssertionError(f"nsenter kill -s {signame} 1 failed ({r.returncode}): {r.stderr}")


class Pid1Namespace(unittest.TestCase):

    def start_ready(self):
        run = ProbeRun()
        self.addCleanup(run.close)
        self.assertEqual(run.expect(r"^pid1=(\w+)$").group(1), "yes", run.output())
        ready = run.expect(r"^ready child=(\d+) intermediate=(\d+) orphan=(\d+)$")
        child, middle, orphan = (int(g) for g in ready.groups())
        # Reaped by the probe itself, with the right status. The orphan is
        # only the probe's to reap because the kernel re-parented it to PID 1.
        run.expect(rf"^reaped pid {child} exited with status 7$")
        run.expect(rf"^reaped pid {middle} exited with status 0$")
        run.expect(rf"^reaped pid {orphan} exited with status 0$")

        host_pid = run.host_pid()
        with open(f"/proc/{host_pid}/status") as f:
            nspid = re.search(r"^NSpid:\s+(.*)$", f.read(), re.M).group(1).split()
        self.assertEqual(nspid, [str(host_pid), "1"], "probe is not PID 1 of a child namespace")
        self.assertEqual(children_of(host_pid), [], "the probe left children (zombies?)")
        return run, host_pid

    def assert_graceful(self, run, signame, from_inside):
        stop = run.expect(rf"^stop signal {signame} from pid (\d+)$")
        sender = int(stop.group(1))
        if from_inside:
            self.assertGreater(sender, 1, "sender inside the namespace has a pid there")
        else:
            self.assertEqual(sender, 0, "a sender outside the namespace shows as pid 0")
        run.expect(rf"^stopping reason={signame}$")
        run.expect(r"^children=none$")
        run.expect(r"^exit 0$")
        self.assertEqual(run.wait(), 0, run.output())

    def test_sigterm_from_parent_namespace_stops_gracefully(self):
        run, host_pid = self.start_ready()
        os.kill(host_pid, signal.SIGTERM)
        self.assert_graceful(run, "SIGTERM", from_inside=False)

    def test_sigint_from_parent_namespace_stops_gracefully(self):
        run, host_pid = self.start_ready()
        os.kill(host_pid, signal.SIGINT)
        self.assert_graceful(run, "SIGINT", from_inside=False)

    def test_sigterm_from_inside_namespace_stops_gracefully(self):
        run, host_pid = self.start_ready()
        send_from_inside(host_pid, "TERM", ends_namespace=True)
        self.assert_graceful(run, "SIGTERM", from_inside=True)

    def test_unhandled_signal_from_inside_does_not_kill(self):
        run, host_pid = self.start_ready()
        send_from_inside(host_pid, "USR1")
        sender = int(run.expect(r"^ignored SIGUSR1 from pid (\d+)$").group(1))
        self.assertGreater(sender, 1)
        self.assertIsNone(run.proc.poll(), "probe ended after SIGUSR1")
        self.assertNotIn(proc_stat_fields(host_pid)[0], ("Z", "X"), "probe died after SIGUSR1")
        self.assertNotIn("stopping", run.output())
        # And it still works: SIGTERM stops it gracefully.
        os.kill(host_pid, signal.SIGTERM)
        self.assert_graceful(run, "SIGTERM", from_inside=False)

    def test_sigkill_from_parent_namespace_kills(self):
        run, host_pid = self.start_ready()
        # unshare's own exit status does not tell reliably how its child died
        # (util-linux 2.38 exits 1 when the child died by SIGKILL). So stop
        # unshare first: the probe then stays a zombie after the kill, and its
        # wait status is readable in /proc/PID/stat (field 52, exit_code).
        os.kill(run.proc.pid, signal.SIGSTOP)
        wait_for_state(run.proc.pid, ("T",))
        os.kill(host_pid, signal.SIGKILL)
        fields = wait_for_state(host_pid, ("Z",))
        wait_status = int(fields[52 - 3])
        self.assertTrue(os.WIFSIGNALED(wait_status), f"wait status {wait_status:#x}")
        self.assertEqual(os.WTERMSIG(wait_status), signal.SIGKILL)
        os.kill(run.proc.pid, signal.SIGCONT)
        self.assertNotEqual(run.wait(), 0, run.output())
        self.assertNotIn("stopping", run.output())
        self.assertIsNone(proc_stat_fields(host_pid), "probe still exists after unshare ended")


def can_create_pid_namespace():
    if os.geteuid() != 0:
        return "not root"
    for tool in ("unshare", "nsenter", "kill"):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    r = subprocess.run(["unshare", "--pid", "--fork", "true"], capture_output=True, text=True)
    if r.returncode != 0:
        return f"unshare --pid --fork failed: {r.stderr.strip()}"
    return None


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/pid1_probe")
    PROBE = os.path.abspath(sys.argv[1])
    if (why := can_create_pid_namespace()) is not None:
        print(f"SKIP: cannot create PID namespaces here: {why}")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v"])
