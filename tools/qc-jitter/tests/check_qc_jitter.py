#!/usr/bin/env python3
"""Runs the real qc-jitter briefly on CPU 1 and checks its JSON and its
rejection of bad input (exit 2, message naming the flag)."""
import json
import os
import subprocess
import sys
import tempfile
import time

TOOL = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(args):
    return subprocess.run([TOOL] + args, capture_output=True, text=True, timeout=60)


def online_cpus():
    with open("/sys/devices/system/cpu/online") as f:
        text = f.read().strip()
    cpus = set()
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def check_run():
    cpus = online_cpus()
    cpu = 1 if 1 in cpus else min(cpus)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.json")
        before_ns = time.monotonic_ns()
        r = run(["--cpu-list", str(cpu), "--duration", "0.5", "--threshold", "5000",
                 "--max-records", "50", "--json", path])
        check(r.returncode == 0, f"run exit {r.returncode}: {r.stderr}")
        if r.returncode != 0:
            return
        after_ns = time.monotonic_ns()
        check("loop cost (ns)" in r.stdout and "p99.99 (ns)" in r.stdout, "table printed")
        with open(path) as f:
            d = json.load(f)
    check(d["tool"] == "qc-jitter" and d["schema"] == 1, "tool and schema")
    check(d["duration_s"] == 0.5 and d["threshold_ns"] == 5000, "duration and threshold echoed")
    # Python's monotonic clock is CLOCK_MONOTONIC: the run began after we
    # started the tool and its 0.5 s ended before it exited.
    check(before_ns < d["start_monotonic_ns"] < after_ns - 0.5e9,
          "start_monotonic_ns within the tool's lifetime on CLOCK_MONOTONIC")
    check(d["counter"]["hz"] > 0 and d["counter"]["name"], "counter")
    check(len(d["cpus"]) == 1 and d["cpus"][0]["cpu"] == cpu, "one entry for the CPU")
    c = d["cpus"][0]
    check(c["loops"] > 0, "loops > 0")
    check(c["loop_cost_ns"] == c["min_ns"], "loop cost is the minimum delta")
    check(c["min_ns"] <= c["p50_ns"] <= c["p99_ns"] <= c["p999_ns"] <= c["p9999_ns"] <= c["max_ns"],
          "min <= p50 <= p99 <= p99.9 <= p99.99 <= max")
    check(c["min_ns"] <= c["mean_ns"] <= c["max_ns"], "mean within [min, max]")
    h = c["histogram"]
    check(h["bucket_width_ns"] == 1000 and len(h["counts"]) == 64, "histogram shape")
    check(sum(h["counts"]) + h["overflow"] == c["loops"], "histogram counts + overflow == loops")
    recs = c["records"]
    check(len(recs) <= 50, "records bounded by --max-records")
    check(len(recs) + c["records_dropped"] == c["interruptions"], "records + dropped == interruptions")
    check(all(r["length_ns"] >= 5000 for r in recs), "records at or above the threshold")
    check(all(a["start_ns"] < b["start_ns"] for a, b in zip(recs, recs[1:])), "records in order")
    # Every gap starts before the end; only the last delta may cross it.
    check(all(r["start_ns"] + r["length_ns"] <= 0.5e9 + c["max_ns"] for r in recs),
          "records inside the run")
    if c["records_dropped"] == 0:
        check(c["stolen_ns"] == sum(r["length_ns"] - c["loop_cost_ns"] for r in recs),
              "stolen == sum of recorded gaps minus loop cost")
    check(0 <= c["stolen_pct"] < 100, "stolen percent in range")
    a = c["attribution"]
    check(isinstance(a["interrupts"], dict) and isinstance(a["softirqs"], dict), "attribution maps")
    check(all(v > 0 for v in list(a["interrupts"].values()) + list(a["softirqs"].values())),
          "attribution only non-zero")
    check(a["involuntary_ctxt_switches"] >= 0, "ctxt switches")
    check("isolation_breaks" not in a, "no isolation_breaks without --isolate")


def check_isolate():
    if os.environ.get("QC_EMULATED"):
        print("skipped --isolate: qemu-user has no seccomp syscall (ENOSYS)")
        return
    cpus = online_cpus()
    cpu = 1 if 1 in cpus else min(cpus)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "out.json")
        r = run(["--cpu-list", str(cpu), "--duration", "0.3", "--isolate", "--quiet",
                 "--json", path])
        check(r.returncode == 0, f"--isolate exit {r.returncode}: {r.stderr}")
        if r.returncode != 0:
            return
        check(r.stdout == "", "--quiet prints no table")
        with open(path) as f:
            d = json.load(f)
    c = d["cpus"][0]
    # The kernel back end exactly when the kernel has the patch's /proc file.
    patched = os.path.exists(f"/proc/self/task/{os.getpid()}/task_isolation")
    check(d.get("isolation_backend") == ("kernel" if patched else "soft"),
          f"isolation_backend {d.get('isolation_backend')} (patched kernel: {patched})")
    b = c["attribution"].get("isolation_breaks")
    check(isinstance(b, dict), "isolation_breaks present with --isolate")
    if isinstance(b, dict):
        # The loop makes no syscall: the seccomp supervisor must see none.
        check(b.get("syscall") == 0, f"no syscall while measuring: {b}")
        check(all(isinstance(v, int) and v >= 0 for v in b.values()), "break counts")


def check_bad(args, flag):
    r = run(args)
    check(r.returncode == 2, f"{args}: exit {r.returncode}, want 2")
    check(flag in r.stderr, f"{args}: stderr names {flag}: {r.stderr!r}")


def check_bad_inputs():
    cpus = online_cpus()
    cpu = 1 if 1 in cpus else min(cpus)
    check_bad(["--cpu-list", "8000"], "--cpu-list")  # no such CPU
    check_bad(["--cpu-list", "1-"], "--cpu-list")  # malformed
    check_bad(["--cpu-list", "x"], "--cpu-list")
    check_bad(["--cpu-list", str(cpu), "--duration", "0"], "--duration")
    check_bad(["--cpu-list", str(cpu), "--duration", "-1"], "--duration")
    check_bad(["--cpu-list", str(cpu), "--bucket-width", "0"], "--bucket-width")
    check_bad(["--cpu-list", str(cpu), "--bucket-count", "0"], "--bucket-count")
    check_bad(["--cpu-list", str(cpu), "--main-cpu", str(cpu)], "--main-cpu")
    check_bad(["--cpu-list", str(cpu), "--threshold", "0", "--duration", "0.1"], "--threshold")
    check_bad(["--cpu-list", str(cpu), "--no-such-flag"], "--no-such-flag")
    offline = None
    base = "/sys/devices/system/cpu"
    for name in os.listdir(base):
        if name.startswith("cpu") and name[3:].isdigit() and int(name[3:]) not in cpus:
            offline = int(name[3:])
    if offline is not None:
        check_bad(["--cpu-list", str(offline)], "offline")


check_run()
check_isolate()
check_bad_inputs()
print("FAILED" if failures else "OK", len(failures), "failures")
sys.exit(1 if failures else 0)
