#!/usr/bin/env python3
"""`qc-monitor check --root` on the tuned fixture (every check ok, exit 0)
and on each fault fixture (exactly the expected checks flagged, nothing else).

usage: check_fixtures.py QC_MONITOR FIXTURES_DIR

A fault is FIXTURES_DIR/faults/<name>/: a copy of tuned/ with something
broken. Its fault.json keys:
  "description"  what is broken (required).
  "remove"       ["proc/interrupts", ...]: files or directories deleted
                 from the copy, relative to its root.
  overlay/       (a directory beside fault.json, not a key) files copied
                 over the copy.
  "args"         ["--isolated", "2-3"]: extra arguments of `check`.
Then either the run judges the machine:
  "expect"       {"<check id>": "fail" | "warn", ...}: EXACTLY the checks
                 that warn or fail; every other check must be ok.
  "tolerate"     {"statuses": ["fail", "skip"], "mentions": "/proc/interrupts",
                 "ids_start_with": "rates."} (optional): a check outside
                 "expect" may also have one of these statuses when its id
                 starts with ids_start_with (default: any id) and its summary
                 or an evidence path contains mentions (default: no need).
                 For faults whose checks may not exist yet, or that several
                 checks legitimately notice (a malformed shared file).
  "require"      {"ids_start_with": "rates.", "count": "some" | "all"}
                 (optional, with tolerate): once a check with that id prefix
                 exists, some / all of them must be flagged as tolerated.
or it cannot start:
  "exit"             the exit status (3: could not run).
  "stderr_contains"  a string or a list of strings stderr must contain;
                     stdout must be empty.
Every judged run is also held to the JSON contract (keys, statuses,
evidence on every non-skip, a fix on every warn / fail, counts, exit
status = the worst verdict). On a failure the checks' JSON is printed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

QC_MONITOR = ""
FIXTURES = ""

STATUSES = ("ok", "warn", "fail", "skip")
TOP_KEYS = {"root", "isolated", "isolated_source", "housekeeping", "online", "arch",
            "kernel_release", "interval_seconds", "counts", "checks", "exit_status"}
CHECK_KEYS = {"id", "title", "status", "summary", "evidence", "fix"}
FAULT_KEYS = {"description", "remove", "args", "expect", "tolerate", "require", "exit",
              "stderr_contains"}
MIN_CHECKS = 25  # issue 7


def run_check(root, *args):
    return subprocess.run([QC_MONITOR, "check", "--root", root, "--json", *args],
                          capture_output=True, text=True, check=False)


def link_or_copy(src, dst):
    """Hard links make the ~100 copies of tuned/ cheap; overlays never write
    through them (apply_overlay replaces files)."""
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)


def apply_overlay(overlay, root):
    """Copies overlay/ over root, replacing (never rewriting) what is there."""
    for dirpath, dirnames, filenames in os.walk(overlay):
        target_dir = os.path.join(root, os.path.relpath(dirpath, overlay))
        os.makedirs(target_dir, exist_ok=True)
        links = [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]
        for name in filenames + links:
            src, dst = os.path.join(dirpath, name), os.path.join(target_dir, name)
            if os.path.isdir(dst) and not os.path.islink(dst):
                shutil.rmtree(dst)
            elif os.path.lexists(dst):
                os.remove(dst)
            if os.path.islink(src):
                os.symlink(os.readlink(src), dst)
            else:
                shutil.copy2(src, dst)


def worst(statuses):
    if "fail" in statuses:
        return 2
    if "warn" in statuses:
        return 1
    return 0


def dump(checks):
    return json.dumps(checks, indent=2)


class Fixtures(unittest.TestCase):
    def judged(self, root, *args):
        """Runs check on root and returns its JSON, held to the contract."""
        result = run_check(root, *args)
        try:
            report = json.loads(result.stdout)
        except json.JSONDecodeError:
            self.fail(f"exit {result.returncode}, not JSON on stdout: {result.stdout!r}, "
                      f"stderr {result.stderr!r}")
        self.assert_contract(report, result.returncode)
        return report

    def assert_contract(self, report, returncode):
        self.assertEqual(set(report), TOP_KEYS)
        checks = report["checks"]
        ids = [c["id"] for c in checks]
        self.assertEqual(len(ids), len(set(ids)), f"duplicate ids: {ids}")
        for check in checks:
            where = f"check {check.get('id')}:\n{dump(check)}"
            self.assertEqual(set(check), CHECK_KEYS, where)
            self.assertIn(check["status"], STATUSES, where)
            self.assertTrue(check["title"], where)
            self.assertTrue(check["summary"], where)
            if check["status"] != "skip":
                self.assertTrue(check["evidence"], f"no evidence: {where}")
            for evidence in check["evidence"]:
                self.assertEqual(set(evidence), {"path", "value"}, where)
                self.assertTrue(evidence["path"].startswith("/"),
                                f"evidence path is not a system path: {where}")
                self.assertNotIn(report["root"] + "/", evidence["path"],
                                 f"evidence names the snapshot, not the system path: {where}")
            if check["status"] in ("warn", "fail"):
                self.assertTrue(check["fix"], f"no fix: {where}")
                self.assertNotIn("\n", check["fix"], f"fix is not one line: {where}")
            else:
                self.assertEqual(check["fix"], "", where)
        statuses = [c["status"] for c in checks]
        self.assertEqual(report["counts"], {s: statuses.count(s) for s in STATUSES})
        self.assertEqual(report["exit_status"], worst(statuses), dump(checks))
        self.assertEqual(returncode, report["exit_status"])

    def test_tuned_is_all_ok(self):
        root = os.path.join(FIXTURES, "tuned")
        report = self.judged(root)
        not_ok = [c for c in report["checks"] if c["status"] != "ok"]
        self.assertEqual(not_ok, [], f"on the tuned machine every check must be ok:\n"
                                     f"{dump(not_ok)}")
        self.assertEqual(report["exit_status"], 0)
        self.assertEqual(report["root"], root)
        self.assertEqual(report["isolated"], "2-3,6-7")
        self.assertEqual(report["isolated_source"],
                         "/sys/devices/system/cpu/isolated, /sys/devices/system/cpu/nohz_full")
        self.assertEqual(report["housekeeping"], "0-1,4-5")
        self.assertEqual(report["online"], "0-7")
        self.assertEqual(report["arch"], "x86_64")
        self.assertEqual(report["kernel_release"], "6.1.0-qc")
        self.assertEqual(report["interval_seconds"], 1.0)

    def test_tuned_has_the_issues_checks(self):
        checks = self.judged(os.path.join(FIXTURES, "tuned"))["checks"]
        if not checks:
            self.skipTest("no checks registered yet")
        self.assertGreaterEqual(len(checks), MIN_CHECKS, [c["id"] for c in checks])

    # One test per fault directory, added in main().
    def check_fault(self, name):
        fault_dir = os.path.join(FIXTURES, "faults", name)
        with open(os.path.join(fault_dir, "fault.json"), encoding="utf-8") as f:
            fault = json.load(f)
        self.assertEqual(set(fault) - FAULT_KEYS, set(), f"{name}: unknown fault.json keys")
        self.assertTrue(fault.get("description"), f"{name}: no description")
        self.assertNotEqual("exit" in fault, "expect" in fault,
                            f"{name}: give either expect or exit")
        with tempfile.TemporaryDirectory(prefix=f"qc-fault-{name}-") as tmp:
            root = os.path.join(tmp, "root")
            shutil.copytree(os.path.join(FIXTURES, "tuned"), root, symlinks=True,
                            copy_function=link_or_copy)
            changed = bool(fault.get("args"))
            for rel in fault.get("remove", []):
                path = os.path.join(root, rel)
                self.assertTrue(os.path.lexists(path), f"{name}: remove {rel}: not in tuned/")
                shutil.rmtree(path) if os.path.isdir(path) else os.remove(path)
                changed = True
            overlay = os.path.join(fault_dir, "overlay")
            if os.path.isdir(overlay):
                apply_overlay(overlay, root)
                changed = True
            self.assertTrue(changed, f"{name}: the fault changes nothing")
            args = fault.get("args", [])
            if "exit" in fault:
                self.check_refusal(name, fault, run_check(root, *args))
            else:
                self.check_verdicts(name, fault, self.judged(root, *args))

    def check_refusal(self, name, fault, result):
        self.assertEqual(result.returncode, fault["exit"],
                         f"{name}: stdout {result.stdout!r} stderr {result.stderr!r}")
        self.assertEqual(result.stdout, "", name)
        wanted = fault.get("stderr_contains", [])
        for text in [wanted] if isinstance(wanted, str) else wanted:
            self.assertIn(text, result.stderr, name)

    def check_verdicts(self, name, fault, report):
        checks = report["checks"]
        expect = fault["expect"]
        for check_id, status in expect.items():
            self.assertIn(status, ("warn", "fail"), f"{name}: expect {check_id}: {status}")
        ids = {c["id"] for c in checks}
        missing = sorted(set(expect) - ids)
        self.assertEqual(missing, [], f"{name}: expected checks not registered")
        tolerate = fault.get("tolerate")
        unexpected, tolerated = [], []
        for check in checks:
            if check["id"] in expect or check["status"] == "ok":
                continue
            (tolerated if self.tolerated(tolerate, check) else unexpected).append(check)
        flagged = {c["id"]: c["status"] for c in checks
                   if c["id"] in expect and c["status"] in ("warn", "fail")}
        wrong = [c for c in checks if c["id"] in expect and flagged.get(c["id"]) != expect[c["id"]]]
        self.assertEqual(wrong, [], f"{name}: {fault['description']}\nexpected {expect}, "
                                    f"these checks gave something else:\n{dump(wrong)}")
        self.assertEqual(unexpected, [], f"{name}: {fault['description']}\nonly {sorted(expect)} "
                                         f"may be flagged, yet:\n{dump(unexpected)}")
        require = fault.get("require")
        if require:
            self.assertIsNotNone(tolerate, f"{name}: require without tolerate")
            prefix = require["ids_start_with"]
            group = [c for c in checks if c["id"].startswith(prefix)]
            hits = [c for c in tolerated if c["id"].startswith(prefix)]
            if require["count"] == "all":
                self.assertEqual(len(hits), len(group),
                                 f"{name}: every {prefix}* check must notice:\n{dump(group)}")
            elif group:
                self.assertTrue(hits, f"{name}: some {prefix}* check must notice:\n{dump(group)}")

    @staticmethod
    def tolerated(tolerate, check):
        if not tolerate or check["status"] not in tolerate["statuses"]:
            return False
        if not check["id"].startswith(tolerate.get("ids_start_with", "")):
            return False
        mentions = tolerate.get("mentions")
        if mentions is None:
            return True
        return (mentions in check["summary"]
                or any(mentions in e["path"] for e in check["evidence"]))


def add_fault_tests():
    faults_dir = os.path.join(FIXTURES, "faults")
    names = sorted(os.listdir(faults_dir)) if os.path.isdir(faults_dir) else []
    for name in names:
        def test(self, name=name):
            self.check_fault(name)
        setattr(Fixtures, "test_fault_" + name.replace("-", "_"), test)


if __name__ == "__main__":
    QC_MONITOR, FIXTURES = sys.argv[1], sys.argv[2]
    add_fault_tests()
    unittest.main(argv=sys.argv[:1], verbosity=2)
