#!/usr/bin/env python3
"""qc-fwd stops gracefully under load (issue 6, DESIGN.md "Signals").

- As PID 1 of a PID namespace (`unshare --pid --fork --mount-proc`, where
  the kernel drops default-fatal signals qc-fwd did not handle) forwarding
  between two net_null ports at full speed: SIGTERM, and in another run
  SIGINT, from the parent namespace 2 s after its workers forward. qc-fwd
  exits 0 and its summary names the signal, keeps the accounting identity
  and has every mbuf back in its pool.
- Not PID 1, two net_tap ports in namespaces (io mode) with an iperf3
  stream running: SIGTERM mid-stream, same checks.

Usage: sigterm_test.py PATH/TO/qc-fwd
Exit 77 (meson: skipped) without root, /dev/net/tun, ip, ping, iperf3 or
unshare.
"""

import os
import re
import signal
import sys
import time
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fwdnet  # noqa: E402

QC_FWD = None
LOAD_S = 2.0


def host_pid_of_only_child(parent_pid):
    """The PID (in this namespace) of `parent_pid`'s only child, once it has one."""
    deadline = time.monotonic() + fwdnet.HANG_GUARD_S
    while time.monotonic() < deadline:
        kids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == parent_pid:
                kids.append(int(entry))
        if len(kids) == 1:
            return kids[0]
        time.sleep(0.02)
    raise AssertionError(f"{parent_pid} has no single child")


class SigtermUnderLoad(unittest.TestCase):

    def setUp(self):
        self.cleanup = fwdnet.Cleanup()
        self.addCleanup(self.cleanup.run)
        self.log_dir = fwdnet.make_log_dir(self.cleanup, "sigterm")

    def run_as_pid1_and_stop(self, signum, signame):
        prefix = fwdnet.unique_file_prefix("pid1")
        # --kill-child: if this driver kills unshare, qc-fwd dies with it.
        fwd = fwdnet.QcFwd(QC_FWD, ["--port", "net_null0", "--port", "net_null1",
                                    "--mode", "io", "--workers", "1", "--stats-interval", "1"],
                           self.cleanup, self.log_dir, prefix,
                           wrapper=["unshare", "--pid", "--fork", "--mount-proc", "--kill-child"])
        pid = host_pid_of_only_child(fwd.proc.pid)
        with open(f"/proc/{pid}/status") as f:
            nspid = re.search(r"^NSpid:\s+(.*)$", f.read(), re.M).group(1).split()
        self.assertEqual(nspid, [str(pid), "1"], "qc-fwd is not PID 1 of a child namespace")
        fwdnet.wait_for_port_rx(prefix, fwd.proc, fwd.log_path, minimum=1000)
        time.sleep(LOAD_S)
        fwd.send(signum, pid)
        status = fwd.wait()
        self.assertEqual(status, 0, f"exit status (through unshare); log:\n{fwd.log()}")
        s = fwd.summary()
        print(f"{signame}: totals {s['totals']}, mbufs {s['mbufs']}")
        totals = fwdnet.check_summary(self, s, "io", allowed_drops=("tx_full",),
                                      stop_reason=signame)
        # Under load: net_null delivers a full burst every poll.
        self.assertGreater(totals["received"], 100_000, totals)
        self.assertGreater(totals["transmitted"], 0, totals)
        self.assertGreater(totals["mpps"], 0, totals)

    def test_sigterm_as_pid1_under_load(self):
        self.run_as_pid1_and_stop(signal.SIGTERM, "SIGTERM")

    def test_sigint_as_pid1_under_load(self):
        self.run_as_pid1_and_stop(signal.SIGINT, "SIGINT")

    def test_sigterm_while_iperf3_runs_through_taps(self):
        tag = fwdnet.unique_tag()
        iface_a, iface_b = f"qcA{tag}", f"qcB{tag}"
        prefix = fwdnet.unique_file_prefix("tapterm")
        fwd = fwdnet.QcFwd(QC_FWD, fwdnet.qc_fwd_tap_args(iface_a, iface_b, "io"),
                           self.cleanup, self.log_dir, prefix)
        ns_a = fwdnet.Netns(self.cleanup, "A")
        ns_b = fwdnet.Netns(self.cleanup, "B")
        fwdnet.wait_for_started_tap(iface_a, fwd.proc, fwd.log_path)
        fwdnet.wait_for_started_tap(iface_b, fwd.proc, fwd.log_path)
        fwdnet.place_iface(iface_a, ns_a, "10.9.0.1/24")
        fwdnet.place_iface(iface_b, ns_b, "10.9.0.2/24")
        fwdnet.wait_until_pingable(ns_a, "10.9.0.2")

        fwdnet.Iperf3Server(ns_b, "10.9.0.2", self.cleanup, self.log_dir)
        client, _ = fwdnet.start_iperf3_client(ns_a, "10.9.0.2", 30, self.cleanup, self.log_dir)
        before = fwdnet.wait_for_port_rx(prefix, fwd.proc, fwd.log_path)
        # The stream is on when port 0 (A's side) has taken 1000 more frames.
        fwdnet.wait_for_port_rx(prefix, fwd.proc, fwd.log_path, minimum=before + 1000)
        time.sleep(LOAD_S)
        self.assertIsNone(client.poll(), "iperf3 ended before the SIGTERM")
        status, s = fwd.stop(signal.SIGTERM)
        print(f"tap SIGTERM: totals {s['totals']}, mbufs {s['mbufs']}")
        self.assertEqual(status, 0, f"qc-fwd exit status; log:\n{fwd.log()}")
        totals = fwdnet.check_summary(self, s, "io", allowed_drops=("tx_full",))
        self.assertGreater(totals["received"], 1000, totals)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/qc-fwd")
    if (why := fwdnet.missing_prerequisites()) is not None:
        print(f"SKIP: {why}")
        sys.exit(77)
    QC_FWD = sys.argv[1]
    fwdnet.require_program(QC_FWD, "qc-fwd")
    unittest.main(argv=[sys.argv[0], "-v"])
