#!/usr/bin/env python3
"""The namespace plumbing of the qc-fwd e2e tests, checked against the
reference forwarder: dpdk-testpmd in io mode between two net_tap ports, each
moved into its own network namespace (one subnet, one L2 segment), ping and
iperf3 across. When this passes and a qc-fwd e2e test fails, the fault is
qc-fwd's, not the harness's.

Usage: testpmd_netns_test.py
Exit 77 (meson: skipped) without root, /dev/net/tun, ip, ping, iperf3 or
dpdk-testpmd.
"""

import sys
import unittest

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
import fwdnet  # noqa: E402


class TestpmdNetns(unittest.TestCase):

    def setUp(self):
        self.cleanup = fwdnet.Cleanup()
        self.addCleanup(self.cleanup.run)
        self.log_dir = fwdnet.make_log_dir(self.cleanup, "testpmd")

    def test_ping_and_iperf3_through_testpmd_io(self):
        tag = fwdnet.unique_tag()
        iface_a, iface_b = f"qtpA{tag}", f"qtpB{tag}"
        log = f"{self.log_dir}/testpmd.log"
        proc = fwdnet.start_testpmd_io(
            [fwdnet.tap_vdev(0, iface_a), fwdnet.tap_vdev(1, iface_b)],
            fwdnet.unique_file_prefix("testpmd"), log, self.cleanup)
        ns_a = fwdnet.Netns(self.cleanup, "A")
        ns_b = fwdnet.Netns(self.cleanup, "B")
        fwdnet.wait_for_started_tap(iface_a, proc, log)
        fwdnet.wait_for_started_tap(iface_b, proc, log)
        fwdnet.place_iface(iface_a, ns_a, "10.9.0.1/24")
        fwdnet.place_iface(iface_b, ns_b, "10.9.0.2/24")

        fwdnet.wait_until_pingable(ns_a, "10.9.0.2")
        p = fwdnet.ping(ns_a, "10.9.0.2", count=20)
        self.assertEqual(p.received, 20, p.output)
        self.assertEqual(set(p.ttls), {64}, "io mode passes frames unchanged")

        r = fwdnet.iperf3(ns_a, ns_b, "10.9.0.2", 3, self.cleanup, self.log_dir)
        print(r)
        self.assertGreater(r.bytes_received, 1_000_000, str(r))
        self.assertIsNone(proc.poll(), f"testpmd ended:\n{fwdnet.tail(log)}")


if __name__ == "__main__":
    if (why := fwdnet.missing_prerequisites(("dpdk-testpmd",))) is not None:
        print(f"SKIP: {why}")
        sys.exit(77)
    unittest.main(argv=[sys.argv[0], "-v"])
