#!/usr/bin/env python3
"""`qc-monitor check` on this machine, a stock kernel without nohz_full:
it must not pass, and a cmdline.* check must say nohz_full is not
configured. Then a snapshot of the machine judged with `check --root`: the
same verdicts as the live run (rates.* aside: they come from the
snapshot's own samples) and exactly the verdicts the snapshot recorded.

usage: check_live.py QC_MONITOR    (as root; skipped otherwise)
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import unittest

QC_MONITOR = ""
INTERVAL = "0.5"


def run(*args):
    return subprocess.run([QC_MONITOR, *args], capture_output=True, text=True, check=False)


def statuses(checks, skip_prefix=None):
    return {c["id"]: c["status"] for c in checks
            if skip_prefix is None or not c["id"].startswith(skip_prefix)}


class Live(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        result = run("check", "--json", "--interval", INTERVAL)
        cls.returncode, cls.stderr = result.returncode, result.stderr
        cls.report = json.loads(result.stdout) if result.stdout else None

    def test_stock_kernel_does_not_pass(self):
        self.assertIsNotNone(self.report, self.stderr)
        self.assertIn(self.returncode, (1, 2), self.stderr)
        self.assertEqual(self.report["exit_status"], self.returncode)
        self.assertEqual(self.report["root"], "/")
        self.assertEqual(self.report["kernel_release"], platform.release())
        self.assertEqual(self.report["arch"], platform.machine())
        self.assertEqual(self.report["interval_seconds"], float(INTERVAL))
        with open("/sys/devices/system/cpu/online", encoding="utf-8") as f:
            online = f.read().strip()
        self.assertEqual(self.report["online"], online)

    def test_findings_say_nohz_full_is_not_configured(self):
        self.assertIsNotNone(self.report, self.stderr)
        with open("/proc/cmdline", encoding="utf-8") as f:
            self.assertNotIn("nohz_full=", f.read(), "this test needs a kernel without nohz_full")
        said = [c for c in self.report["checks"]
                if c["id"].startswith("cmdline.") and c["status"] in ("warn", "fail")
                and "nohz_full" in c["summary"]]
        self.assertTrue(said, "no warn/fail cmdline.* check says nohz_full is not configured; "
                              "cmdline checks: " + json.dumps(
                                  [c for c in self.report["checks"]
                                   if c["id"].startswith("cmdline.")], indent=2))

    def test_text_report_runs_too(self):
        result = run("check", "--interval", "0")
        self.assertIn(result.returncode, (0, 1, 2), result.stderr)
        self.assertIn("live system (/)", result.stdout)
        self.assertRegex(result.stdout.rstrip().split("\n")[-1], r"^\d+ checks?: \d+ ok, ")

    def test_snapshot_round_trip(self):
        self.assertIsNotNone(self.report, self.stderr)
        with tempfile.TemporaryDirectory(prefix="qc-snapshot-") as tmp:
            snap = os.path.join(tmp, "snap")
            taken = run("snapshot", snap, "--interval", INTERVAL)
            self.assertEqual(taken.returncode, 0, taken.stderr)
            self.assertIn(snap, taken.stdout)
            with open(os.path.join(snap, "qc-monitor/snapshot.json"), encoding="utf-8") as f:
                meta = json.load(f)
            for key in ("interval_seconds", "captured_at", "kernel_release", "hostname",
                        "qc_monitor_checks"):
                self.assertIn(key, meta)
            self.assertEqual(meta["interval_seconds"], float(INTERVAL))
            self.assertEqual(meta["kernel_release"], platform.release())
            for path in ("/sys/devices/system/cpu/online", "/proc/sys/kernel/osrelease"):
                with open(path, encoding="utf-8") as live, \
                        open(snap + path, encoding="utf-8") as copy:
                    self.assertEqual(copy.read(), live.read(), path)
            for path in ("/proc/interrupts", "/proc/stat"):
                self.assertTrue(os.path.isfile(snap + path), path)
                self.assertTrue(os.path.isfile(os.path.join(snap, "qc-monitor/after") + path),
                                path)

            again = run("check", "--root", snap, "--json")
            self.assertIn(again.returncode, (0, 1, 2), again.stderr)
            judged = json.loads(again.stdout)
            self.assertEqual(judged["interval_seconds"], float(INTERVAL))
            # Exactly what the snapshot saw, its rates included.
            self.assertEqual(statuses(judged["checks"]), statuses(meta["qc_monitor_checks"]))
            # And what the live run saw, the rates aside.
            self.assertEqual(statuses(judged["checks"], "rates."),
                             statuses(self.report["checks"], "rates."))
            for key in ("isolated", "housekeeping", "online", "arch", "kernel_release"):
                self.assertEqual(judged[key], self.report[key], key)


if __name__ == "__main__":
    QC_MONITOR = sys.argv[1]
    if os.geteuid() != 0:
        print("skipped: needs root")
        sys.exit(77)
    unittest.main(argv=sys.argv[:1], verbosity=2)
