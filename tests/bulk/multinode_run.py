"""The multi-node scenario, run as its own process (``python -m tests.bulk.multinode_run STORE_URL
TMPDIR``) because it starts its own Ray cluster (``ray.cluster_utils.Cluster``: a head and two
workers on this machine), which must not meet the test session's Ray. Prints one JSON line:
the nodes, the SQLite refusal, chunks per node, the run's counts and the shop's creates."""

from __future__ import annotations

import asyncio
import functools
import json
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import ray
from ray.cluster_utils import Cluster

from connectors.errors import ConfigError
from connectors.prestashop.sandbox.faults import Faults
from pipelines.bulk import BulkOptions, check_cluster_store, run_bulk
from runtime.store.bulk_runs import open_bulk_store
from tests.bulk.conftest import sandboxes

ITEMS = 240


def main(store_url: str, tmp: str) -> None:
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    cluster.add_node(num_cpus=1)
    victim = cluster.add_node(num_cpus=1)
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False)
    out: dict[str, Any] = {"nodes": sum(1 for n in ray.nodes() if n["Alive"]), "victim": victim.node_id}
    try:
        check_cluster_store("sqlite:///x.db", out["nodes"])
    except ConfigError as exc:
        out["sqlite_refused"] = exc.message
    removed = threading.Event()
    gone: list[float] = []

    def remove() -> None:
        cluster.remove_node(victim, allow_graceful=False)  # its raylet and workers are killed
        gone.append(time.monotonic())

    def remove_soon(run: dict[str, Any]) -> None:
        # the node goes while its tasks run: their chunks are run again elsewhere
        if run["chunks_done"] >= 2 and not removed.is_set():
            removed.set()
            threading.Thread(target=remove).start()

    with sandboxes(Path(tmp), ITEMS, variants=0, faults=Faults(write_latency_ms=60), store_url=store_url) as systems:
        opts = BulkOptions(kind="catalog", flow_dirs=[str(systems.flow_dir)], chunk_size=10, concurrency=4, window=6,
                           permit_lease_s=10)
        run = asyncio.run(run_bulk(opts, prestashop=systems.ps, ax=systems.ax, on_progress=remove_soon,
                                   store_factory=functools.partial(open_bulk_store, store_url)))
        ended = time.monotonic()
        posts = Counter(r["resource"] for r in systems.shop_writes() if r["method"] == "POST")
        refs = [p["reference"] for p in systems.shop("products", "[reference]")]
    out.update(removed=removed.is_set(), status=run["status"], counts=run["counts"], chunk_nodes=run["nodes"],
               posts=dict(posts), products=len(refs), distinct=len(set(refs)),
               removed_mid_run=bool(gone) and gone[0] < ended)
    deadline = time.monotonic() + 60  # Ray notices a dead node after ~15 s of missed health checks
    while time.monotonic() < deadline and sum(1 for n in ray.nodes() if n["Alive"]) > 2:
        time.sleep(1)
    out["alive_after"] = sum(1 for n in ray.nodes() if n["Alive"])
    print("RESULT " + json.dumps(out))
    ray.shutdown()
    cluster.shutdown()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
