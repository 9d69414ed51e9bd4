"""Shared by compare-jitter and tests/jitter: run jitter_injector and qc-jitter,
and turn the injector's truth into what a tool measuring a window of it must see.

The injector runs longer than the measuring tool (started first, ending after
it), so every period of the tool's window holds one injected spin whatever
the tool's start-up time: expected count = window / period, expected stolen
time = that count times (the injector's mean spin + the cost of one
preemption). That cost (timer interrupt, wake-up, two context switches; about
50 us in a VM, where interrupt delivery alone costs ~35 us the guest kernel
cannot see) is not the injector's to know: callers calibrate it with an
independent tool at another spin length and pass it in.
"""

import json
import subprocess
import time

# Injector exit code for "SCHED_FIFO refused" (bench/jitter_injector.cpp).
EXIT_NO_REALTIME = 3


class NoRealtime(Exception):
    """The injector could not get SCHED_FIFO here."""


def start_injector(injector, cpu, duration_s, period_us=10000, spin_us=200, settle_s=0.3):
    """Starts the injector; raises NoRealtime if it is refused SCHED_FIFO."""
    proc = subprocess.Popen(
        [injector, "--cpu", str(cpu), "--duration", str(duration_s),
         "--period-us", str(period_us), "--spin-us", str(spin_us)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(settle_s)  # it has pinned and promoted itself (or failed) by now
    if proc.poll() is not None:
        out, err = proc.communicate()
        if proc.returncode == EXIT_NO_REALTIME:
            raise NoRealtime(err.strip())
        raise RuntimeError(f"injector exited {proc.returncode}: {err.strip()}")
    return proc


def finish_injector(proc):
    out, err = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"injector exited {proc.returncode}: {err.strip()}")
    return json.loads(out)


def mean_spin_ns(truth):
    return truth["spun_ns_total"] / truth["wakeups"]


def expected_in_window(truth, window_s, preemption_cost_ns=0.0):
    """(count, stolen_ns) the injector put into a measuring window of window_s."""
    count = window_s * 1e6 / truth["period_us"]
    return count, count * (mean_spin_ns(truth) + preemption_cost_ns)


def run_qc_jitter(qc_jitter, cpu, main_cpu, duration_s, json_path, threshold_ns=20000,
                  bucket_width_ns=1000, bucket_count=64):
    cmd = [qc_jitter, "--cpu-list", str(cpu), "--main-cpu", str(main_cpu),
           "--duration", str(duration_s), "--threshold", str(threshold_ns),
           "--bucket-width", str(bucket_width_ns), "--bucket-count", str(bucket_count),
           "--max-records", "100000", "--json", json_path, "--quiet"]
    run = subprocess.run(cmd, capture_output=True, text=True, timeout=duration_s + 60)
    if run.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {run.returncode}: {run.stderr.strip()}")
    with open(json_path) as f:
        return json.load(f)


def relative_error(measured, truth):
    return abs(measured - truth) / truth


def spins_in_run(truth, start_ns, duration_s):
    """The injector's [woke, end] spins that began inside a tool's run."""
    end_ns = start_ns + duration_s * 1e9
    return [(a, b) for a, b in truth["spins"] if start_ns <= a < end_ns]


def split_records(result, cpu_result, spins):
    """qc-jitter's recorded gaps as (injected, other) lengths in ns.

    A gap is injected when it overlaps one of the injector's spins, both on
    CLOCK_MONOTONIC (the JSON's start_monotonic_ns + a record's start_ns).
    """
    base = result["start_monotonic_ns"]
    injected, other = [], []
    i = 0
    for rec in cpu_result["records"]:
        start = base + rec["start_ns"]
        end = start + rec["length_ns"]
        while i < len(spins) and spins[i][1] < start:
            i += 1
        hit = i < len(spins) and spins[i][0] <= end
        (injected if hit else other).append(rec["length_ns"])
    return injected, other
