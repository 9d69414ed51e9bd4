#!/usr/bin/env python3
"""qc-fwd keeps its worker CPUs to its workers (DESIGN.md "Two kinds of
thread"): while it forwards on net_null with a worker on the last CPU, the
worker thread may run on that CPU only, and every other thread of the
process (main, signals, EAL interrupts, telemetry, isolation monitors) is
not allowed there at all.

Usage: thread_placement_test.py PATH/TO/qc-fwd
Exit 77 (meson: skipped) without root or with a single CPU.
"""

import os
import subprocess
import sys
import time
import unittest

QC_FWD = None


def allowed_cpus(text):
    """The Cpus_allowed_list of a /proc status text as a set of ints."""
    for line in text.splitlines():
        if line.startswith("Cpus_allowed_list:"):
            cpus = set()
            for part in line.split(":", 1)[1].strip().split(","):
                lo, _, hi = part.partition("-")
                cpus.update(range(int(lo), int(hi or lo) + 1))
            return cpus
    raise AssertionError("no Cpus_allowed_list line")


class ThreadPlacement(unittest.TestCase):

    def test_only_the_worker_may_run_on_the_worker_cpu(self):
        worker_cpu = max(os.sched_getaffinity(0))
        proc = subprocess.Popen(
            [QC_FWD, "--port", "net_null0", "--port", "net_null1", "--workers",
             f"{worker_cpu}-{worker_cpu}", "--duration", "20", "--stats-interval", "1",
             "--file-prefix", f"qc-placement-{os.getpid()}"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            threads = {}
            deadline = time.monotonic() + 60
            # Wait for the first live stats line: the workers forward by then.
            for line in proc.stdout:
                if " Mpps" in line and line.startswith("["):
                    break
                self.assertLess(time.monotonic(), deadline, "qc-fwd printed no stats")
            for tid in os.listdir(f"/proc/{proc.pid}/task"):
                base = f"/proc/{proc.pid}/task/{tid}"
                with open(f"{base}/comm") as f, open(f"{base}/status") as g:
                    threads[f"{f.read().strip()} ({tid})"] = allowed_cpus(g.read())
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=60)
        self.assertEqual(proc.returncode, 0, out)
        workers = {n: c for n, c in threads.items() if n.startswith("rte-worker")}
        self.assertEqual(list(workers.values()), [{worker_cpu}], threads)
        intruders = {n: sorted(c) for n, c in threads.items()
                     if n not in workers and worker_cpu in c}
        self.assertEqual(intruders, {}, f"threads allowed on worker CPU {worker_cpu}")


if __name__ == "__main__":
    if os.geteuid() != 0 or len(os.sched_getaffinity(0)) < 2:
        print("needs root and two CPUs")
        sys.exit(77)
    QC_FWD = sys.argv.pop(1)
    unittest.main()
