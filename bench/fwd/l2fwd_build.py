"""Builds DPDK's own l2fwd example at bench time (never committed).

The source is Debian's dpdk-doc copy (/usr/share/dpdk/examples/l2fwd). It is
copied to a temporary directory, built with its own Makefile against
pkg-config libdpdk, and the binary cached under a directory keyed by a hash of
the sources, the DPDK version and the patch below, so a later run reuses it.

Two binaries:
  l2fwd          the example as shipped (used on net_null);
  l2fwd-txfirst  the same with one addition before the lcores are launched:
                 QC_L2FWD_TX_FIRST=N in the environment sends N bursts of 32
                 60-byte frames on every enabled port, like testpmd's
                 --tx-first. l2fwd has no way to start a loop of net_ring
                 ports otherwise (nothing ever enters the rings); its
                 forwarding loop is untouched, and with the variable unset the
                 binary behaves as shipped.
"""

import hashlib
import os
import pathlib
import shutil
import subprocess
import tempfile

EXAMPLE_DIR = pathlib.Path("/usr/share/dpdk/examples/l2fwd")

TX_FIRST_ANCHOR = "\trte_eal_mp_remote_launch(l2fwd_launch_one_lcore, NULL, CALL_MAIN);\n"
TX_FIRST_CODE = r"""	/* quietcore bench: like testpmd --tx-first, for port loops (net_ring). */
	{
		const char *txf = getenv("QC_L2FWD_TX_FIRST");
		const unsigned int nb_bursts = txf != NULL ? (unsigned int)atoi(txf) : 0;
		uint16_t txf_port;

		RTE_ETH_FOREACH_DEV(txf_port) {
			unsigned int b, k;

			if ((l2fwd_enabled_port_mask & (1 << txf_port)) == 0)
				continue;
			for (b = 0; b < nb_bursts; b++) {
				struct rte_mbuf *pkts[MAX_PKT_BURST];
				uint16_t sent;

				if (rte_pktmbuf_alloc_bulk(l2fwd_pktmbuf_pool, pkts,
							   MAX_PKT_BURST) != 0)
					rte_exit(EXIT_FAILURE, "tx-first: no mbufs\n");
				for (k = 0; k < MAX_PKT_BURST; k++)
					memset(rte_pktmbuf_append(pkts[k], 60), 0, 60);
				sent = rte_eth_tx_burst(txf_port, 0, pkts, MAX_PKT_BURST);
				if (sent < MAX_PKT_BURST)
					rte_pktmbuf_free_bulk(pkts + sent, MAX_PKT_BURST - sent);
				printf("tx-first: port %u sent %u\n", txf_port, sent);
			}
		}
	}
"""


def _dpdk_version():
    return subprocess.run(["pkg-config", "--modversion", "libdpdk"], capture_output=True,
                          text=True, check=True).stdout.strip()


def _key():
    h = hashlib.sha256()
    for name in ("main.c", "Makefile"):
        h.update((EXAMPLE_DIR / name).read_bytes())
    h.update(_dpdk_version().encode())
    h.update(TX_FIRST_CODE.encode())
    return h.hexdigest()[:16]


def default_cache_dir():
    """/var/cache/quietcore when writable (root), else ~/.cache/quietcore."""
    system = pathlib.Path("/var/cache/quietcore")
    try:
        system.mkdir(parents=True, exist_ok=True)
        if os.access(system, os.W_OK):
            return system
    except OSError:
        pass
    return pathlib.Path.home() / ".cache" / "quietcore"


def _make(src_dir, log):
    run = subprocess.run(["make", "-C", str(src_dir)], capture_output=True, text=True)
    log.write(run.stdout + run.stderr)
    if run.returncode != 0:
        raise RuntimeError(f"building l2fwd failed (make exited {run.returncode}):\n"
                           f"{run.stderr.strip()[-2000:]}")
    return src_dir / "build" / "l2fwd-shared"


def build(cache_dir=None):
    """Returns {"plain": path, "txfirst": path}, building them if not cached."""
    if not (EXAMPLE_DIR / "main.c").exists():
        raise RuntimeError(f"{EXAMPLE_DIR}/main.c not found: install Debian's dpdk-doc")
    out = pathlib.Path(cache_dir or default_cache_dir()) / f"l2fwd-{_key()}"
    paths = {"plain": out / "l2fwd", "txfirst": out / "l2fwd-txfirst"}
    if all(p.exists() for p in paths.values()):
        return paths
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="qc-l2fwd-") as tmp, \
            open(out / "build.log", "w") as log:
        plain = pathlib.Path(tmp) / "plain"
        shutil.copytree(EXAMPLE_DIR, plain)
        shutil.copy2(_make(plain, log), paths["plain"])

        patched = pathlib.Path(tmp) / "txfirst"
        shutil.copytree(EXAMPLE_DIR, patched)
        main_c = patched / "main.c"
        text = main_c.read_text()
        if text.count(TX_FIRST_ANCHOR) != 1:
            raise RuntimeError("l2fwd main.c changed: cannot place the tx-first addition")
        main_c.write_text(text.replace(TX_FIRST_ANCHOR, TX_FIRST_CODE + TX_FIRST_ANCHOR))
        shutil.copy2(_make(patched, log), paths["txfirst"])
    return paths
