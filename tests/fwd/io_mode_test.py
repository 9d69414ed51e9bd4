#!/usr/bin/env python3
"""qc-fwd in io mode between two network namespaces (issue 6, e2e).

qc-fwd owns two net_tap ports; each kernel iface is moved into its own
namespace once the port has started. io mode passes frames unchanged, so
the namespaces share one L2 segment and one subnet (10.9.0.1/24,
10.9.0.2/24): ARP, ping and an iperf3 TCP stream cross qc-fwd. At SIGTERM
qc-fwd exits 0 and its JSON summary keeps the accounting identity, returns
every mbuf and counts at least the pings it forwarded.

Usage: io_mode_test.py PATH/TO/qc-fwd
Exit 77 (meson: skipped) without root, /dev/net/tun, ip, ping or iperf3;
fails when qc-fwd is missing.
"""

import signal
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fwdnet  # noqa: E402

QC_FWD = None
PINGS = 20


class IoModeNetns(unittest.TestCase):

    def setUp(self):
        self.cleanup = fwdnet.Cleanup()
        self.addCleanup(self.cleanup.run)
        self.log_dir = fwdnet.make_log_dir(self.cleanup, "io")

    def test_ping_and_iperf3_through_qc_fwd_io(self):
        tag = fwdnet.unique_tag()
        iface_a, iface_b = f"qcA{tag}", f"qcB{tag}"
        fwd = fwdnet.QcFwd(QC_FWD, fwdnet.qc_fwd_tap_args(iface_a, iface_b, "io"),
                           self.cleanup, self.log_dir, fwdnet.unique_file_prefix("io"))
        ns_a = fwdnet.Netns(self.cleanup, "A")
        ns_b = fwdnet.Netns(self.cleanup, "B")
        fwdnet.wait_for_started_tap(iface_a, fwd.proc, fwd.log_path)
        fwdnet.wait_for_started_tap(iface_b, fwd.proc, fwd.log_path)
        fwdnet.place_iface(iface_a, ns_a, "10.9.0.1/24")
        fwdnet.place_iface(iface_b, ns_b, "10.9.0.2/24")

        first = fwdnet.wait_until_pingable(ns_a, "10.9.0.2")
        p = fwdnet.ping(ns_a, "10.9.0.2", count=PINGS)
        self.assertEqual(p.received, PINGS, p.output)
        self.assertEqual(set(p.ttls), {64}, "io mode must pass frames unchanged (TTL)")
        # And the other way round: B resolves A by ARP through qc-fwd too.
        back = fwdnet.ping(ns_b, "10.9.0.1", count=5)
        self.assertEqual(back.received, 5, back.output)

        r = fwdnet.iperf3(ns_a, ns_b, "10.9.0.2", 3, self.cleanup, self.log_dir)
        print(r)
        self.assertGreater(r.bytes_received, 1_000_000, str(r))
        self.assertIsNone(fwd.proc.poll(), f"qc-fwd ended early:\n{fwd.log()}")

        status, s = fwd.stop(signal.SIGTERM)
        print(f"qc-fwd totals: {s['totals']}")
        self.assertEqual(status, 0, f"qc-fwd exit status; log:\n{fwd.log()}")
        # io mode never looks into packets: only a full tap tx queue may drop.
        totals = fwdnet.check_summary(self, s, "io", allowed_drops=("tx_full",))
        # Every echo request and reply crossed qc-fwd once.
        echoes = 2 * (first + PINGS + 5)
        self.assertGreaterEqual(totals["received"], echoes, totals)
        self.assertGreaterEqual(totals["transmitted"], echoes - totals["dropped"], totals)
        self.assertGreater(totals["transmitted"], r.bytes_received // 65536, totals)
        names = [p["name"] for p in s["ports"]]
        self.assertEqual(len(names), 2, s["ports"])
        self.assertEqual(sum(p["rx"] for p in s["ports"]), totals["received"],
                         f"port rx counters disagree with the workers: {s['ports']}")
        self.assertGreater(s["elapsed_s"], 0)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/qc-fwd")
    if (why := fwdnet.missing_prerequisites()) is not None:
        print(f"SKIP: {why}")
        sys.exit(77)
    QC_FWD = sys.argv[1]
    fwdnet.require_program(QC_FWD, "qc-fwd")
    unittest.main(argv=[sys.argv[0], "-v"])
