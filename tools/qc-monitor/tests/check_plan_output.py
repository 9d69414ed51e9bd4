#!/usr/bin/env python3
"""Runs `qc-monitor plan` on described machines with fake sysfs trees and
checks the plan it prints, as JSON and as the text report.

usage: check_plan_output.py QC_MONITOR TOPOLOGY_XML
"""

import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fake_sysfs import FakeSysfs  # noqa: E402

QC_MONITOR = ""
TOPOLOGY_XML = ""

# 2 packages x 2 NUMA nodes x 4 cores x 2 PUs: core k = CPUs 2k, 2k+1,
# NUMA node n = CPUs 8n..8n+7.
TWO_SOCKET_SMT = "pack:2 numa:2 core:4 pu:2"


def run_plan(*args):
    result = subprocess.run([QC_MONITOR, "plan", *args], capture_output=True, text=True,
                            check=False)
    if result.returncode != 0:
        raise AssertionError(f"qc-monitor plan {' '.join(args)} exited {result.returncode}: "
                             f"{result.stderr}")
    return result.stdout


def kinds(plan):
    return {(f["kind"], f["severity"], f["cpus"]) for f in plan["findings"]}


class PlanOutput(unittest.TestCase):
    def test_json_whole_numa_node_isolated(self):
        with FakeSysfs("0-31", "0-31", "4-15", "4-15") as sysfs:
            report = json.loads(run_plan("--synthetic", TWO_SOCKET_SMT, "--sysfs", sysfs.root,
                                         "--json"))
        plan = report["plan"]
        self.assertEqual(plan["candidate_source"], "kernel")
        self.assertEqual(plan["workers"], "4,6,10,12,14")
        self.assertEqual(plan["idle"], "5,7,11,13,15")
        self.assertEqual(plan["housekeeping"], "0-3,8-9,16-31")
        self.assertIn(("numa-node-housekeeping-restored", "warning", "8-9"), kinds(plan))
        self.assertEqual(report["kernel"]["nohz_full_state"], "on")
        self.assertEqual(report["kernel"]["sysfs_root"], sysfs.root)
        topo = report["topology"]
        self.assertEqual(len(topo["cpus"]), 32)
        roles = {c["cpu"]: c["role"] for c in topo["cpus"]}
        self.assertEqual(roles[4], "worker")
        self.assertEqual(roles[5], "idle")
        self.assertEqual(roles[8], "housekeeping")

    def test_text_report_soft_plan(self):
        with FakeSysfs("0-31", "0-29", "", "(null)") as sysfs:
            text = run_plan("--synthetic", TWO_SOCKET_SMT, "--sysfs", sysfs.root)
        lines = text.splitlines()
        self.assertTrue(lines[0].startswith(f'Topology: hwloc synthetic "{TWO_SOCKET_SMT}"'),
                        lines[0])
        self.assertIn("  PACKAGE  NUMA  CORE  CPU  ROLE", lines)
        # CPU 2: package 0, NUMA node 0, core 1, the worker of its core.
        self.assertIn(("0", "0", "1", "2", "worker"), [tuple(l.split()) for l in lines])
        self.assertIn(("1", "3", "15", "31", "offline"), [tuple(l.split()) for l in lines])
        self.assertIn("  workers       2,4,6,10,12,14,18,20,22,26,28", lines)
        self.assertIn("  housekeeping  0-1,8-9,16-17,24-25", lines)
        self.assertIn("  offline       30-31", lines)
        self.assertIn("  nohz_full     off", lines)
        self.assertTrue(any(l.startswith("  warning   soft-isolation-only: ") for l in lines),
                        text)

    def test_text_report_user_request_violation(self):
        with FakeSysfs("0-31", "0-31", "") as sysfs:
            text = run_plan("--synthetic", TWO_SOCKET_SMT, "--sysfs", sysfs.root,
                            "--isolated", "2-4")
        lines = text.splitlines()
        self.assertIn("Plan (candidates: requested by the user):", lines)
        self.assertIn("  workers       2", lines)
        self.assertIn("  idle          3", lines)
        violation = [l for l in lines if l.startswith("  violation sibling-is-housekeeping: ")]
        self.assertEqual(len(violation), 1, text)
        self.assertIn("CPU 4", violation[0])
        self.assertIn("CPU 5", violation[0])

    def test_xml_topology_caches_summary(self):
        with FakeSysfs("0-31", "0-31", "2-7,18-23", "2-7,18-23") as sysfs:
            text = run_plan("--topology-xml", TOPOLOGY_XML, "--sysfs", sysfs.root)
        lines = text.splitlines()
        self.assertIn("  L1d 48 KiB    x16 (each shared by 2 CPUs)", lines)
        self.assertIn("  L3  16 MiB    x4 (each shared by 8 CPUs)", lines)
        self.assertIn("  workers       2-3,5-7", lines)
        # Core 2 holds CPUs 2 and 18: consecutive rows, worker then idle.
        rows = [tuple(l.split()) for l in lines]
        at = rows.index(("0", "0", "2", "2", "worker"))
        self.assertEqual(rows[at + 1], ("0", "0", "2", "18", "idle"))


if __name__ == "__main__":
    QC_MONITOR, TOPOLOGY_XML = sys.argv[1], sys.argv[2]
    unittest.main(argv=sys.argv[:1], verbosity=2)
