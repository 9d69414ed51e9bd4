"""Runs one forwarder (qc-fwd, dpdk-testpmd, l2fwd) once and measures its Mpps.

Every tool gets the same EAL memory set-up, the same virtual ports, the same
worker CPU and the same burst; see compare-fwd's header for how each tool's
forwarded packets and forwarding time are counted.
"""

import json
import os
import pathlib
import re
import shutil
import signal
import subprocess
import threading
import time

BURST = 32
MBUFS = 16384
START_TIMEOUT_S = 60
STOP_TIMEOUT_S = 30

# Two ports of each kind: port 0 <-> port 1 for every tool. On net_ring each
# port's tx ring is its own rx ring, so 0 -> 1 -> 0 ... is a closed loop that
# only carries what --tx-first put into it.
SETUPS = {
    "null": ["net_null0", "net_null1"],
    "ring": ["net_ring0", "net_ring1"],
}
TX_FIRST = {"null": 0, "ring": 1}  # bursts per port injected at start


class ToolError(RuntimeError):
    pass


def eal_memory_args(prefix):
    """EAL memory flags of every run.

    DPDK 22.11 refuses --in-memory together with --no-huge ("Option
    --legacy-mem is not compatible with --in-memory": --no-huge implies
    legacy memory), so the peers run with --no-shconf instead, which is what
    --in-memory adds besides hugepage handling; the runtime directory their
    unique --file-prefix names is removed after each run.
    """
    return ["--no-huge", "-m", "512", "--no-shconf", "--no-pci", f"--file-prefix={prefix}"]


def remove_runtime_dir(prefix):
    for base in ("/var/run/dpdk", os.path.join(os.environ.get("XDG_RUNTIME_DIR", "/tmp"),
                                               "dpdk")):
        path = pathlib.Path(base) / prefix
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)


def _all_cpus():
    os.sched_setaffinity(0, range(os.cpu_count()))


class Process:
    """A child whose output lines are kept with their arrival time (monotonic)."""

    def __init__(self, cmd, env=None):
        self.cmd = cmd
        self.lines = []  # (time, line)
        self._seen = threading.Condition()
        full_env = dict(os.environ, **(env or {}))
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL, text=True, bufsize=1,
                                         env=full_env, preexec_fn=_all_cpus,
                                         errors="replace")
        except OSError as e:
            raise ToolError(f"cannot run {cmd[0]}: {e}") from e
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        for line in self.proc.stdout:
            with self._seen:
                self.lines.append((time.monotonic(), line.rstrip("\n")))
                self._seen.notify_all()
        with self._seen:
            self._seen.notify_all()

    def wait_for(self, pattern, timeout):
        """Arrival time of the first line matching pattern; ToolError if none."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = 0
        with self._seen:
            while True:
                while i < len(self.lines):
                    if rx.search(self.lines[i][1]):
                        return self.lines[i][0]
                    i += 1
                if self.proc.poll() is not None and not self._reader.is_alive():
                    raise ToolError(f"{self.cmd[0]} exited {self.proc.returncode} before "
                                    f"'{pattern}':\n{self.tail()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ToolError(f"{self.cmd[0]}: no '{pattern}' within {timeout} s:\n"
                                    f"{self.tail()}")
                self._seen.wait(min(left, 0.5))

    def stop(self, sig=signal.SIGINT, timeout=STOP_TIMEOUT_S):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout):
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise ToolError(f"{self.cmd[0]} did not exit within {timeout} s; killed:\n"
                            f"{self.tail()}")
        self._reader.join(5)
        return rc

    def text(self):
        return "\n".join(line for _, line in self.lines)

    def tail(self, n=25):
        return "\n".join(line for _, line in self.lines[-n:])


def sleep_until_samples(p, duration, sampler, extra_s=3):
    """Lets a peer forward until its stats samples after the first (start-up)
    one span duration - 1 s (its stats come once a second; testpmd's period
    now and then stretches to 2 s), or at most duration + extra_s seconds."""
    start = time.monotonic()
    time.sleep(max(duration - 1, 0))
    while time.monotonic() - start < duration + extra_s and p.proc.poll() is None:
        kept = sampler(list(p.lines))[1:]
        if len(kept) >= 2 and kept[-1][0] - kept[0][0] >= duration - 1.05:
            return
        time.sleep(0.1)


def windowed_rate(samples, skip_first):
    """Mpps from (arrival time, cumulative packets) samples: first to last kept.

    Returns (mpps, packets, seconds, samples used).
    """
    kept = samples[1:] if skip_first else samples
    if len(kept) < 2:
        raise ToolError(f"only {len(kept)} stats samples inside the run: use a longer "
                        f"--duration (>= 3 s)")
    (t0, n0), (t1, n1) = kept[0], kept[-1]
    if t1 <= t0:
        raise ToolError("stats samples arrived at the same time (output buffered?)")
    return (n1 - n0) / (t1 - t0) / 1e6, n1 - n0, t1 - t0, len(kept)


# ---------------------------------------------------------------- testpmd

def testpmd_samples(lines, nports):
    """(arrival, sum of per-port TX-packets) per periodic stats block, plus
    testpmd's own Tx-pps sums and the exit total of forwarded packets."""
    samples, own_pps, exit_total = [], [], None
    port, tx, pps = None, {}, {}
    accumulated = False
    for t, line in lines:
        m = re.search(r"NIC statistics for port (\d+)", line)
        if m:
            port = int(m.group(1))
            continue
        m = re.match(r"\s*TX-packets:\s*(\d+)\s+TX-errors", line)
        if m and port is not None:
            tx[port] = int(m.group(1))
            continue
        m = re.match(r"\s*Tx-pps:\s*(\d+)", line)
        if m and port is not None:
            pps[port] = int(m.group(1))
            if len(pps) == nports and len(tx) == nports:
                samples.append((t, sum(tx.values())))
                own_pps.append(sum(pps.values()))
                tx, pps, port = {}, {}, None
            continue
        if "Accumulated forward statistics" in line:
            accumulated = True
            continue
        m = re.match(r"\s*TX-packets:\s*(\d+)\s+TX-dropped", line)
        if m and accumulated:
            exit_total = int(m.group(1))
            accumulated = False
    return samples, own_pps, exit_total


def testpmd_cmd(testpmd, setup, mode, args, prefix, wrapper=()):
    """testpmd's command line; wrapper: a command that runs it (valgrind ...)."""
    cmd = ["stdbuf", "-oL", *wrapper, testpmd, "-l", f"{args.main_cpu},{args.cpu}",
           "--main-lcore", str(args.main_cpu), *eal_memory_args(prefix),
           *[f"--vdev={p}" for p in SETUPS[setup]], "--",
           f"--forward-mode={mode}", "--nb-cores=1", f"--burst={BURST}",
           f"--total-num-mbufs={MBUFS}", "--stats-period=1"]
    if TX_FIRST[setup]:
        cmd.append("--tx-first")  # one burst per port, as qc-fwd --tx-first 1
    return cmd


def testpmd_started(args):
    """The line testpmd prints once its forwarding lcore runs."""
    return r"Logical Core %d .*forwards packets" % args.cpu


def run_testpmd(testpmd, setup, mode, args, prefix):
    ports = SETUPS[setup]
    cmd = testpmd_cmd(testpmd, setup, mode, args, prefix)
    p = Process(cmd)
    try:
        p.wait_for(testpmd_started(args), START_TIMEOUT_S)
        sleep_until_samples(p, args.duration, lambda ls: testpmd_samples(ls, len(ports))[0])
        rc = p.stop()
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
        remove_runtime_dir(prefix)
    if rc != 0:
        raise ToolError(f"dpdk-testpmd exited {rc}:\n{p.tail()}")
    samples, own_pps, exit_total = testpmd_samples(p.lines, len(ports))
    mpps, packets, seconds, used = windowed_rate(samples, skip_first=True)
    own = sorted(own_pps[1:]) or [0]
    return {"mpps": mpps, "packets": packets, "seconds": seconds, "samples": used,
            "own_mpps": own[len(own) // 2] / 1e6, "exit_total": exit_total,
            "cmd": " ".join(cmd)}


# ---------------------------------------------------------------- l2fwd

def l2fwd_samples(lines):
    return [(t, int(m.group(1))) for t, line in lines
            if (m := re.match(r"Total packets sent:\s*(\d+)", line))]


def run_l2fwd(binaries, setup, mode, args, prefix):
    """l2fwd forwards on its main lcore (it prints its stats from there and
    only there), so it runs with -l CPU: that lcore is the worker CPU; EAL's
    control threads go to the other CPUs. io: --no-mac-updating (frames
    untouched); macswap: l2fwd's MAC updating (rewrites both MACs, the same
    12 bytes a swap writes). On net_ring: the tx-first build (see
    l2fwd_build.py), 1 burst per port."""
    ports = SETUPS[setup]
    binary = binaries["txfirst"] if TX_FIRST[setup] else binaries["plain"]
    cmd = ["stdbuf", "-oL", str(binary), "-l", str(args.cpu), *eal_memory_args(prefix),
           *[f"--vdev={p}" for p in ports], "--", "-p", "0x3", "-q", str(len(ports)),
           "-T", "1"]
    if mode == "io":
        cmd.append("--no-mac-updating")
    env = {"QC_L2FWD_TX_FIRST": str(TX_FIRST[setup])} if TX_FIRST[setup] else None
    p = Process(cmd, env)
    try:
        p.wait_for(r"entering main loop on lcore", START_TIMEOUT_S)
        sleep_until_samples(p, args.duration, l2fwd_samples)
        rc = p.stop()
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
        remove_runtime_dir(prefix)
    if rc != 0:
        raise ToolError(f"l2fwd exited {rc}:\n{p.tail()}")
    mpps, packets, seconds, used = windowed_rate(l2fwd_samples(p.lines), skip_first=True)
    return {"mpps": mpps, "packets": packets, "seconds": seconds, "samples": used,
            "cmd": " ".join(cmd)}


# ---------------------------------------------------------------- qc-fwd

def qcfwd_samples(lines):
    """(elapsed s, tx Mpps over the interval ending there) per live stats line:
    "[2.0 s] rx 25.110 Mpps, tx 25.110 Mpps, ..."."""
    return [(float(m.group(1)), float(m.group(2))) for _, line in lines
            if (m := re.match(r"\[([0-9.]+) s\] rx [0-9.]+ Mpps, tx ([0-9.]+) Mpps", line))]


def qcfwd_windowed_rate(samples):
    """The peers' method on qc-fwd's live lines: the first interval (start-up:
    isolation entry, mlockall) skipped, the rest weighted by their length.
    Returns (mpps, seconds)."""
    kept, total, seconds = [], 0.0, 0.0
    for (t_prev, _), (t, mpps) in zip(samples, samples[1:]):
        kept.append(mpps)
        total += mpps * (t - t_prev)
        seconds += t - t_prev
    if len(kept) < 2 or seconds <= 0:
        raise ToolError(f"qc-fwd: only {len(kept)} live stats lines after the first: use a "
                        f"longer --duration (>= 3 s)")
    return total / seconds, seconds


def qcfwd_cmd(qc_fwd, setup, mode, args, prefix, json_path, latency, wrapper=()):
    """qc-fwd's command line; wrapper: a command that runs it (valgrind ...)."""
    return [*wrapper, qc_fwd, *[a for p in SETUPS[setup] for a in ("--port", p)],
            "--workers", f"{args.cpu}-{args.cpu}", "--mode", mode, "--burst", str(BURST),
            "--duration", str(args.duration), "--stats-interval", "1", "--json", str(json_path),
            "--latency", "on" if latency else "off", "--mbufs", str(MBUFS),
            "--tx-first", str(TX_FIRST[setup]), "--file-prefix", prefix, *args.qc_fwd_arg]


def run_qcfwd(qc_fwd, setup, mode, args, prefix, json_path, latency):
    cmd = qcfwd_cmd(qc_fwd, setup, mode, args, prefix, json_path, latency)
    p = Process(cmd)
    try:
        rc = p.wait(args.duration + START_TIMEOUT_S + STOP_TIMEOUT_S)
    finally:
        if p.proc.poll() is None:
            p.proc.kill()
        remove_runtime_dir(prefix)
    if rc != 0:
        raise ToolError(f"qc-fwd exited {rc}:\n{p.tail()}")
    try:
        summary = json.loads(pathlib.Path(json_path).read_text())
    except (OSError, ValueError) as e:
        raise ToolError(f"qc-fwd: no readable --json summary ({e}):\n{p.tail()}") from e
    workers = summary.get("workers", [])
    cpus = [w.get("cpu") for w in workers]
    if cpus != [args.cpu]:
        raise ToolError(f"qc-fwd ran workers on CPUs {cpus}, not [{args.cpu}]")
    totals = summary["totals"]
    elapsed = float(summary["elapsed_s"])
    if elapsed <= 0:
        raise ToolError("qc-fwd: elapsed_s is 0")
    mpps, seconds = qcfwd_windowed_rate(qcfwd_samples(p.lines))
    return {"mpps": mpps, "packets": totals["transmitted"], "whole_run_mpps":
            totals["transmitted"] / elapsed / 1e6,
            "seconds": seconds, "latency_ns": workers[0].get("latency_ns", {}),
            "accounting_ok": totals.get("accounting_ok"),
            "mbufs_all_returned": summary.get("mbufs_all_returned"), "cmd": " ".join(cmd)}
