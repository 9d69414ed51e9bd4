"""Shared plumbing for the qc-fwd end-to-end tests (suite e2e, DESIGN.md
"Testing": net_tap ports in network namespaces with real traffic).

A forwarder (qc-fwd, or dpdk-testpmd as the reference) owns two net_tap
ports. Once a port has started (its kernel iface is UP), the iface is moved
into its own network namespace, addressed there, and ping / iperf3 run
between the namespaces, so every frame crosses the forwarder.

Everything here is created with names unique to this process and removed by
`Cleanup` (namespaces, processes, temporary directories), also when a test
fails half-way. Timeouts are hang guards only: nothing asserts on speed.
"""

import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HANG_GUARD_S = 30

_counter = itertools.count()


def unique_tag():
    """A short tag unique to this process and call (iface names: <= 15 chars)."""
    return f"{os.getpid() % 100000}{next(_counter)}"


def unique_file_prefix(what):
    return f"qce2e-{what}-{unique_tag()}"


def run(cmd, check=True, timeout=HANG_GUARD_S, **kw):
    """Runs `cmd` (a list), returns the CompletedProcess; raises with its output."""
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stdout}{r.stderr}")
    return r


def missing_prerequisites(extra_tools=()):
    """None when this machine can run the namespace tests, else why not."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "ping", "iperf3", "ss", "unshare", *extra_tools):
        if shutil.which(tool) is None:
            return f"{tool} not found"
    if not os.path.exists("/dev/net/tun"):
        return "/dev/net/tun missing"
    return None


def require_program(path, what):
    """Fails (not skips) when a program under test is missing: a test of a
    program that was not built must not pass."""
    if not path or not os.path.isfile(path) or not os.access(path, os.X_OK):
        raise SystemExit(f"FAIL: {what} not found or not executable: {path!r}")


class Cleanup:
    """A stack of undo actions, run in reverse order; errors are reported, not raised."""

    def __init__(self):
        self._actions = []

    def push(self, fn, *args):
        self._actions.append((fn, args))

    def run(self):
        while self._actions:
            fn, args = self._actions.pop()
            try:
                fn(*args)
            except Exception as e:  # cleanup must go on
                print(f"cleanup: {fn.__name__}{args}: {e}", file=sys.stderr)


def kill_process(proc):
    """Ends a Popen we started (SIGKILL to its process group if it still runs)."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=HANG_GUARD_S)
        except subprocess.TimeoutExpired:
            pass


def remove_runtime_dir(file_prefix):
    """DPDK's runtime dir of a stopped process (left behind without --in-memory)."""
    shutil.rmtree(f"/var/run/dpdk/{file_prefix}", ignore_errors=True)


def popen(cmd, log_path, cleanup, stdin=subprocess.DEVNULL):
    """Starts `cmd` in its own process group, stdout+stderr to `log_path`."""
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=stdin,
                            start_new_session=True)
    log.close()
    cleanup.push(kill_process, proc)
    return proc


def tail(path, lines=60):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return f"({path}: {e})"


# --- network namespaces -----------------------------------------------------

class Netns:
    """A named network namespace (`ip netns add`), deleted by `cleanup`."""

    def __init__(self, cleanup, tag):
        self.name = f"qce2e-{tag}-{unique_tag()}"
        run(["ip", "netns", "add", self.name])
        cleanup.push(self.delete)
        self.sh("ip", "link", "set", "lo", "up")
        # IPv6 off: no router solicitations / MLD reports crossing the
        # forwarder, so its drop counters hold only what the test sent.
        self.sh("sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1")

    def cmd(self, *argv):
        return ["ip", "netns", "exec", self.name, *argv]

    def sh(self, *argv, check=True, timeout=HANG_GUARD_S):
        return run(self.cmd(*argv), check=check, timeout=timeout)

    def delete(self):
        # Processes left inside (iperf3) keep the namespace alive: end them.
        r = run(["ip", "netns", "pids", self.name], check=False)
        for pid in r.stdout.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        run(["ip", "netns", "del", self.name], check=False)

    def link_show(self, iface):
        return self.sh("ip", "-o", "link", "show", "dev", iface).stdout


def iface_flags(iface):
    """IFF_* flags of a root-namespace iface, or None if it does not exist."""
    try:
        with open(f"/sys/class/net/{iface}/flags") as f:
            return int(f.read().strip(), 16)
    except OSError:
        return None


IFF_UP = 0x1
IFF_PROMISC = 0x100


def wait_for_started_tap(iface, proc, log_path, promisc_grace_s=2.0):
    """Waits until the forwarder's tap `iface` exists and is UP, which the tap
    PMD does in dev_start: only then may it leave for another namespace (the
    PMD configures it by name from the forwarder's namespace). Then waits a
    little for promiscuous mode, which forwarders enable right after start."""
    deadline = time.monotonic() + HANG_GUARD_S
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"forwarder exited ({proc.returncode}) before {iface} "
                                 f"came up; log:\n{tail(log_path)}")
        flags = iface_flags(iface)
        if flags is not None and flags & IFF_UP:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"{iface} not up within {HANG_GUARD_S}s (flags {flags}); "
                                 f"log:\n{tail(log_path)}")
        time.sleep(0.05)
    grace = time.monotonic() + promisc_grace_s
    while time.monotonic() < grace:
        flags = iface_flags(iface)
        if flags is not None and flags & IFF_PROMISC:
            break
        time.sleep(0.05)


def place_iface(iface, ns, address, mac=None, routes=(), neighbours=()):
    """Moves root-namespace `iface` into `ns` and configures it there.

    routes: ("default via 10.1.0.1", ...); neighbours: (ip, lladdr) pairs,
    added as permanent entries (no ARP through an l3fwd forwarder)."""
    if mac is not None:
        run(["ip", "link", "set", "dev", iface, "address", mac])
    run(["ip", "link", "set", "dev", iface, "netns", ns.name])
    ns.sh("ip", "addr", "add", address, "dev", iface)
    ns.sh("ip", "link", "set", "dev", iface, "up")
    for ip, lladdr in neighbours:
        ns.sh("ip", "neigh", "replace", ip, "lladdr", lladdr, "dev", iface, "nud", "permanent")
    for route in routes:
        ns.sh("ip", "route", "add", *route.split(), "dev", iface)


def iface_mac(ns, iface):
    m = re.search(r"link/ether ([0-9a-f:]{17})", ns.link_show(iface))
    if not m:
        raise AssertionError(f"no MAC for {iface} in {ns.name}")
    return m.group(1)


# --- traffic ------------------------------------------------------------------

class PingResult:
    def __init__(self, completed):
        self.output = completed.stdout + completed.stderr
        m = re.search(r"(\d+) packets transmitted, (\d+) received", self.output)
        self.transmitted = int(m.group(1)) if m else 0
        self.received = int(m.group(2)) if m else 0
        self.ttls = [int(t) for t in re.findall(r"ttl=(\d+)", self.output)]


def ping(ns, dst, count=20, interval=0.05):
    """ping -c COUNT from `ns`; every reply awaited at most 2 s."""
    r = ns.sh("ping", "-n", "-c", str(count), "-i", str(interval), "-W", "2", dst,
              check=False, timeout=count * interval + 30)
    return PingResult(r)


def wait_until_pingable(ns, dst, tries=20):
    """First contact (the forwarder's workers may still be starting): one
    ping at a time until one is answered. Returns how many were sent."""
    for i in range(1, tries + 1):
        if ping(ns, dst, count=1).received == 1:
            return i
    raise AssertionError(f"{dst} not reachable from {ns.name} after {tries} pings")


class Iperf3Server:
    """iperf3 -s -1 in `ns`, bound to `address`; ready when listening."""

    def __init__(self, ns, address, cleanup, log_dir, port=5201):
        self.ns = ns
        self.port = port
        self.log_path = os.path.join(log_dir, f"iperf3-server-{ns.name}.json")
        self.proc = popen(ns.cmd("iperf3", "-s", "-1", "-B", address, "-p", str(port), "--json"),
                          self.log_path, cleanup)
        deadline = time.monotonic() + HANG_GUARD_S
        while not ns.sh("ss", "-Hltn", f"sport = :{port}").stdout.strip():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"iperf3 server in {ns.name} not listening:\n"
                                     f"{tail(self.log_path)}")
            time.sleep(0.05)

    def wait(self):
        self.proc.wait(timeout=HANG_GUARD_S)


def start_iperf3_client(ns, server_address, seconds, cleanup, log_dir, port=5201):
    """iperf3 client in `ns` (TCP, `seconds` long, JSON, one report per second)."""
    log_path = os.path.join(log_dir, f"iperf3-client-{ns.name}.json")
    proc = popen(ns.cmd("iperf3", "-c", server_address, "-p", str(port), "-t", str(seconds),
                        "-i", "1", "--json", "--connect-timeout", "5000"), log_path, cleanup)
    return proc, log_path


class Iperf3Result:
    def __init__(self, proc, log_path, seconds):
        proc.wait(timeout=seconds + HANG_GUARD_S)
        self.returncode = proc.returncode
        with open(log_path) as f:
            text = f.read()
        try:
            self.data = json.loads(text)
        except ValueError:
            raise AssertionError(f"iperf3 client ({proc.returncode}) printed no JSON:\n{text}")
        if "error" in self.data:
            raise AssertionError(f"iperf3 client error: {self.data['error']}")
        end = self.data["end"]
        self.bytes_received = end["sum_received"]["bytes"]
        self.bits_per_second = end["sum_received"]["bits_per_second"]
        self.retransmits = end["sum_sent"].get("retransmits", 0)
        self.interval_bytes = [iv["sum"]["bytes"] for iv in self.data.get("intervals", [])]

    def __str__(self):
        return (f"iperf3: {self.bits_per_second / 1e6:.1f} Mbit/s, "
                f"{self.bytes_received} B received, {self.retransmits} retransmits, "
                f"per-second bytes {self.interval_bytes}")


def iperf3(client_ns, server_ns, server_address, seconds, cleanup, log_dir):
    """One TCP iperf3 run, server in `server_ns`; returns the Iperf3Result."""
    server = Iperf3Server(server_ns, server_address, cleanup, log_dir)
    proc, log_path = start_iperf3_client(client_ns, server_address, seconds, cleanup, log_dir)
    result = Iperf3Result(proc, log_path, seconds)
    server.wait()
    return result


# --- forwarders -----------------------------------------------------------------

def tap_vdev(index, iface, mac=None):
    spec = f"net_tap{index},iface={iface}"
    return spec + (f",mac={mac}" if mac else "")


def start_testpmd_io(tap_specs, file_prefix, log_path, cleanup):
    """dpdk-testpmd forwarding io between the given net_tap vdevs (the
    reference forwarder: DESIGN.md "Facts", ping + iperf3 worked through it).
    stdin stays an open pipe: testpmd exits at EOF on stdin."""
    cmd = ["dpdk-testpmd", "-l", "0-1", "--no-huge", "-m", "512", "--no-pci",
           "--file-prefix", file_prefix]
    cmd += [f"--vdev={spec}" for spec in tap_specs]
    cmd += ["--", "--forward-mode=io", "--nb-cores=1", "--total-num-mbufs=16384",
            "--auto-start", "--stats-period", "0"]
    cleanup.push(remove_runtime_dir, file_prefix)  # runs after the process ended
    proc = popen(cmd, log_path, cleanup, stdin=subprocess.PIPE)
    cleanup.push(_close_stdin, proc)
    return proc


def _close_stdin(proc):
    if proc.stdin:
        proc.stdin.close()


class QcFwd:
    """One qc-fwd process (contract: CLI, JSON summary at stop, exit codes)."""

    def __init__(self, binary, args, cleanup, log_dir, file_prefix, wrapper=(), env=None):
        self.file_prefix = file_prefix
        self.json_path = os.path.join(log_dir, f"summary-{file_prefix}.json")
        self.log_path = os.path.join(log_dir, f"qc-fwd-{file_prefix}.log")
        self.cmd = [*wrapper, binary, *args, "--file-prefix", file_prefix,
                    "--json", self.json_path]
        cleanup.push(remove_runtime_dir, file_prefix)  # runs after the process ended
        log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True,
                                     env=env)
        log.close()
        cleanup.push(kill_process, self.proc)

    def log(self):
        return tail(self.log_path)

    def send(self, signum, pid=None):
        os.kill(pid if pid is not None else self.proc.pid, signum)

    def wait(self, timeout=HANG_GUARD_S):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"qc-fwd did not stop within {timeout}s; log:\n{self.log()}")

    def summary(self):
        try:
            with open(self.json_path) as f:
                return json.load(f)
        except (OSError, ValueError) as e:
            raise AssertionError(f"no JSON summary at {self.json_path}: {e}; "
                                 f"log:\n{self.log()}")

    def stop(self, signum=signal.SIGTERM):
        """Signals qc-fwd, waits; returns (exit status, summary)."""
        self.send(signum)
        status = self.wait()
        return status, self.summary()


def qc_fwd_tap_args(iface_a, iface_b, mode, mac_a=None, mac_b=None, workers="1"):
    """qc-fwd arguments for two tap ports. Taps: --isolation none (the tap PMD
    makes syscalls on every burst, which an isolated worker must not)."""
    return ["--port", tap_vdev(0, iface_a, mac_a), "--port", tap_vdev(1, iface_b, mac_b),
            "--mode", mode, "--workers", workers, "--isolation", "none",
            "--stats-interval", "1"]


DROP_REASONS = ("not_ipv4", "truncated", "bad_header_length", "bad_checksum",
                "ttl_expired", "no_route", "tx_full")


def check_summary(tc, s, mode, allowed_drops=("tx_full",), stop_reason="SIGTERM"):
    """Checks a qc-fwd JSON summary against the contract; `tc` a TestCase.

    The test recomputes the accounting identity itself instead of trusting
    accounting_ok: received = transmitted + dropped, per worker and in total,
    and the totals are the workers' sums."""
    tc.assertEqual(s.get("tool"), "qc-fwd")
    tc.assertEqual(s.get("mode"), mode)
    if stop_reason is not None:
        tc.assertEqual(s.get("stop_reason"), stop_reason)
    totals = s["totals"]
    tc.assertIs(totals["accounting_ok"], True, f"accounting_ok: {totals}")
    tc.assertIs(s["mbufs_all_returned"], True, f"mbufs: {s.get('mbufs')}")
    for pool in s["mbufs"]:
        tc.assertEqual(pool["available"], pool["size"], f"pool {pool}")
    tc.assertGreater(len(s["workers"]), 0)
    sums = {"received": 0, "transmitted": 0, "dropped": 0}
    by_reason = {r: 0 for r in DROP_REASONS}
    for w in s["workers"]:
        for key in ("received", "transmitted"):
            tc.assertGreaterEqual(w[key], 0, f"worker {key}: {w}")
        for r in DROP_REASONS:
            tc.assertGreaterEqual(w["dropped"][r], 0, f"worker dropped.{r}: {w}")
        dropped = sum(w["dropped"][r] for r in DROP_REASONS)
        tc.assertEqual(w["received"], w["transmitted"] + dropped,
                       f"worker on cpu {w.get('cpu')}: received != transmitted + dropped: {w}")
        sums["received"] += w["received"]
        sums["transmitted"] += w["transmitted"]
        sums["dropped"] += dropped
        for r in DROP_REASONS:
            by_reason[r] += w["dropped"][r]
    for key, value in sums.items():
        tc.assertEqual(totals[key], value, f"totals.{key} is not the workers' sum")
    tc.assertEqual(totals["received"], totals["transmitted"] + totals["dropped"])
    for r in DROP_REASONS:
        tc.assertEqual(totals["dropped_by_reason"][r], by_reason[r], f"dropped_by_reason.{r}")
        if r not in allowed_drops:
            tc.assertEqual(by_reason[r], 0, f"unexpected drops for {r}: {by_reason}")
    return totals


def elf_uses_asan(path):
    """True if `path` is linked against libasan (gcc's -fsanitize=address)."""
    r = run(["readelf", "-d", path], check=False)
    if "libasan" in r.stdout:
        return True
    r = run(["readelf", "-s", "--wide", path], check=False)
    return "__asan_init" in r.stdout


def make_log_dir(cleanup, tag):
    """A temporary directory for logs and summaries, kept when KEEP_E2E_LOGS is set."""
    d = tempfile.mkdtemp(prefix=f"qc-e2e-{tag}-")
    if not os.environ.get("KEEP_E2E_LOGS"):
        cleanup.push(shutil.rmtree, d, True)
    return d


# --- DPDK telemetry (standard commands only) ----------------------------------

def telemetry(file_prefix, command, timeout=5.0):
    """One DPDK telemetry v2 command to the process with `file_prefix`;
    returns the decoded reply, or None while its socket is not there yet."""
    path = f"/var/run/dpdk/{file_prefix}/dpdk_telemetry.v2"
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.settimeout(timeout)
    try:
        s.connect(path)
        info = json.loads(s.recv(65536))
        s.send(command.encode())
        return json.loads(s.recv(info.get("max_output_len", 16384)))
    except (FileNotFoundError, ConnectionRefusedError):
        return None
    finally:
        s.close()


def wait_for_port_rx(file_prefix, proc, log_path, port=0, minimum=1):
    """Waits until ethdev `port` of the forwarder has received `minimum`
    packets (standard /ethdev/stats telemetry): its workers forward."""
    deadline = time.monotonic() + HANG_GUARD_S
    last = None
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"forwarder exited ({proc.returncode}); log:\n{tail(log_path)}")
        reply = telemetry(file_prefix, f"/ethdev/stats,{port}")
        if reply is not None:
            last = reply.get("/ethdev/stats")
            if last and last.get("ipackets", 0) >= minimum:
                return last["ipackets"]
        time.sleep(0.1)
    raise AssertionError(f"port {port} never received {minimum} packets (last stats {last}); "
                         f"log:\n{tail(log_path)}")
