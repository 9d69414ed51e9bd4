#!/usr/bin/env python3
"""qc-fwd in l3fwd mode: two namespaces route through it (issue 6, e2e).

Namespace A (10.1.0.2/24) and B (10.2.0.2/24) each reach the other subnet
through a gateway that is qc-fwd's port on their segment (10.1.0.1 /
10.2.0.1), with a permanent neighbour entry for it: qc-fwd answers no ARP.
qc-fwd's routes send 10.2.0.0/24 out port 1 to B's MAC and 10.1.0.0/24 out
port 0 to A's MAC. The MACs are all chosen by the test: the tap PMD's port
MACs with its `mac=` devarg, the kernel ifaces' with `ip link set address`
(at creation the tap PMD gives the kernel iface its own port MAC).

Checked: ping both ways with replies at TTL 63 (decremented once by qc-fwd,
so its checksum update must be right or the kernel drops them), iperf3
A -> B, and at SIGTERM exit 0 with a summary that keeps the accounting
identity, returns every mbuf, shows the two routes and no drops but the
expected ones (not_ipv4: the ifaces' IPv6 chatter before they left for
their namespaces; tx_full).

Usage: l3fwd_mode_test.py PATH/TO/qc-fwd
Exit 77 (meson: skipped) without root, /dev/net/tun, ip, ping or iperf3.
"""

import signal
import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fwdnet  # noqa: E402

QC_FWD = None
PINGS = 20

PORT0_MAC = "02:00:00:e2:00:00"   # qc-fwd port 0, gateway 10.1.0.1 for A
PORT1_MAC = "02:00:00:e2:00:01"   # qc-fwd port 1, gateway 10.2.0.1 for B
A_MAC = "02:00:00:e2:0a:02"
B_MAC = "02:00:00:e2:0b:02"


class L3fwdModeNetns(unittest.TestCase):

    def setUp(self):
        self.cleanup = fwdnet.Cleanup()
        self.addCleanup(self.cleanup.run)
        self.log_dir = fwdnet.make_log_dir(self.cleanup, "l3fwd")

    def test_namespaces_route_through_qc_fwd(self):
        tag = fwdnet.unique_tag()
        iface_a, iface_b = f"qcA{tag}", f"qcB{tag}"
        args = fwdnet.qc_fwd_tap_args(iface_a, iface_b, "l3fwd", PORT0_MAC, PORT1_MAC)
        args += ["--route", f"10.2.0.0/24 port 1 mac {B_MAC}",
                 "--route", f"10.1.0.0/24 port 0 mac {A_MAC}"]
        fwd = fwdnet.QcFwd(QC_FWD, args, self.cleanup, self.log_dir,
                           fwdnet.unique_file_prefix("l3"))
        ns_a = fwdnet.Netns(self.cleanup, "A")
        ns_b = fwdnet.Netns(self.cleanup, "B")
        fwdnet.wait_for_started_tap(iface_a, fwd.proc, fwd.log_path)
        fwdnet.wait_for_started_tap(iface_b, fwd.proc, fwd.log_path)
        fwdnet.place_iface(iface_a, ns_a, "10.1.0.2/24", mac=A_MAC,
                           neighbours=[("10.1.0.1", PORT0_MAC)],
                           routes=["default via 10.1.0.1"])
        fwdnet.place_iface(iface_b, ns_b, "10.2.0.2/24", mac=B_MAC,
                           neighbours=[("10.2.0.1", PORT1_MAC)],
                           routes=["default via 10.2.0.1"])
        self.assertEqual(fwdnet.iface_mac(ns_a, iface_a), A_MAC)
        self.assertEqual(fwdnet.iface_mac(ns_b, iface_b), B_MAC)

        first = fwdnet.wait_until_pingable(ns_a, "10.2.0.2")
        p = fwdnet.ping(ns_a, "10.2.0.2", count=PINGS)
        self.assertEqual(p.received, PINGS, p.output)
        self.assertEqual(set(p.ttls), {63}, f"one hop through qc-fwd: {p.output}")
        back = fwdnet.ping(ns_b, "10.1.0.2", count=5)
        self.assertEqual(back.received, 5, back.output)
        self.assertEqual(set(back.ttls), {63}, back.output)

        r = fwdnet.iperf3(ns_a, ns_b, "10.2.0.2", 3, self.cleanup, self.log_dir)
        print(r)
        self.assertGreater(r.bytes_received, 1_000_000, str(r))
        self.assertIsNone(fwd.proc.poll(), f"qc-fwd ended early:\n{fwd.log()}")

        status, s = fwd.stop(signal.SIGTERM)
        print(f"qc-fwd totals: {s['totals']}")
        self.assertEqual(status, 0, f"qc-fwd exit status; log:\n{fwd.log()}")
        totals = fwdnet.check_summary(self, s, "l3fwd", allowed_drops=("not_ipv4", "tx_full"))
        echoes = 2 * (first + PINGS + 5)
        self.assertGreaterEqual(totals["transmitted"], echoes, totals)
        self.assertEqual(s["routes"]["count"], 2, s["routes"])
        self.assertEqual(sum(p["rx"] for p in s["ports"]), totals["received"],
                         f"port rx counters disagree with the workers: {s['ports']}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(f"usage: {sys.argv[0]} PATH/TO/qc-fwd")
    if (why := fwdnet.missing_prerequisites()) is not None:
        print(f"SKIP: {why}")
        sys.exit(77)
    QC_FWD = sys.argv[1]
    fwdnet.require_program(QC_FWD, "qc-fwd")
    unittest.main(argv=[sys.argv[0], "-v"])
