#!/usr/bin/env python3
"""qc-monitor watch on the live machine: a child pinned to CPU 1 sleeps 1 ms
in a loop (every wake-up is a timer interrupt on CPU 1) while
`watch --isolated 1 --json` runs. watch must flag timer breaks on CPU 1,
its counts must agree with /proc/interrupts read by this test, and watch
itself must run only on the housekeeping CPUs.

On a stock kernel CPU 1 ticks anyway, so no claim is made about an idle CPU 1.

usage: check_watch_live.py QC_MONITOR
"""
import json
import os
import subprocess
import sys
import time

QC = sys.argv[1]
SKIP = 77
INTERVALS = 3
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def timer_row(text):
    """(name, count on CPU 1) of the timer row: LOC on x86, arch_timer on arm64."""
    lines = text.splitlines()
    cpus = [int(w[3:]) for w in lines[0].split()]
    col = cpus.index(1)
    for line in lines[1:]:
        name, _, rest = line.partition(":")
        words = rest.split()
        name = name.strip()
        if name == "LOC" or line.rstrip().endswith("arch_timer"):
            return name, int(words[col])
    raise SystemExit("no timer row in /proc/interrupts")


def cpulist(text):
    cpus = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def read_interrupts():
    with open("/proc/interrupts") as f:
        return f.read()


if len(os.sched_getaffinity(0)) < 2 or 1 not in os.sched_getaffinity(0):
    print("skip: needs CPUs 0 and 1")
    sys.exit(SKIP)

LOAD = ("import os, time\n"
        "os.sched_setaffinity(0, {1})\n"
        "end = time.monotonic() + 30\n"
        "while time.monotonic() < end:\n"
        "    time.sleep(0.001)\n")
load = subprocess.Popen([sys.executable, "-c", LOAD])
try:
    time.sleep(0.3)
    kind, before = timer_row(read_interrupts())
    t0 = time.monotonic()
    watch = subprocess.Popen(
        [QC, "watch", "--isolated", "1", "--json", "--interval", "1", "--count", str(INTERVALS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = watch.stdout.readline()
    # While it runs: every thread of watch is off CPU 1.
    allowed = set()
    for tid in os.listdir(f"/proc/{watch.pid}/task"):
        with open(f"/proc/{watch.pid}/task/{tid}/status") as f:
            for line in f:
                if line.startswith("Cpus_allowed_list:"):
                    allowed |= cpulist(line.split(":", 1)[1].strip())
    rest, err = watch.communicate(timeout=30)
    _, after = timer_row(read_interrupts())
    elapsed = time.monotonic() - t0
finally:
    load.kill()
    load.wait()

print(err, end="")
check(watch.returncode == 0, f"watch exit {watch.returncode}")
with open("/sys/devices/system/cpu/online") as f:
    housekeeping = cpulist(f.read().strip()) - {1}
check(allowed == housekeeping,
      f"watch runs on the housekeeping CPUs {sorted(housekeeping)} only: allowed on "
      f"{sorted(allowed)}")
check("running on housekeeping CPUs" in err, f"watch says where it runs: {err!r}")

lines = [json.loads(line) for line in (first + rest).splitlines() if line.strip()]
check(len(lines) == INTERVALS, f"{len(lines)} JSON lines, want {INTERVALS}")
watched = 0
for obj in lines:
    cpu1 = [c for c in obj["cpus"] if c["cpu"] == 1]
    check(len(cpu1) == 1 and len(obj["cpus"]) == 1, f"only CPU 1 listed: {obj['cpus']}")
    if not cpu1:
        continue
    timer = cpu1[0]["interrupts"].get(kind)
    check(timer is not None, f"{kind} moved on CPU 1 under load: {cpu1[0]['interrupts']}")
    if timer is None:
        continue
    watched += timer["count"]
    check(timer["rate"] > 100, f"{kind} rate on CPU 1 under a 1 ms sleep loop: {timer['rate']}")
    breaks = [b for b in obj["breaks"] if b["cpu"] == 1 and b["kind"] == kind]
    check(len(breaks) == 1, f"one {kind} break on CPU 1 flagged: {obj['breaks']}")
    if breaks:
        b = breaks[0]
        check(b["count"] == timer["count"] and b["count"] > b["allowed"] >= 1,
              f"break count {b['count']} vs rate table {timer['count']}, allowed {b['allowed']}")
        check(b["source"] == "interrupt", f"break source {b['source']}")
    check(all(b["cpu"] == 1 or b["source"] == "kernel" for b in obj["breaks"]),
          f"breaks only on the isolated CPU: {obj['breaks']}")

# watch's window lies inside this test's two readings.
delta = after - before
print(f"{kind} on CPU 1: watch counted {watched} in {INTERVALS} intervals; "
      f"/proc/interrupts moved {delta} in {elapsed:.2f} s")
check(0 < watched <= delta, f"watch's {kind} count {watched} within the test's {delta}")
check(watched >= 0.5 * delta * INTERVALS / elapsed,
      f"watch's {kind} count {watched} is most of the test's {delta} "
      f"({INTERVALS} of {elapsed:.2f} s)")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")
