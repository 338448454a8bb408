"""The Serve config that deploy/kuberay/rayservice.yaml embeds, deployed as KubeRay deploys it
(its ``serveConfigV2`` handed to Serve's declarative API, here by ``serve run CONFIG``) on the
harness' three-host cluster, with no ``presta-ax serve`` process: the ``presta-ax-workers``
application (runtime.serve_workers) starts the dispatcher and so the pollers.

* an order placed in the shop while its webhooks are off is found by the PrestaShop poller and
  becomes one AX sales order (so the pollers run), processed on a worker host;
* a redeploy (new replicas of both applications) keeps the one dispatcher: same actor, no second
  dispatcher anywhere on the cluster, and the next order still reaches AX once.

The container environment of the manifest (``PRESTA_AX_CONFIG``, ``PRESTA_AX_STORE_URL``) is
given to the applications as ``runtime_env.env_vars``: the hosts' Ray nodes were started without it.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from ruamel.yaml import YAML

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.prestashop import Client, ClientConfig
from runtime.dispatch_lease import DISPATCHER_LEASE
from runtime.serve_workers import holder_for
from runtime.store import Store
from tests.cluster.bridge_support import BRIDGE_PORT, wait_http, write_config
from tests.cluster.conftest import Cluster
from tests.cluster.hosts import ROOT
from tests.cluster.ray_nodes import BIN, host_env, run_probe
from tests.contract.runtime_operations.support import PS_KEY, place_order

pytestmark = [pytest.mark.cluster]

NAMESPACE = "pax-kuberay"
APPS = ("presta-ax-bridge", "presta-ax-workers")
SHOP_PORT, AX_PORT = 8091, 8092  # beside the other cluster tests' sandboxes on the head
LIMITS = {"lease_s": 5, "dispatch_interval_s": 0.5, "poll_interval_s": 1.0,
          "retry": {"base_s": 0.2, "cap_s": 2, "max_attempts": 8}}


def manifest_serve_config() -> dict[str, Any]:
    """``spec.serveConfigV2`` of the RayService in deploy/kuberay/rayservice.yaml."""
    docs = list(YAML(typ="safe").load_all((ROOT / "deploy" / "kuberay" / "rayservice.yaml").read_text()))
    service = next(d for d in docs if d and d.get("kind") == "RayService")
    return dict(YAML(typ="safe").load(service["spec"]["serveConfigV2"]))


def _deploy(cluster: Cluster, path: Path, env: dict[str, str], generation: int) -> None:
    """Write the manifest's Serve config with ``env`` (the pods' environment) and deploy it from
    the head host; ``generation`` changes the applications' code version, so a redeploy replaces
    every replica."""
    cfg = manifest_serve_config()
    assert [a["name"] for a in cfg["applications"]] == list(APPS)
    for app in cfg["applications"]:
        app.setdefault("runtime_env", {}).setdefault("env_vars", {}).update(env, DEPLOY_GENERATION=str(generation))
    YAML(typ="safe").dump(cfg, path)
    head = cluster.head
    head.run([str(BIN / "serve"), "run", "--non-blocking", "--address", f"{head.ip}:6379", str(path)],
             env=host_env(head, head.ip), timeout=180)


def _wait(what: str, probe: Any, timeout_s: float = 150) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (answer := probe()):
        assert time.monotonic() < deadline, f"{what} within {timeout_s} s"
        time.sleep(1)
    return answer


async def _polled_order(store_url: str, ip: str, email: str) -> tuple[dict[str, Any], list[Any], Any]:
    """Place a paid order with the shop's webhooks off; wait until its message is done. The
    order, the AX sales orders carrying its reference, and its message."""
    store = Store(store_url)
    try:
        async with Client(ClientConfig(base_url=f"http://{ip}:{SHOP_PORT}", api_key=PS_KEY)) as shop, \
                AxClient(AxConfig(base_url=f"http://{ip}:{AX_PORT}/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                  company="DAT")) as ax, \
                httpx.AsyncClient(base_url=f"http://{ip}:{SHOP_PORT}", auth=(PS_KEY, ""), timeout=10) as control:
            off = await control.put("/_sandbox/webhooks", json={"paused": True})
            assert off.status_code == 200 and off.json()["paused"] is True
            order = await place_order(shop, email)
            assert (await control.get("/_sandbox/webhooks")).json()["delivered"] == 0  # nothing was sent
            key = str(order["id"])
            deadline = time.monotonic() + 120
            while True:
                msgs = [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]
                if msgs and msgs[0].status == "done":
                    break
                assert time.monotonic() < deadline, f"order message not done: {[m.status for m in msgs]}"
                await asyncio.sleep(0.5)
            found = [o for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", order["reference"])])
                     if o.purch_order_form_num == order["reference"]]
            return order, found, msgs
    finally:
        store.close()


@pytest.mark.timeout(600)
def test_the_rayservice_serve_config_runs_the_pollers_and_a_redeploy_keeps_one_dispatcher(cluster: Cluster) -> None:
    head = cluster.head
    env = host_env(head)
    head.spawn([str(BIN / "presta-ax"), "sandbox", "prestashop", "--host", head.ip, "--port", str(SHOP_PORT),
                "--api-key", PS_KEY, "--seed", "3"], "kuberay-shop.log", env=env)
    head.spawn([str(BIN / "presta-ax"), "sandbox", "ax", "--host", head.ip, "--port", str(AX_PORT), "--seed", "7",
                "--items", "20", "--customers", "3", "--open-orders", "0", "--auth", "none"], "kuberay-ax.log", env=env)
    wait_http(f"http://{head.ip}:{SHOP_PORT}/api/", host=head, log="kuberay-shop.log")
    wait_http(f"http://{head.ip}:{AX_PORT}/", host=head, log="kuberay-ax.log")
    store_url = cluster.database()
    shared = cluster.hosts.scratch / "shared-kuberay"
    config = write_config(shared, "kuberay", store_url="", sandbox_ip=head.ip, namespace=NAMESPACE, limits=LIMITS,
                          store={}, systems={
                              "prestashop": {"base_url": f"http://{head.ip}:{SHOP_PORT}", "api_key": PS_KEY},
                              "ax": {"base_url": f"http://{head.ip}:{AX_PORT}/MicrosoftDynamicsAXAif60",
                                     "port_name": "WebShop", "company": "DAT"}})
    # as the manifest: the file from a ConfigMap, the store's URL from the pods' environment
    pod_env = {"PRESTA_AX_CONFIG": str(config), "PRESTA_AX_STORE_URL": store_url}
    serve_config = shared / "serve-config.yaml"

    def state() -> dict[str, Any]:  # one Ray driver in the head host per look
        return run_probe(head, head.ip, "serve-state", NAMESPACE, *APPS)  # type: ignore[no-any-return]

    try:
        _deploy(cluster, serve_config, pod_env, generation=1)
        wait_http(f"http://{head.ip}:{BRIDGE_PORT}/healthz", timeout_s=150, host=head)
        # the dispatcher started by the workers app (a new worker process on a worker host)
        before = _wait("the dispatcher and both apps' replicas", lambda: (
            (now := state())["actors"].get("dispatcher", {}).get("state") == "ALIVE"
            and all(now["replicas"].values()) and now))
        first = before["actors"]["dispatcher"]["actor_id"]
        assert first in before["dispatchers"], before

        with cluster.hosts.client():
            order, found, (message,) = asyncio.run(_polled_order(store_url, head.ip, "rayservice.buyer@example.com"))
        assert message.payload["found_by"] == "poll" and len(found) == 1
        actors = state()["actors"]
        assert actors["entity:order"]["ip"] in {h.ip for h in cluster.workers}, actors
        with cluster.hosts.client():
            store = Store(store_url)
            try:
                assert store.get_xref("order", ps_id=str(order["id"]))["ax_id"] == found[0].sales_id
                lease = store.get_lease(DISPATCHER_LEASE)
                assert lease is not None and lease.holder == holder_for(NAMESPACE)[0]
            finally:
                store.close()

        # redeploy: every replica of both apps is replaced; the dispatcher is found, not doubled
        _deploy(cluster, serve_config, pod_env, generation=2)
        after = _wait("new replicas of both apps", lambda: (now := state()) and all(
            now["replicas"][app] and not set(now["replicas"][app]) & set(before["replicas"][app]) for app in APPS)
            and now)
        wait_http(f"http://{head.ip}:{BRIDGE_PORT}/healthz", timeout_s=150, host=head)
        assert after["actors"]["dispatcher"]["actor_id"] == first
        assert after["dispatchers"] == before["dispatchers"]  # no second set anywhere on the cluster
        with cluster.hosts.client():
            _, found, (message,) = asyncio.run(_polled_order(store_url, head.ip, "rayservice.second@example.com"))
        assert message.payload["found_by"] == "poll" and len(found) == 1
    finally:
        run_probe(head, head.ip, "serve-delete", NAMESPACE, *APPS, timeout=120)
