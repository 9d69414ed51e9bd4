#!/usr/bin/env python3
"""qc-monitor serve scraped for real: `promtool check metrics` on /metrics
must be clean, /status must be JSON with the isolated CPUs, and a real
Prometheus server (Debian's `prometheus`) on loopback scraping serve every
second must answer a query for quietcore_cpu_interrupts_total with the
right labels and a value in line with /proc/interrupts. Prints serve's CPU
time per scrape (measured, not asserted).

usage: check_serve_prometheus.py QC_MONITOR
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

QC = sys.argv[1]
SKIP = 77
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpulist(text):
    cpus = set()
    for part in filter(None, text.split(",")):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def loc_cpu1():
    with open("/proc/interrupts") as f:
        lines = f.read().splitlines()
    col = [int(w[3:]) for w in lines[0].split()].index(1)
    for line in lines[1:]:
        if line.strip().startswith("LOC:"):
            return int(line.split(":", 1)[1].split()[col])
    return None


promtool = shutil.which("promtool")
prometheus = shutil.which("prometheus")
if not promtool or not prometheus:
    print("skip: promtool / prometheus missing (Debian package prometheus)")
    sys.exit(SKIP)
if 1 not in os.sched_getaffinity(0) or 0 not in os.sched_getaffinity(0):
    print("skip: needs CPUs 0 and 1")
    sys.exit(SKIP)

port = free_port()
serve = subprocess.Popen([QC, "serve", "--listen", f"127.0.0.1:{port}", "--isolated", "1",
                          "--interval", "1", "--check-interval", "5"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
prom = None
tmp = tempfile.mkdtemp(prefix="qc-serve-prom-")
try:
    banner = serve.stdout.readline()
    print(banner, end="")
    check(f"port {port}" in banner, f"serve banner: {banner!r}")
    time.sleep(1.5)

    # Every thread of serve (civetweb's too) runs on the housekeeping CPUs only.
    with open("/sys/devices/system/cpu/online") as f:
        housekeeping = cpulist(f.read().strip()) - {1}
    tids = os.listdir(f"/proc/{serve.pid}/task")
    check(len(tids) >= 3, f"serve has its HTTP threads: {len(tids)} threads")
    for tid in tids:
        with open(f"/proc/{serve.pid}/task/{tid}/status") as f:
            allowed = [cpulist(l.split(":", 1)[1].strip()) for l in f
                       if l.startswith("Cpus_allowed_list")]
        check(allowed == [housekeeping],
              f"serve thread {tid} allowed on {allowed}, want {sorted(housekeeping)}")

    metrics = get(f"http://127.0.0.1:{port}/metrics")
    lint = subprocess.run([promtool, "check", "metrics"], input=metrics, capture_output=True,
                          text=True)
    check(lint.returncode == 0 and lint.stdout.strip() == "" and lint.stderr.strip() == "",
          f"promtool check metrics: exit {lint.returncode} {lint.stdout!r} {lint.stderr!r}")
    for name in ("quietcore_cpu_interrupts_total", "quietcore_cpu_softirqs_total",
                 "quietcore_cpu_context_switches_total", "quietcore_cpu_isolated",
                 "quietcore_monitor_samples_total", "quietcore_monitor_info"):
        check(f"# TYPE {name} " in metrics, f"/metrics has {name}")
    check('quietcore_cpu_isolated{cpu="1"} 1' in metrics, "CPU 1 is isolated in /metrics")
    check('quietcore_cpu_isolated{cpu="0"} 0' in metrics, "CPU 0 is not")

    status = json.loads(get(f"http://127.0.0.1:{port}/status"))
    check(status["isolated"] == "1" and status["isolated_source"] == "--isolated",
          f"/status isolated: {status['isolated']} from {status['isolated_source']}")
    check(cpulist(status["running_on"]) == housekeeping,
          f"/status running_on {status['running_on']}")
    check(status["samples"] >= 2 and status["uptime_seconds"] > 1,
          f"/status samples {status['samples']} uptime {status['uptime_seconds']}")
    check(isinstance(status["last_interval"], dict)
          and [c["cpu"] for c in status["last_interval"]["cpus"]] == [1],
          f"/status last_interval: {status['last_interval']}")
    check(isinstance(status["recent_breaks"], list), "/status recent_breaks is a list")

    # A real Prometheus scraping serve every second.
    prom_port = free_port()
    config = os.path.join(tmp, "prometheus.yml")
    with open(config, "w") as f:
        f.write("global:\n"
                "  scrape_interval: 1s\n"
                "  evaluation_interval: 1s\n"
                "scrape_configs:\n"
                "  - job_name: quietcore\n"
                "    static_configs:\n"
                f"      - targets: ['127.0.0.1:{port}']\n")
    prom_log = open(os.path.join(tmp, "prometheus.log"), "w")
    prom = subprocess.Popen([prometheus, f"--config.file={config}",
                             f"--storage.tsdb.path={os.path.join(tmp, 'data')}",
                             f"--web.listen-address=127.0.0.1:{prom_port}"],
                            stdout=prom_log, stderr=subprocess.STDOUT)
    query = 'quietcore_cpu_interrupts_total{cpu="1",kind="LOC"}'
    url = (f"http://127.0.0.1:{prom_port}/api/v1/query?"
           + urllib.parse.urlencode({"query": query}))
    result = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            answer = json.loads(get(url))
            if answer.get("status") == "success" and answer["data"]["result"]:
                result = answer["data"]["result"]
                break
        except (OSError, ValueError):
            pass  # not up yet
        time.sleep(0.5)
    check(len(result) == 1, f"Prometheus has one series for {query}: {result}")
    if result:
        labels, (_, value) = result[0]["metric"], result[0]["value"]
        print(f"Prometheus: {labels} = {value}")
        check(labels.get("__name__") == "quietcore_cpu_interrupts_total", f"name {labels}")
        check(labels.get("job") == "quietcore" and labels.get("instance") == f"127.0.0.1:{port}",
              f"job / instance {labels}")
        check(labels.get("cpu") == "1" and labels.get("kind") == "LOC"
              and labels.get("description") == "Local timer interrupts", f"labels {labels}")
        now = loc_cpu1()
        check(0 < float(value) <= now, f"value {value} > 0 and at most /proc's {now}")
        check(float(value) > 0.9 * now, f"value {value} mirrors /proc's {now}")
    targets = json.loads(get(f"http://127.0.0.1:{prom_port}/api/v1/targets"))
    health = [t["health"] for t in targets["data"]["activeTargets"]]
    check(health == ["up"], f"Prometheus target health {health}")

    # serve's CPU time: idle (sampling only), then under 200 back-to-back scrapes.
    hz = os.sysconf("SC_CLK_TCK")
    prom.send_signal(signal.SIGTERM)
    prom.wait(timeout=30)
    prom = None
    t0, c0 = time.monotonic(), cpu_ticks(serve.pid)
    time.sleep(5)
    t1, c1 = time.monotonic(), cpu_ticks(serve.pid)
    size = 0
    for _ in range(200):
        size = len(get(f"http://127.0.0.1:{port}/metrics"))
    t2, c2 = time.monotonic(), cpu_ticks(serve.pid)
    idle_rate = (c1 - c0) / hz / (t1 - t0)
    per_scrape = ((c2 - c1) / hz - idle_rate * (t2 - t1)) / 200
    print(f"serve CPU: {idle_rate * 100:.2f}% idle at --interval 1; "
          f"{per_scrape * 1000:.2f} ms per scrape of {size} bytes "
          f"(200 scrapes in {t2 - t1:.2f} s)")
finally:
    if prom is not None:
        prom.kill()
        prom.wait()
    serve.send_signal(signal.SIGTERM)
    try:
        out, err = serve.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        serve.kill()
        out, err = serve.communicate()
    print(err, end="")
    shutil.rmtree(tmp, ignore_errors=True)
check(serve.returncode == 0, f"serve exit on SIGTERM {serve.returncode}")

if failures:
    print(f"{len(failures)} failure(s)")
    sys.exit(1)
print("ok")
