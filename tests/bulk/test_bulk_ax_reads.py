"""An ax-to-ps run's AX calls (the driver's key pages, the tasks' reads of many keys) share one
budget, ``presta-ax sync --ax-concurrency N``, on all tasks at once.

AX's own count of calls in flight (``/_sandbox/state`` ``peak_in_flight``, over every SOAP call)
shows it: ``presta-ax sync catalog --ax-concurrency 1`` (the CLI in its own process, on the
session's Ray), several chunk tasks reading at once and 50 ms per AX call: AX never served two
calls at once. The same catalog re-read with the default budget (AX's ``max_connections``)
overlaps its calls, so the first figure is the budget's doing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from runtime.store.bulk_runs import open_bulk_store
from tests.bulk.conftest import Systems, sandboxes

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def _ax_peak(systems: Systems) -> int:
    return int(httpx.get(systems.ax_url + "/_sandbox/state", timeout=30).json()["peak_in_flight"])


def test_the_reads_of_an_ax_to_ps_run_stay_within_the_ax_budget(ray_session: None, tmp_path: Path) -> None:
    import ray

    items = 60
    with sandboxes(tmp_path, items, variants=0) as systems:
        httpx.post(systems.ax_url + "/_sandbox/faults", json={"latency_ms": 50}, timeout=30).raise_for_status()
        config = systems.write_config(tmp_path)
        cli = subprocess.run([sys.executable, "-m", "runtime.cli", "sync", "catalog", "--config", str(config),
                              "--address", ray.get_runtime_context().gcs_address, "--chunk-size", "10",
                              "--ax-concurrency", "1", "--json"],
                             cwd=ROOT, env=dict(os.environ), capture_output=True, text=True, timeout=200)
        assert cli.returncode == 0, cli.stderr[-2000:]
        store = open_bulk_store(systems.store_url)
        try:
            run = store.list_runs(1)[0]
        finally:
            store.close()
        assert run["status"] == "done" and run["counts"]["created"] == items and run["counts"]["failed"] == 0, run
        assert run["args"]["ax_concurrency"] == 1
        reads = run["limiters"]["ax"]
        assert reads["max"] == 1 and reads["peak_in_use"] == 1 and reads["outcomes"] >= items // 10
        assert _ax_peak(systems) == 1  # several chunk tasks reading, one AX call at a time

        # nothing changed since: the listing (getChangedKeys) is the run's only AX caller, one call
        # at a time, so it asks the limiter for no permit (nor waits for its actor to start)
        quiet = systems.run("catalog", chunk_size=10, changed=True, overlap_s=0.0, ax_concurrency=1)
        assert quiet["status"] == "done" and quiet["listed"] == 0 and quiet["counts"]["writes"] == 0, quiet
        assert quiet["limiters"]["ax"]["granted"] == 0 and quiet["limiters"]["ax"]["max"] == 1
        assert _ax_peak(systems) == 1

        again = systems.run("catalog", chunk_size=10, window=6)  # the default budget
        assert again["status"] == "done" and again["counts"]["writes"] == 0
        assert again["limiters"]["ax"]["max"] == systems.ax.max_connections
        assert _ax_peak(systems) > 1  # unbudgeted the same reads overlap: the figure above was the budget's
