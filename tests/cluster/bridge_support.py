"""The bridge on the harness' cluster: sandboxes in the head host, reachable by its IP, a
configuration file per command, ``presta-ax serve --address auto`` in the head host.

* :func:`start_sandboxes` runs, in ``host``: the order shop (port 8081, seed 3), the bulk shop
  (port 8083, empty, writes slowed by ``write_latency_ms``) and AX (port 8082, ``items`` items);
* :func:`write_config` writes an ``integration.yaml`` (PostgreSQL store by IP, systems by IP,
  placement: ingress on the head, actors and bulk tasks on the workers) into a folder every host
  sees at the same path (the cluster's "shared file system": flows and data folder);
* :func:`start_bridge` spawns ``presta-ax serve`` in the head host and waits for ``/healthz``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
from ruamel.yaml import YAML

from runtime.demo import write_sandbox_flows
from tests.cluster.hosts import Host, in_netns
from tests.cluster.ray_nodes import BIN, HEAD_RESOURCE, WORKER_RESOURCE, host_env
from tests.contract.runtime_operations.support import PS_KEY
from tests.e2e.support import SECRET, TOKEN

__all__ = ["ORDER_SHOP", "BULK_SHOP", "AX_PORT", "BRIDGE_PORT", "start_sandboxes", "write_config", "start_bridge",
           "wait_http"]

ORDER_SHOP, AX_PORT, BULK_SHOP, BRIDGE_PORT = 8081, 8082, 8083, 8000


def wait_http(url: str, timeout_s: float = 90, host: Host | None = None, log: str = "",
              switch: str | None = None) -> None:
    """Wait until ``url`` answers below 500, asking as a client on the switch (``switch``, by
    default ``host.switch``)."""
    ns = switch or (host.switch if host else "")
    if not ns:
        raise ValueError("wait_http: a host or a switch namespace is needed to reach the hosts")
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with in_netns(ns):
                if httpx.get(url, timeout=2).status_code < 500:
                    return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"{url} did not answer within {timeout_s} s\n" + (host.log(log) if host else ""))
        time.sleep(0.5)


def start_sandboxes(host: Host, items: int, write_latency_ms: float = 150) -> None:
    cli = str(BIN / "presta-ax")
    env = host_env(host)
    host.spawn([cli, "sandbox", "prestashop", "--host", host.ip, "--port", str(ORDER_SHOP), "--api-key", PS_KEY,
                "--seed", "3"], "shop-orders.log", env=env)
    host.spawn([cli, "sandbox", "prestashop", "--host", host.ip, "--port", str(BULK_SHOP), "--api-key", PS_KEY,
                "--seed", "0", "--write-latency-ms", str(write_latency_ms)], "shop-bulk.log", env=env)
    host.spawn([cli, "sandbox", "ax", "--host", host.ip, "--port", str(AX_PORT), "--seed", "7", "--items", str(items),
                "--customers", "3", "--open-orders", "0", "--workers", "4", "--auth", "none"], "ax.log", env=env)
    wait_http(f"http://{host.ip}:{ORDER_SHOP}/api/", host=host, log="shop-orders.log")
    wait_http(f"http://{host.ip}:{BULK_SHOP}/api/", host=host, log="shop-bulk.log")
    wait_http(f"http://{host.ip}:{AX_PORT}/", host=host, log="ax.log")


def write_config(shared: Path, name: str, *, store_url: str, sandbox_ip: str, shop_port: int = ORDER_SHOP,
                 namespace: str = "pax-cluster", **overrides: Any) -> Path:
    """``shared/<name>.yaml``; ``overrides`` replace top-level keys."""
    flows = write_sandbox_flows(shared / "user")
    raw: dict[str, Any] = {
        "data_dir": str(shared / "data"),
        "namespace": namespace,
        "store": {"url": store_url},
        "server": {"host": "0.0.0.0", "port": BRIDGE_PORT, "webhook_secrets": [SECRET], "admin_token": TOKEN},
        "systems": {
            "prestashop": {"base_url": f"http://{sandbox_ip}:{shop_port}", "api_key": PS_KEY},
            "ax": {"base_url": f"http://{sandbox_ip}:{AX_PORT}/MicrosoftDynamicsAXAif60", "port_name": "WebShop",
                   "company": "DAT"},
        },
        "flow_dirs": [str(flows)],
        "placement": {"ingress_resource": HEAD_RESOURCE, "actor_resource": WORKER_RESOURCE,
                      "bulk_resource": WORKER_RESOURCE},
        "limits": {"lease_s": 5, "dispatch_interval_s": 0.5, "retry": {"base_s": 0.2, "cap_s": 2, "max_attempts": 8}},
    }
    raw.update(overrides)
    path = shared / f"{name}.yaml"
    shared.mkdir(parents=True, exist_ok=True)
    YAML(typ="safe").dump(raw, path)
    return path


def start_bridge(head: Host, config: Path, log: str = "bridge.log") -> str:
    """Spawn ``presta-ax serve --address auto`` in ``head``; its base URL (head IP) once healthy."""
    head.spawn([str(BIN / "presta-ax"), "serve", "--config", str(config), "--address", "auto"], log,
               env=host_env(head, head.ip))
    url = f"http://{head.ip}:{BRIDGE_PORT}"
    wait_http(url + "/healthz", timeout_s=150, host=head, log=log)
    return url
