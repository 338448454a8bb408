"""The order-latency benchmark runs in its quick form (``benchmarks/order_latency.py --quick``:
both sandboxes, a local Ray with the bridge, 20 s of load, here at 4 orders/s to keep the suite
short) and ends with its three
figures. Benchmarks assert no time: this checks that it runs to the end and prints each figure as
a number, never what the numbers are (``make bench`` runs the full 60 s campaign)."""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
FIGURES = ("o2c_added_p50_ms", "o2c_added_p99_ms", "stock_lag_p99_s")


def test_the_quick_order_latency_benchmark_prints_its_three_figures() -> None:
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    run = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "order_latency.py"), "--quick", "--rate", "4"],
                         cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    last = [ln for ln in run.stdout.splitlines() if ln.strip()][-3:]
    assert [ln.split(":")[0] for ln in last] == list(FIGURES), run.stdout[-3000:]
    for line in last:
        m = re.fullmatch(r"[a-z0-9_]+: (-?\d+(?:\.\d+)?)", line)
        assert m is not None and math.isfinite(float(m.group(1))), line
