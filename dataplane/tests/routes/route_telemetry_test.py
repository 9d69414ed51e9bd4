#!/usr/bin/env python3
"""Telemetry end to end: route commands through qc-fwd-ctl against a live
RouteTable (test_route_telemetry_server) with a reader thread running.

usage: route_telemetry_test.py SERVER QC_FWD_CTL
"""

import json
import os
import subprocess
import sys
import tempfile


def main(server, ctl):
    prefix = f"qc-routes-tel-{os.getpid()}"
    proc = subprocess.Popen([server, prefix], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    failures = []

    def check(cond, what):
        if not cond:
            failures.append(what)
            print("FAIL:", what)

    def ctl_run(*args):
        r = subprocess.run([sys.executable, ctl, "--file-prefix", prefix, *args],
                           capture_output=True, text=True, timeout=60)
        return r.returncode, r.stdout, r.stderr

    try:
        ready = proc.stdout.readline().split()
        assert ready == ["ready", prefix], ready
        sock = f"/var/run/dpdk/{prefix}/dpdk_telemetry.v2"
        check(os.path.exists(sock), f"telemetry socket {sock} exists")
        mode = os.stat(os.path.dirname(sock)).st_mode & 0o777
        check(mode == 0o700, f"runtime dir mode is 0700 (got {oct(mode)})")

        rc, out, err = ctl_run("routes")
        check(rc == 0, f"routes: rc {rc} {err}")
        check(json.loads(out)["count"] == 0, f"empty table at start: {out}")

        rc, out, err = ctl_run("route", "add", "10.1.0.0/16 port 1")
        check(rc == 0 and json.loads(out)["ok"] == 1, f"route add: {rc} {out} {err}")
        rc, out, err = ctl_run("route", "add", "10.2.0.0/24", "port", "0", "mac",
                               "02:00:00:00:00:02")
        check(rc == 0, f"route add (unquoted words): {rc} {out} {err}")

        rc, out, err = ctl_run("route", "add", "10.3.0.0/16 port x")
        check(rc == 1 and '"x"' in err and out == "",
              f"bad port names the token, exit 1: {rc} {out!r} {err!r}")
        rc, out, err = ctl_run("route", "add", "10.3.0.1/16 port 1")
        check(rc == 1 and "10.3.0.1/16" in err, f"host bits named: {rc} {err!r}")
        rc, out, err = ctl_run("route", "del", "10.9.0.0/16")
        check(rc == 1 and "no route" in err, f"del of a missing route fails: {rc} {err!r}")
        rc, out, err = ctl_run("route", "frob", "x")
        check(rc == 2, f"usage error exits 2: {rc} {err!r}")
        rc, out, err = ctl_run("raw", "/qcfwd/nonexistent")
        check(rc == 1, f"unknown telemetry command fails: {rc} {out!r} {err!r}")
        rc, out, err = ctl_run("raw", "/help,/qcfwd/route_add")
        check(rc == 0 and "PREFIX/LEN" in out, f"raw /help: {rc} {out!r} {err!r}")

        rc, out, err = ctl_run("routes")
        routes = json.loads(out)
        check(routes["routes"] == ["10.1.0.0/16 port 1", "10.2.0.0/24 port 0 mac 02:00:00:00:00:02"],
              f"routes listed: {routes}")
        check(routes["version"] == 2 and routes["updates"] == 2, f"version/updates: {routes}")

        # Batch: 2,000 updates on one connection.
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write("# churn\n")
            for i in range(1000):
                f.write(f'route add "172.16.{i % 200}.0/24 port {i % 4}"\n')
                f.write(f"route del 172.16.{i % 200}.0/24\n")
            batch = f.name
        rc, out, err = ctl_run("--batch", batch)
        check(rc == 0 and json.loads(out) == {"commands": 2000}, f"batch: {rc} {out} {err}")
        with open(batch, "a", encoding="utf-8") as f:
            f.write("route del 172.16.0.0/24\nroutes\n")
        rc, out, err = ctl_run("--batch", batch)
        check(rc == 1 and f"{batch}:2002" in err, f"batch stops at the bad line: {rc} {err!r}")
        os.unlink(batch)

        rc, out, err = ctl_run("routes")
        routes = json.loads(out)
        check(routes["count"] == 2 and routes["updates"] == 4002, f"after batch: {routes}")
    finally:
        proc.stdin.close()
        tail = proc.stdout.read()
        rc = proc.wait(timeout=60)
    print(tail)
    check(rc == 0, f"server exit {rc}")
    check("route 10.1.0.0/16 port 1" in tail, "server's table has the added route")
    if failures:
        print(f"{len(failures)} failure(s)")
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
