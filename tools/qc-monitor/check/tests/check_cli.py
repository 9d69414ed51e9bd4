#!/usr/bin/env python3
"""Flags, exit codes and messages of `qc-monitor check` and `snapshot`: bad
flags exit 3 naming the flag (plan keeps 2), the text report's header and
counts line agree with the JSON, --isolated and --only do what they say.

usage: check_cli.py QC_MONITOR FIXTURES_DIR
"""

import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

QC_MONITOR = ""
FIXTURES = ""


def run(*args):
    return subprocess.run([QC_MONITOR, *args], capture_output=True, text=True, check=False)


class Flags(unittest.TestCase):
    def setUp(self):
        self.tuned = os.path.join(FIXTURES, "tuned")
        self.tmp = tempfile.TemporaryDirectory(prefix="qc-check-cli-")

    def tearDown(self):
        self.tmp.cleanup()

    def could_not_run(self, args, *named):
        result = run(*args)
        self.assertEqual(result.returncode, 3, f"{args}: stderr {result.stderr!r}")
        self.assertEqual(result.stdout, "", args)
        for text in named:
            self.assertIn(text, result.stderr, args)
        return result

    def test_bad_isolated_names_flag_and_token(self):
        self.could_not_run(["check", "--root", self.tuned, "--isolated", "1,2-x"],
                           "--isolated", '"2-x"')
        self.could_not_run(["check", "--root", self.tuned, "--isolated", "3-1"], "--isolated")
        self.could_not_run(["check", "--root", self.tuned, "--isolated", ""], "--isolated",
                           "empty")
        self.could_not_run(["snapshot", os.path.join(self.tmp.name, "s"), "--isolated", "x"],
                           "--isolated")

    def test_bad_interval_names_flag(self):
        self.could_not_run(["check", "--root", self.tuned, "--interval", "-1"], "--interval")
        self.could_not_run(["check", "--root", self.tuned, "--interval", "soon"], "--interval")
        self.could_not_run(["check", "--interval", "99999"], "--interval")

    def test_root_must_be_a_directory(self):
        missing = os.path.join(self.tmp.name, "nope")
        self.could_not_run(["check", "--root", missing], "--root", missing)
        a_file = os.path.join(self.tmp.name, "file")
        open(a_file, "w", encoding="utf-8").close()
        self.could_not_run(["check", "--root", a_file], "--root", a_file, "not a directory")

    def test_root_without_online_cpus_names_the_file(self):
        self.could_not_run(["check", "--root", self.tmp.name], "/sys/devices/system/cpu/online")

    def test_only_matching_nothing_names_it(self):
        self.could_not_run(["check", "--root", self.tuned, "--only", "zz.nothing"], "--only",
                           "zz.nothing")

    def test_unknown_flags_and_missing_dir(self):
        self.could_not_run(["check", "--frobnicate"], "--frobnicate")
        self.could_not_run(["snapshot"], "DIR")
        self.could_not_run(["snapshot", self.tmp.name, "--frobnicate"], "--frobnicate")

    def test_plan_and_capabilities_keep_their_usage_code(self):
        self.assertEqual(run("plan", "--frobnicate").returncode, 2)
        self.assertEqual(run("capabilities", "--frobnicate").returncode, 2)
        self.assertEqual(run().returncode, 2)

    def test_help_exits_0(self):
        for args in (["check", "--help"], ["snapshot", "--help"], ["--help"]):
            result = run(*args)
            self.assertEqual(result.returncode, 0, args)
            self.assertIn("Usage", result.stdout + result.stderr, args)

    def test_snapshot_refuses_a_non_empty_directory(self):
        with open(os.path.join(self.tmp.name, "notes.txt"), "w", encoding="utf-8") as f:
            f.write("mine\n")
        self.could_not_run(["snapshot", self.tmp.name, "--interval", "0"], self.tmp.name,
                           "not empty")
        a_file = os.path.join(self.tmp.name, "notes.txt")
        self.could_not_run(["snapshot", a_file, "--interval", "0"], a_file)


class Report(unittest.TestCase):
    def setUp(self):
        self.tuned = os.path.join(FIXTURES, "tuned")

    def json_of(self, *args):
        result = run("check", "--root", self.tuned, "--json", *args)
        self.assertIn(result.returncode, (0, 1, 2), result.stderr)
        return json.loads(result.stdout), result.returncode

    def test_text_agrees_with_json(self):
        report, code = self.json_of()
        result = run("check", "--root", self.tuned)
        self.assertEqual(result.returncode, code, result.stderr)
        text = result.stdout
        self.assertIn(f"snapshot {self.tuned}", text)
        self.assertRegex(text, r"isolated +2-3,6-7 \(from /sys/devices/system/cpu/isolated, "
                               r"/sys/devices/system/cpu/nohz_full\)")
        self.assertRegex(text, r"housekeeping +0-1,4-5\n")
        self.assertRegex(text, r"kernel +6\.1\.0-qc\n")
        self.assertRegex(text, r"arch +x86_64\n")
        counts = report["counts"]
        total = sum(counts.values())
        last = text.rstrip("\n").split("\n")[-1]
        self.assertRegex(last, rf"^{total} checks?: {counts['ok']} ok, {counts['warn']} warn, "
                               rf"{counts['fail']} fail, {counts['skip']} skip$")
        for check in report["checks"]:
            self.assertRegex(text, rf"\n  {check['status']} +{re.escape(check['id'])} ")

    def test_isolated_flag_overrides(self):
        report, _ = self.json_of("--isolated", "2-3")
        self.assertEqual(report["isolated"], "2-3")
        self.assertEqual(report["isolated_source"], "--isolated")
        self.assertEqual(report["housekeeping"], "0-1,4-7")

    def test_only_runs_the_prefix(self):
        report, _ = self.json_of()
        ids = [c["id"] for c in report["checks"]]
        if not ids:
            self.skipTest("no checks registered yet")
        area = ids[0].split(".")[0] + "."
        only, _ = self.json_of("--only", area)
        self.assertEqual([c["id"] for c in only["checks"]],
                         [i for i in ids if i.startswith(area)])


if __name__ == "__main__":
    QC_MONITOR, FIXTURES = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
