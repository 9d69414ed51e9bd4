#!/usr/bin/env python3
"""qc-isolate run for real on this machine: the sleep syscall is reported in
steady state, the command's exit status is passed through, STRICT modes
break isolation, and bad flags exit 2 naming the flag.

usage: check_qc_isolate.py QC_ISOLATE
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest

QC_ISOLATE = ""
SLEEP_SYSCALLS = {"clock_nanosleep", "nanosleep"}


def run(*args):
    return subprocess.run([QC_ISOLATE, *args], capture_output=True, text=True,
                          check=False, timeout=60)


def last_cpu():
    with open("/sys/devices/system/cpu/online", encoding="ascii") as f:
        last = f.read().strip().split(",")[-1]
    return last.split("-")[-1]


class Runs(unittest.TestCase):
    def run_with_report(self, *args):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "report.json")
            result = run("--report", path, *args)
            report = None
            if os.path.exists(path):
                with open(path, encoding="utf-8") as f:
                    report = json.load(f)
        return result, report

    def assert_break_is_steady(self, report):
        """The first steady-state entry broke isolation: usually a syscall,
        sometimes an involuntary context switch seen first by the poller."""
        brk = report["first_break"]
        self.assertIsNotNone(brk)
        self.assertIn(brk["cause"], {"syscall", "preemption"})
        if brk["cause"] == "syscall":
            self.assertIn(brk["detail"], report["steady"]["syscalls"])
        else:
            self.assertGreater(report["steady"]["involuntary_context_switches"], 0)
        self.assertGreaterEqual(brk["at_ms"], report["settle_ms"])

    def test_sleep_syscall_is_reported_in_steady_state(self):
        result, report = self.run_with_report("--cpu", "0", "--", "sh", "-c", "sleep 0.1")
        self.assertEqual(result.returncode, 0, result.stderr)
        steady = report["steady"]["syscalls"]
        self.assertTrue(SLEEP_SYSCALLS & steady.keys(), steady)
        self.assertIn("execve", steady)
        self.assertEqual(report["startup"]["syscalls"], {})
        self.assertEqual(report["exit"], {"status": 0, "code": 0, "signal": None})
        self.assertEqual(report["cpu"], 0)
        self.assertIsNone(report["first_break"])
        sleep_name = (SLEEP_SYSCALLS & steady.keys()).pop()
        self.assertRegex(result.stderr, rf"\n  {sleep_name} +0 +{steady[sleep_name]}\n")
        self.assertEqual(result.stdout, "")

    def test_start_up_window_takes_the_early_syscalls(self):
        result, report = self.run_with_report("--cpu", last_cpu(), "--settle", "2000", "--",
                                              "sh", "-c", "exit 0")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("execve", report["startup"]["syscalls"])
        self.assertEqual(report["steady"]["syscalls"], {})

    def test_exit_status_is_the_commands(self):
        self.assertEqual(run("--cpu", "0", "--", "sh", "-c", "exit 3").returncode, 3)
        self.assertEqual(run("--cpu", "0", "--", "true").returncode, 0)

    def test_killed_command_gives_128_plus_signal(self):
        result, report = self.run_with_report("--cpu", "0", "--", "sh", "-c", "kill -TERM $$")
        self.assertEqual(result.returncode, 128 + 15, result.stderr)
        self.assertEqual(report["exit"]["signal"], 15)

    def test_signal_mode_breaks_at_the_first_steady_syscall(self):
        result, report = self.run_with_report("--cpu", last_cpu(), "--strict=signal",
                                              "--settle", "5", "--", "sh", "-c", "sleep 5")
        self.assertEqual(result.returncode, 128 + 10, result.stderr)  # SIGUSR1
        self.assert_break_is_steady(report)

    def test_kill_mode_kills(self):
        result, report = self.run_with_report("--cpu", last_cpu(), "--strict=kill",
                                              "--settle", "5", "--", "sh", "-c", "sleep 5")
        self.assertEqual(result.returncode, 128 + 9, result.stderr)
        self.assert_break_is_steady(report)

    def test_oneshot_ends_isolation_without_a_signal(self):
        result, report = self.run_with_report("--cpu", last_cpu(), "--strict=signal",
                                              "--oneshot", "--settle", "5", "--",
                                              "sh", "-c", "sleep 0.1")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assert_break_is_steady(report)

    def test_missing_command_is_127(self):
        result = run("--cpu", "0", "--", "no-such-command-qc")
        self.assertEqual(result.returncode, 127)
        self.assertIn("no-such-command-qc", result.stderr)


class BadFlags(unittest.TestCase):
    def expect_usage_error(self, args, *named):
        result = run(*args)
        self.assertEqual(result.returncode, 2, f"{args}: {result.stderr!r}")
        for text in named:
            self.assertIn(text, result.stderr, args)

    def test_cpu_not_online(self):
        self.expect_usage_error(["--cpu", "4095", "--", "true"], "--cpu", "4095")

    def test_cpu_not_a_number(self):
        self.expect_usage_error(["--cpu", "x", "--", "true"], "--cpu")

    def test_cpu_missing(self):
        self.expect_usage_error(["--", "true"], "--cpu")

    def test_bad_strict_mode(self):
        self.expect_usage_error(["--cpu", "0", "--strict=bogus", "--", "true"], "--strict",
                                "bogus")

    def test_bad_settle(self):
        self.expect_usage_error(["--cpu", "0", "--settle", "-5", "--", "true"], "--settle")

    def test_unknown_flag(self):
        self.expect_usage_error(["--cpu", "0", "--bogus", "--", "true"], "--bogus")

    def test_no_command(self):
        self.expect_usage_error(["--cpu", "0"], "command")

    def test_unwritable_report(self):
        self.expect_usage_error(["--cpu", "0", "--report", "/nonexistent/dir/r.json", "--",
                                 "true"], "--report", "/nonexistent/dir/r.json")


if __name__ == "__main__":
    if os.environ.get("QC_EMULATED"):
        # Every run soft-isolates the command through seccomp user notifications.
        print("SKIP: qemu-user has no seccomp syscall (ENOSYS)")
        sys.exit(77)
    QC_ISOLATE = sys.argv.pop(1)
    unittest.main()
