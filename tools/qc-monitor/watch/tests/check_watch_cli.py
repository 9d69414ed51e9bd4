#!/usr/bin/env python3
"""qc-monitor watch / serve on small fake roots: the errors a user meets
(no isolated CPUs, a missing root or /proc/interrupts, a bad interval, an
address in use) and the shape of the output when nothing moves.

usage: check_watch_cli.py QC_MONITOR
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

QC = sys.argv[1]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


INTERRUPTS = """\
           CPU0       CPU1       
  24:          1          0  IO-APIC   5-edge      ACPI:Ged
LOC:    7354933    7235419   Local timer interrupts
RES:     754447     405638   Rescheduling interrupts
ERR:          0
"""
SOFTIRQS = """\
                    CPU0       CPU1       
          HI:          0          0
       TIMER:     547829     805441
"""


def make_root(base, isolated=None, interrupts=True):
    files = {
        "sys/devices/system/cpu/online": "0-1\n",
        "proc/sys/kernel/arch": "x86_64\n",
        "proc/sys/kernel/osrelease": "6.1.0-test\n",
        "proc/softirqs": SOFTIRQS,
    }
    if isolated is not None:
        files["sys/devices/system/cpu/isolated"] = isolated + "\n"
    if interrupts:
        files["proc/interrupts"] = INTERRUPTS
    for path, text in files.items():
        full = os.path.join(base, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    return base


def run(*args, timeout=30):
    return subprocess.run([QC, *args], capture_output=True, text=True, timeout=timeout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


with tempfile.TemporaryDirectory() as tmp:
    # No isolated CPUs anywhere: exit 3, the reason and the hint.
    none = make_root(os.path.join(tmp, "none"), isolated="")
    r = run("watch", "--root", none, "--count", "1")
    check(r.returncode == 3, f"no isolated CPUs: exit {r.returncode}, want 3 ({r.stderr!r})")
    check("no isolated CPUs" in r.stderr and "--isolated" in r.stderr,
          f"no isolated CPUs: the message names the problem and the flag: {r.stderr!r}")
    check(r.stdout == "", f"no isolated CPUs: nothing on stdout: {r.stdout!r}")

    # A root that does not exist, and one without /proc/interrupts.
    r = run("watch", "--root", os.path.join(tmp, "nope"), "--isolated", "1", "--count", "1")
    check(r.returncode == 3 and "--root" in r.stderr,
          f"missing root: exit {r.returncode} {r.stderr!r}")
    noirq = make_root(os.path.join(tmp, "noirq"), isolated="1", interrupts=False)
    r = run("watch", "--root", noirq, "--count", "1")
    check(r.returncode == 3 and "/proc/interrupts" in r.stderr,
          f"no /proc/interrupts: exit {r.returncode} {r.stderr!r}")

    # Bad flag values are usage errors.
    tuned = make_root(os.path.join(tmp, "tuned"), isolated="1")
    for bad in (["--interval", "0"], ["--interval", "x"], ["--isolated", "1-"], ["--count", "-1"]):
        r = run("watch", "--root", tuned, *bad)
        check(r.returncode == 3, f"watch {bad}: exit {r.returncode}, want 3 ({r.stderr!r})")

    # Isolated CPU 1 from the root's /sys; the counters never move there.
    r = run("watch", "--root", tuned, "--count", "2", "--interval", "0.1", "--json")
    check(r.returncode == 0, f"watch --json: exit {r.returncode} {r.stderr!r}")
    lines = [json.loads(line) for line in r.stdout.splitlines()]
    check(len(lines) == 2, f"watch --count 2: {len(lines)} JSON lines")
    for obj in lines:
        check(obj["isolated"] == "1", f"isolated is 1: {obj['isolated']}")
        check([c["cpu"] for c in obj["cpus"]] == [1], f"only CPU 1 listed: {obj['cpus']}")
        check(obj["breaks"] == [], f"static counters flag no break: {obj['breaks']}")
        check(obj["cpus"][0]["interrupts"] == {}, "nothing moved")
        check(0.05 < obj["interval_seconds"] < 1.0, f"interval {obj['interval_seconds']}")
    check("/sys/devices/system/cpu/isolated" in r.stderr,
          f"says where the isolated CPUs came from: {r.stderr!r}")
    check("housekeeping CPUs 0" in r.stderr, f"says where it runs: {r.stderr!r}")

    # The table.
    r = run("watch", "--root", tuned, "--count", "1", "--interval", "0.1", "--isolated", "0-1")
    check(r.returncode == 3,
          f"every CPU isolated leaves no housekeeping CPU: exit {r.returncode}")
    check("no housekeeping CPU" in r.stderr, f"no housekeeping CPU: {r.stderr!r}")
    r = run("watch", "--root", tuned, "--count", "1", "--interval", "0.1")
    rows = r.stdout.splitlines()
    check(r.returncode == 0 and len(rows) == 2, f"table: header and one row: {r.stdout!r}")
    if len(rows) == 2:
        check(rows[0].split()[:5] == ["time", "cpu", "irq/s", "softirq/s", "ctxsw/s"],
              f"table header {rows[0]!r}")
        check(rows[1].split()[1:4] == ["1", "0.0", "0.0"], f"table row {rows[1]!r}")

    # watch until SIGTERM: exit 0.
    p = subprocess.Popen([QC, "watch", "--root", tuned, "--interval", "0.1", "--json"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = p.stdout.readline()
    p.send_signal(signal.SIGTERM)
    out, err = p.communicate(timeout=10)
    check(p.returncode == 0, f"watch SIGTERM: exit {p.returncode} {err!r}")
    check(json.loads(first)["isolated"] == "1", "watch printed a line before SIGTERM")

    # serve on a fake root: /status, /metrics, SIGINT.
    port = free_port()
    p = subprocess.Popen([QC, "serve", "--root", tuned, "--listen", f"127.0.0.1:{port}",
                          "--interval", "0.2", "--check-interval", "0"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    banner = p.stdout.readline()
    check(f"port {port}" in banner, f"serve banner names the port: {banner!r}")
    time.sleep(0.5)
    try:
        status = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/status", timeout=5))
        check(status["isolated"] == "1" and status["running_on"] == "0", f"/status {status}")
        check(status["samples"] >= 2, f"/status samples {status['samples']}")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
        text = metrics.read().decode()
        check(metrics.headers["Content-Type"].startswith("text/plain; version=0.0.4"),
              f"content type {metrics.headers['Content-Type']}")
        check('quietcore_cpu_interrupts_total{cpu="1",description="Local timer interrupts",'
              'kind="LOC"} 7235419' in text, "LOC of CPU 1 mirrors the root's count")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/nope", timeout=5)
            check(False, "/nope answered 200")
        except urllib.error.HTTPError as e:
            check(e.code == 404, f"/nope: {e.code}")

        # A second server on the same port cannot start.
        r = run("serve", "--root", tuned, "--listen", f"127.0.0.1:{port}")
        check(r.returncode == 3 and f"127.0.0.1:{port}" in r.stderr,
              f"address in use: exit {r.returncode} {r.stderr!r}")
    finally:
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=10)
    check(p.returncode == 0, f"serve SIGINT: exit {p.returncode} {err!r}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")
