"""The bridge on three hosts that share nothing but the network and a PostgreSQL store (A: Ray
head, Serve ingress, PostgreSQL, the sandboxes; B and C: Ray workers for the entity actors and the
bulk tasks, by the custom resource ``presta_ax_worker``).

* a SQLite store is refused at start, naming ``store.url``;
* a signed webhook sent to A's IP becomes one AX sales order, processed by the order actor on B or C;
* a bulk catalog sync runs its chunks on both workers; the host running the order actor is
  killed mid-run (every process in its namespace): no record is lost or written twice, the run
  ends ``done``, and the next order is processed by the actor restarted on the other worker.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.prestashop import Client, ClientConfig
from runtime.store import Store
from runtime.store.bulk_runs import open_bulk_store
from tests.cluster.bridge_support import (
    AX_PORT,
    BULK_SHOP,
    ORDER_SHOP,
    start_bridge,
    start_sandboxes,
    write_config,
)
from tests.cluster.conftest import Cluster
from tests.cluster.ray_nodes import BIN, host_env, start_worker
from tests.contract.runtime_operations.support import PS_KEY, place_order
from tests.e2e.support import signed

pytestmark = [pytest.mark.cluster]

ITEMS = 120
NAMESPACE = "pax-cluster"


class Bridge:
    def __init__(self, cluster: Cluster, shared: Path, store_url: str, url: str) -> None:
        self.cluster, self.shared, self.store_url, self.url = cluster, shared, store_url, url

    @property
    def sandbox_ip(self) -> str:
        return self.cluster.head.ip


@pytest.fixture(scope="module")
def bridge(cluster: Cluster) -> Bridge:
    head = cluster.head
    shared = cluster.hosts.scratch / "shared"  # what NFS would be on real hosts: flows and data_dir
    start_sandboxes(head, ITEMS)
    store_url = cluster.database()
    config = write_config(shared, "bridge", store_url=store_url, sandbox_ip=head.ip)
    return Bridge(cluster, shared, store_url, start_bridge(head, config))


def test_a_sqlite_store_stops_the_bridge_at_start_naming_the_setting(cluster: Cluster) -> None:
    head = cluster.head
    shared = cluster.hosts.scratch / "shared-sqlite"
    config = write_config(shared, "sqlite", store_url=f"sqlite:///{head.data / 'journal.db'}", sandbox_ip="127.0.0.1",
                          namespace="pax-sqlite")
    proc = head.run([str(BIN / "presta-ax"), "serve", "--config", str(config), "--address", "auto"],
                    env=host_env(head, head.ip), check=False, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out[-2000:]
    assert "This Ray cluster has 3 nodes" in out and "store.url: SQLite is a file on one host" in out
    assert "systems.prestashop.base_url: http://127.0.0.1:8081 is a loopback address" in out
    assert "systems.ax.base_url" in out and PS_KEY not in out


def _order_messages(store: Store, key: str) -> list[Any]:
    return [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]


async def _order_through_head(bridge: Bridge, email: str, wid: str) -> tuple[dict[str, Any], list[Any]]:
    """Place a paid order in the shop, send its signed webhook to the head's IP, wait until the
    message is done; the order and the AX sales orders carrying its reference."""
    ip = bridge.sandbox_ip
    store = Store(bridge.store_url)
    try:
        async with Client(ClientConfig(base_url=f"http://{ip}:{ORDER_SHOP}", api_key=PS_KEY)) as shop, \
                AxClient(AxConfig(base_url=f"http://{ip}:{AX_PORT}/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                  company="DAT")) as ax, \
                httpx.AsyncClient(base_url=bridge.url, timeout=15) as http:
            order = await place_order(shop, email)
            data = {k: order[k] for k in ("id", "id_customer", "reference", "date_upd", "current_state")}
            body, headers = signed("order.created", {"resource": "orders", **data}, wid=wid)
            assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code == 202
            key = str(order["id"])
            deadline = time.monotonic() + 90
            while not (msgs := _order_messages(store, key)) or msgs[0].status != "done":
                assert time.monotonic() < deadline, f"order message not done: {[m.status for m in msgs]}"
                await asyncio.sleep(0.5)
            found = [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", order["reference"])])
                     if o.purch_order_form_num == order["reference"]]
            return order, found
    finally:
        store.close()


def _order(bridge: Bridge, email: str, wid: str) -> tuple[dict[str, Any], list[Any]]:
    """:func:`_order_through_head`, its connections made as a client on the switch."""
    with bridge.cluster.hosts.client():
        return asyncio.run(_order_through_head(bridge, email, wid))


def test_a_webhook_to_the_head_becomes_an_ax_order_processed_on_a_worker_host(bridge: Bridge) -> None:
    order, found = _order(bridge, "cluster.buyer@example.com", "evt_cluster_1")
    assert len(found) == 1
    actors = bridge.cluster.actors(NAMESPACE)
    workers = {h.ip for h in bridge.cluster.workers}
    assert actors["entity:order"]["ip"] in workers, actors
    assert actors["dispatcher"]["ip"] in workers, actors
    with bridge.cluster.hosts.client():
        store = Store(bridge.store_url)
        try:
            assert store.get_xref("order", ps_id=str(order["id"]))["ax_id"] == found[0].sales_id
        finally:
            store.close()


def _shop_products(cluster: Cluster, ip: str) -> list[str]:
    with cluster.hosts.client():
        r = httpx.get(f"http://{ip}:{BULK_SHOP}/api/products",
                      params={"output_format": "JSON", "display": "[reference]"}, auth=(PS_KEY, ""), timeout=30)
    r.raise_for_status()
    body = r.json()
    return [p["reference"] for p in (body.get("products", []) if isinstance(body, dict) else [])]


def test_bulk_sync_spans_hosts_and_survives_a_killed_host(bridge: Bridge) -> None:
    cluster, head = bridge.cluster, bridge.cluster.head
    ip_of = {n["node_id"]: n["ip"] for n in cluster.nodes()}
    victim_ip = cluster.actors(NAMESPACE)["entity:order"]["ip"]
    victim = next(h for h in cluster.workers if h.ip == victim_ip)
    survivor = next(h for h in cluster.workers if h is not victim)
    bulk_store = cluster.database()
    config = write_config(bridge.shared, "bulk", store_url=bulk_store, sandbox_ip=head.ip, shop_port=BULK_SHOP,
                          namespace="pax-bulk")
    sync = head.spawn([str(BIN / "presta-ax"), "sync", "catalog", "--config", str(config), "--address", "auto",
                       "--chunk-size", "5", "--concurrency", "4", "--json"], "sync.log", env=host_env(head, head.ip))
    with cluster.hosts.client():
        runs = open_bulk_store(bulk_store)
        deadline = time.monotonic() + 120
        while True:  # mid-run, once chunks have finished on both workers (the run record says where)
            assert sync.poll() is None and time.monotonic() < deadline, head.log("sync.log")
            listed = runs.list_runs(1)
            if listed and len(listed[0].get("nodes") or {}) >= 2:
                break
            time.sleep(0.3)
        runs.close()
    assert len(_shop_products(cluster, head.ip)) < ITEMS - 20  # the kill comes mid-run
    assert victim.kill_all() > 0
    assert sync.wait(timeout=240) == 0, head.log("sync.log")
    lines = (head.root / "sync.log").read_text().splitlines()
    run, _ = json.JSONDecoder().raw_decode("\n".join(lines[lines.index("{"):]))  # the --json record
    assert run["status"] == "done" and run["counts"]["failed"] == 0, run["counts"]
    hosts_used = {ip_of.get(node) for node in run["nodes"]}
    assert hosts_used == {victim.ip, survivor.ip}, run["nodes"]  # never the head: placement
    refs = _shop_products(cluster, head.ip)
    assert len(refs) == len(set(refs)) == ITEMS  # nothing lost, nothing written twice
    with cluster.hosts.client():
        requests = httpx.get(f"http://{head.ip}:{BULK_SHOP}/_sandbox/requests", auth=(PS_KEY, ""),
                             timeout=30).json()["requests"]
    writes = Counter(r["method"] for r in requests
                     if r["resource"] == "products" and r["method"] == "POST" and r["status"] is None)
    assert writes["POST"] == ITEMS

    # the order actor lived on the killed host: the next order is processed by its restart on the survivor
    _, found = _order(bridge, "cluster.second@example.com", "evt_cluster_2")
    assert len(found) == 1
    assert cluster.actors(NAMESPACE)["entity:order"]["ip"] == survivor.ip

    start_worker(victim, head.ip)  # the host comes back: the session's other tests see three nodes again
    deadline = time.monotonic() + 60
    while len(cluster.nodes()) < 3:
        assert time.monotonic() < deadline, "the restarted worker did not join"
        time.sleep(1)

