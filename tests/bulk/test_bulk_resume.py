"""Kill the driver (``presta-ax sync catalog`` in its own process, on the session's Ray) in the
middle of a run, run the same command again: it continues the run, skips the finished chunks,
and the shop received each record's create exactly once (counted from its request log)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from connectors.prestashop.sandbox.faults import Faults
from runtime.store.bulk_runs import open_bulk_store
from tests.bulk.conftest import sandboxes

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_kill_the_driver_mid_run_and_rerun(ray_session: None, tmp_path: Path) -> None:
    import ray

    items = 300
    faults = Faults(write_latency_ms=25)  # slow enough writes that the kill lands mid-run
    with sandboxes(tmp_path, items, variants=2, faults=faults) as systems:
        config = systems.write_config(tmp_path)
        address = ray.get_runtime_context().gcs_address
        cmd = [sys.executable, "-m", "runtime.cli", "sync", "catalog", "--config", str(config), "--address", address,
               "--chunk-size", "20", "--concurrency", "4"]
        driver = subprocess.Popen(cmd, cwd=ROOT, env=dict(os.environ), stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        store = open_bulk_store(systems.store_url)
        deadline = time.monotonic() + 120
        run = None
        while time.monotonic() < deadline and driver.poll() is None:
            runs = store.list_runs(1)
            run = runs[0] if runs else None
            if run and run["chunks_done"] >= 3:
                break
            time.sleep(0.2)
        assert driver.poll() is None, driver.stderr.read().decode() if driver.stderr else ""
        driver.send_signal(signal.SIGKILL)
        driver.wait(30)
        # the killed driver's tasks die with it, but not at once: one may still finish its chunk and
        # checkpoint it, so what the rerun will find is read once no chunk runs any more
        settle = time.monotonic() + 60
        while _chunk_workers() and time.monotonic() < settle:
            time.sleep(0.2)
        assert run is not None
        stopped = store.get_run(run["run_id"])
        assert stopped is not None and stopped["status"] == "running"  # killed: it never said it ended
        done_before = len(store.get_checkpoints(run["run_id"]))
        assert 3 <= done_before < items // 20

        rerun = systems.run("catalog", chunk_size=20, concurrency=4)  # the same command, in this process
        assert rerun["run_id"] == run["run_id"] and rerun["status"] == "done"
        assert rerun["resumed_chunks"] == done_before
        creates = Counter(r["resource"] for r in systems.shop_writes() if r["method"] == "POST")
        assert creates == {"products": items, "combinations": items // 10 * 2}
        refs = [p["reference"] for p in systems.shop("products", "[reference]")]
        assert len(refs) == len(set(refs)) == items
        store.close()


def _chunk_workers() -> list[int]:
    """Pids of Ray workers running a chunk now (Ray titles a worker by the task it runs)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                title = (entry / "cmdline").read_bytes().split(b"\0")[0]
            except OSError:
                continue
            if title.startswith(b"ray::run_chunk"):
                pids.append(int(entry.name))
    return pids


def test_kill_a_task_worker_mid_chunk(ray_session: None, tmp_path: Path) -> None:
    import threading

    items = 200
    with sandboxes(tmp_path, items, variants=2, faults=Faults(write_latency_ms=25)) as systems:
        killed: list[int] = []

        def kill_one() -> None:
            store = open_bulk_store(systems.store_url)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                runs = store.list_runs(1)
                if runs and runs[0]["chunks_done"] >= 1:
                    for pid in _chunk_workers():
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        break
                time.sleep(0.1)
            store.close()

        killer = threading.Thread(target=kill_one)
        killer.start()
        run = systems.run("catalog", chunk_size=20, concurrency=4)
        killer.join()
        assert killed, "no chunk was running to be killed"
        assert run["status"] == "done" and run["counts"]["failed"] == 0
        creates = Counter(r["resource"] for r in systems.shop_writes() if r["method"] == "POST")
        assert creates == {"products": items, "combinations": items // 10 * 2}  # the lost chunk ran again, once
        refs = [p["reference"] for p in systems.shop("products", "[reference]")]
        assert len(refs) == len(set(refs)) == items
