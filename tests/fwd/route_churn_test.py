#!/usr/bin/env python3
"""Route churn under traffic (issue 6, e2e): qc-fwd in l3fwd mode between
two namespaces (the set-up of l3fwd_mode_test.py), routes added at run time
with qc-fwd-ctl over DPDK telemetry, then >= 10,000 route updates in one
`qc-fwd-ctl --batch` while an iperf3 TCP stream crosses qc-fwd.

The updates add, replace and delete prefixes no traffic uses and re-add
the two live routes (an add replaces the route with the same prefix): a
table a worker could see half-updated would lose packets to no_route, so
the summary must show no no_route drop, and iperf3 must carry traffic in
every second of the churn. qc-fwd must exit 0 at SIGTERM with
routes.updates >= 10,000 and, when it is an ASan build (the e2e suite of
the ASan build dir runs this test with its own qc-fwd), nothing in the
ASan/UBSan logs. A non-ASan qc-fwd is said so in the output.

Usage: route_churn_test.py PATH/TO/qc-fwd PATH/TO/qc-fwd-ctl
  QC_E2E_ASAN_QC_FWD=PATH overrides qc-fwd with an ASan build's.
Exit 77 (meson: skipped) without root, /dev/net/tun, ip, ping or iperf3.
"""

import glob
import os
import signal
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fwdnet  # noqa: E402

QC_FWD = None
QC_FWD_CTL = None
UPDATES = 10_000
LIVE_EVERY = 50          # re-add both live routes every LIVE_EVERY updates
IPERF_S = 3              # one iperf3 run; runs repeat until the batch ended

PORT0_MAC = "02:00:00:e2:00:00"
PORT1_MAC = "02:00:00:e2:00:01"
A_MAC = "02:00:00:e2:0a:02"
B_MAC = "02:00:00:e2:0b:02"
LIVE_ROUTES = (f"10.2.0.0/24 port 1 mac {B_MAC}", f"10.1.0.0/24 port 0 mac {A_MAC}")


def ctl_command(file_prefix, *argv, timeout=fwdnet.HANG_GUARD_S):
    """Runs qc-fwd-ctl against the qc-fwd with `file_prefix`."""
    launcher = [] if os.access(QC_FWD_CTL, os.X_OK) else [sys.executable]
    return fwdnet.run([*launcher, QC_FWD_CTL, "--file-prefix", file_prefix, *argv],
                      timeout=timeout)


def batch_add(route):
    return f"route add {route}"


def batch_del(prefix):
    return f"route del {prefix}"


def churn_lines(count):
    """`count` route updates: per unrelated prefix 172.16-31.x.0/24 an add, a
    replace (same prefix, other port and MAC) and a delete, with the live
    routes re-added every LIVE_EVERY updates. Ends with no unrelated route."""
    lines = []
    i = 0
    while len(lines) < count:
        prefix = f"{172 + (i >> 16) % 2}.{16 + (i >> 8) % 16}.{i % 256}.0/24"
        lines.append(batch_add(f"{prefix} port {i % 2} mac 02:00:00:00:{(i >> 8) % 256:02x}:{i % 256:02x}"))
        lines.append(batch_add(f"{prefix} port {(i + 1) % 2}"))
        lines.append(batch_del(prefix))
        i += 1
        if i % (LIVE_EVERY // 3) == 0:
            lines.extend(batch_add(r) for r in LIVE_ROUTES)
    return lines


class RouteChurn(unittest.TestCase):

    def setUp(self):
        self.cleanup = fwdnet.Cleanup()
        self.addCleanup(self.cleanup.run)
        self.log_dir = fwdnet.make_log_dir(self.cleanup, "churn")

    def test_10k_route_updates_under_iperf3(self):
        asan = fwdnet.elf_uses_asan(QC_FWD)
        if not asan:
            print(f"NOTE: {QC_FWD} is not an ASan build: no sanitizer checks in this run")
        env = dict(os.environ)
        sanitizer_log = os.path.join(self.log_dir, "sanitizer")
        env["ASAN_OPTIONS"] = f"log_path={sanitizer_log}:detect_leaks=1:abort_on_error=0"
        env["UBSAN_OPTIONS"] = f"log_path={sanitizer_log}:print_stacktrace=1:halt_on_error=1"

        tag = fwdnet.unique_tag()
        iface_a, iface_b = f"qcA{tag}", f"qcB{tag}"
        prefix = fwdnet.unique_file_prefix("churn")
        # No routes at start: they come from qc-fwd-ctl.
        fwd = fwdnet.QcFwd(QC_FWD, fwdnet.qc_fwd_tap_args(iface_a, iface_b, "l3fwd",
                                                          PORT0_MAC, PORT1_MAC),
                           self.cleanup, self.log_dir, prefix, env=env)
        ns_a = fwdnet.Netns(self.cleanup, "A")
        ns_b = fwdnet.Netns(self.cleanup, "B")
        fwdnet.wait_for_started_tap(iface_a, fwd.proc, fwd.log_path)
        fwdnet.wait_for_started_tap(iface_b, fwd.proc, fwd.log_path)
        fwdnet.place_iface(iface_a, ns_a, "10.1.0.2/24", mac=A_MAC,
                           neighbours=[("10.1.0.1", PORT0_MAC)], routes=["default via 10.1.0.1"])
        fwdnet.place_iface(iface_b, ns_b, "10.2.0.2/24", mac=B_MAC,
                           neighbours=[("10.2.0.1", PORT1_MAC)], routes=["default via 10.2.0.1"])

        # Without routes nothing crosses: the drops are qc-fwd's no_route.
        self.assertEqual(fwdnet.ping(ns_a, "10.2.0.2", count=3, interval=0.2).received, 0)
        for route in LIVE_ROUTES:
            ctl_command(prefix, "route", "add", route)
        listed = ctl_command(prefix, "routes").stdout
        for route in LIVE_ROUTES:
            self.assertIn(route.split()[0], listed, f"qc-fwd-ctl routes:\n{listed}")
        fwdnet.wait_until_pingable(ns_a, "10.2.0.2")
        p = fwdnet.ping(ns_a, "10.2.0.2", count=10)
        self.assertEqual(p.received, 10, p.output)
        self.assertEqual(set(p.ttls), {63}, p.output)

        lines = churn_lines(UPDATES)
        batch_path = os.path.join(self.log_dir, "churn.batch")
        with open(batch_path, "w") as f:
            f.write("\n".join(lines) + "\n")

        # iperf3 runs back to back (IPERF_S each) from before the batch
        # starts until after it ended, whatever time the batch takes.
        runs = []
        batch_done = threading.Event()
        failure = []

        def traffic():
            try:
                while True:
                    start = time.monotonic()
                    r = fwdnet.iperf3(ns_a, ns_b, "10.2.0.2", IPERF_S, self.cleanup, self.log_dir)
                    runs.append((start, time.monotonic(), r))
                    if batch_done.is_set():
                        return
            except Exception as e:  # reported by the main thread
                failure.append(e)

        loader = threading.Thread(target=traffic, daemon=True)
        loader.start()
        time.sleep(1.5)  # traffic flowing before the churn starts
        t0 = time.monotonic()
        try:
            batch = ctl_command(prefix, "--batch", batch_path, timeout=600)
        finally:
            t1 = time.monotonic()
            batch_done.set()
            loader.join(timeout=IPERF_S + fwdnet.HANG_GUARD_S * 2)
        print(f"{len(lines)} route updates in {t1 - t0:.2f} s "
              f"({len(lines) / (t1 - t0):.0f}/s); qc-fwd-ctl: {batch.stdout.strip()[-200:]}")
        for start, end, r in runs:
            print(f"  [{start - t0:+.1f} s, {end - t0:+.1f} s] {r}")
        self.assertEqual(failure, [], "an iperf3 run failed during the churn")
        self.assertFalse(loader.is_alive(), "iperf3 runs did not end")
        self.assertLess(runs[0][0], t0, "no traffic when the churn started")
        self.assertGreater(runs[-1][1], t1, "no traffic when the churn ended")
        for _, _, r in runs:
            self.assertGreater(r.bytes_received, 100_000, str(r))
            self.assertTrue(all(b > 0 for b in r.interval_bytes),
                            f"a second without traffic during the churn: {r}")
        p = fwdnet.ping(ns_a, "10.2.0.2", count=5)
        self.assertEqual(p.received, 5, f"after the churn: {p.output}")

        status, s = fwd.stop(signal.SIGTERM)
        print(f"qc-fwd totals: {s['totals']}; routes: {s['routes']}")
        self.assertEqual(status, 0, f"qc-fwd exit status; log:\n{fwd.log()}")
        # The 3 pings sent before the routes existed are no_route drops; none after.
        totals = fwdnet.check_summary(self, s, "l3fwd",
                                      allowed_drops=("not_ipv4", "tx_full", "no_route"))
        self.assertLessEqual(totals["dropped_by_reason"]["no_route"], 3,
                             "packets lost to a missing live route during the churn")
        self.assertGreaterEqual(s["routes"]["updates"], UPDATES, s["routes"])
        self.assertEqual(s["routes"]["count"], len(LIVE_ROUTES), s["routes"])
        logs = sorted(glob.glob(sanitizer_log + "*"))
        text = "".join(fwdnet.tail(path, 200) for path in logs)
        self.assertEqual(logs, [], f"sanitizer reports:\n{text}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/qc-fwd PATH/TO/qc-fwd-ctl")
    if (why := fwdnet.missing_prerequisites(("readelf",))) is not None:
        print(f"SKIP: {why}")
        sys.exit(77)
    QC_FWD = os.environ.get("QC_E2E_ASAN_QC_FWD") or sys.argv[1]
    QC_FWD_CTL = sys.argv[2]
    fwdnet.require_program(QC_FWD, "qc-fwd")
    if not os.path.isfile(QC_FWD_CTL):
        sys.exit(f"FAIL: qc-fwd-ctl not found: {QC_FWD_CTL!r}")
    unittest.main(argv=[sys.argv[0], "-v"])
