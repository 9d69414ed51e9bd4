"""A throw-away sysfs tree holding the CPU files `qc-monitor plan` reads."""

import os
import shutil
import tempfile


class FakeSysfs:
    """<root>/devices/system/cpu/{possible,online,isolated[,nohz_full]}.

    nohz_full=None leaves the file out, as on a kernel without NO_HZ_FULL.
    """

    def __init__(self, possible, online, isolated, nohz_full=None):
        self.root = tempfile.mkdtemp(prefix="qc-monitor-sysfs-")
        cpu_dir = os.path.join(self.root, "devices", "system", "cpu")
        os.makedirs(cpu_dir)
        files = {"possible": possible, "online": online, "isolated": isolated}
        if nohz_full is not None:
            files["nohz_full"] = nohz_full
        for name, value in files.items():
            with open(os.path.join(cpu_dir, name), "w", encoding="ascii") as f:
                f.write(value + "\n")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.root, ignore_errors=True)
