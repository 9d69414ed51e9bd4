#!/usr/bin/env python3
"""`qc-monitor capabilities` on the live kernel agrees with facts read
independently of quietcore, and reports a sysfs tree it cannot read.

usage: check_capabilities.py QC_MONITOR
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_sysfs import FakeSysfs  # noqa: E402

QC_MONITOR = ""


def run(*args):
    return subprocess.run([QC_MONITOR, "capabilities", *args], capture_output=True, text=True,
                          check=False)


def read(path):
    with open(path, encoding="ascii") as f:
        return f.read().strip()


class LiveKernel(unittest.TestCase):
    def setUp(self):
        result = run("--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.caps = json.loads(result.stdout)

    def test_prctl_presence_matches_the_kernel_symbols(self):
        with open("/proc/kallsyms", encoding="ascii", errors="replace") as f:
            patched = any(" task_isolation" in line for line in f)
        self.assertEqual(self.caps["task_isolation_prctl"], patched)
        self.assertEqual(self.caps["backend"], "kernel" if patched else "soft")

    # qemu-user (cross-arm64 suite, tools/cross/run-emulated) has no seccomp
    # syscall: its probe rightly says no while the host's actions_avail says yes.
    @unittest.skipIf(os.environ.get("QC_EMULATED"), "qemu-user has no seccomp syscall")
    def test_seccomp_user_notif_matches_actions_avail(self):
        actions = read("/proc/sys/kernel/seccomp/actions_avail").split()
        self.assertEqual(self.caps["seccomp_user_notif"], "user_notif" in actions)

    def test_cpu_sets_match_sysfs_and_uname(self):
        self.assertEqual(self.caps["cpus"]["online"], read("/sys/devices/system/cpu/online"))
        self.assertEqual(self.caps["kernel_release"], os.uname().release)

    def test_sentences_name_the_back_end(self):
        result = run()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn(f"The {self.caps['backend']} back end is used", result.stdout)


class UnreadableSysfs(unittest.TestCase):
    def test_malformed_online_file_fails_naming_the_file_and_token(self):
        with FakeSysfs("0-3", "0-x", "") as sysfs:
            result = run("--sysfs", sysfs.root)
        self.assertEqual(result.returncode, 1)
        self.assertIn("devices/system/cpu/online", result.stderr)
        self.assertIn('"0-x"', result.stderr)


if __name__ == "__main__":
    QC_MONITOR = sys.argv.pop(1)
    unittest.main()
