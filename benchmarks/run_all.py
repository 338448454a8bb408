"""Run every benchmark in this folder, one after the other (``make bench``), each in its full
campaign (no ``--quick``): the sandboxes, the AX client, mapping, ingest and ``order_latency.py``
(20 orders/s for 60 s through the whole order-to-cash cycle; its ``--quick`` form runs in the
tests) and ``chaos.py`` (10,000 orders through the order-to-cash cycle under a seeded fault
schedule; the load alone lasts 28 minutes at its 6 orders/s; its small form runs in the tests). Every script of
the folder but this one and ``_*.py`` helpers is a benchmark."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    failed = 0
    for script in sorted(HERE.glob("*.py")):
        if script.name in ("run_all.py",) or script.name.startswith("_"):
            continue
        print(f"==> {script.name}", flush=True)
        failed |= subprocess.call([sys.executable, str(script)]) != 0
    sys.exit(1 if failed else 0)
