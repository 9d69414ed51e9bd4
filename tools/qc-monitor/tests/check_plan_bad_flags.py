#!/usr/bin/env python3
"""Bad flags and flag values make `qc-monitor plan` exit 2 with a message
naming the flag and the bad input.

usage: check_plan_bad_flags.py QC_MONITOR
"""

import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_sysfs import FakeSysfs  # noqa: E402

QC_MONITOR = ""


def run(*args):
    return subprocess.run([QC_MONITOR, *args], capture_output=True, text=True, check=False)


class BadFlags(unittest.TestCase):
    def setUp(self):
        self.sysfs = FakeSysfs("0-3", "0-3", "")
        self.machine = ["--synthetic", "pack:1 core:2 pu:2", "--sysfs", self.sysfs.root]

    def tearDown(self):
        self.sysfs.__exit__(None, None, None)

    def expect_usage_error(self, args, *named):
        result = run(*args)
        self.assertEqual(result.returncode, 2, f"{args}: stderr {result.stderr!r}")
        self.assertEqual(result.stdout, "", args)
        for text in named:
            self.assertIn(text, result.stderr, args)

    def test_malformed_isolated_list_names_flag_and_token(self):
        self.expect_usage_error(["plan", *self.machine, "--isolated", "1,2-x"],
                                "--isolated", '"2-x"')

    def test_reversed_isolated_range_names_token(self):
        self.expect_usage_error(["plan", *self.machine, "--isolated", "3-1"],
                                "--isolated", '"3-1"')

    def test_bad_synthetic_description_names_flag(self):
        self.expect_usage_error(["plan", "--synthetic", "pack:2 bogus:3",
                                 "--sysfs", self.sysfs.root],
                                "--synthetic", "pack:2 bogus:3")

    def test_missing_topology_xml_names_flag_and_file(self):
        self.expect_usage_error(["plan", "--topology-xml", "/nonexistent/topo.xml",
                                 "--sysfs", self.sysfs.root],
                                "--topology-xml", "/nonexistent/topo.xml")

    def test_xml_and_synthetic_together(self):
        self.expect_usage_error(["plan", *self.machine, "--topology-xml", "x.xml"],
                                "--topology-xml", "--synthetic")

    def test_missing_sysfs_tree_names_flag(self):
        self.expect_usage_error(["plan", "--synthetic", "core:2 pu:1", "--sysfs", "/nonexistent"],
                                "--sysfs", "/nonexistent/devices/system/cpu/possible")

    def test_unknown_flag(self):
        self.expect_usage_error(["plan", "--frobnicate"], "--frobnicate")

    def test_no_subcommand(self):
        self.expect_usage_error([])

    def test_good_flags_succeed(self):
        result = run("plan", *self.machine, "--isolated", "2-3")
        self.assertEqual(result.returncode, 0, result.stderr)


if __name__ == "__main__":
    QC_MONITOR = sys.argv[1]
    unittest.main(argv=sys.argv[:1], verbosity=2)
