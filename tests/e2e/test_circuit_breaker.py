"""The AX circuit breaker on Ray + Serve with both sandboxes over HTTP (issue 14, "Circuit breakers").

AX's IIS answers 503 to every SOAP call (the sandbox's ``error_rate: 1``, counted in its own
``calls``) while orders arrive. The breaker must open (health, alert), AX must then get no more
than a bounded number of calls (one probe per cool-down plus the calls already on their way when
it opened: counted by the AX sandbox itself), the ``presta_ax_circuit_open`` gauge must show it on
Ray's Prometheus endpoint, nothing may go dead, and the attempts refused by
the breaker must not be counted; when AX answers again a probe closes the breaker and every order
lands exactly once in AX (counted from AX's own data).

Only the order flow is deployed (no AX poll triggers), so every AX call the sandbox counts comes
from the order path that the breaker guards.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig
from tests.contract.runtime_operations.support import place_order, sandbox_flow_dir
from tests.e2e.exactly_once_support import (
    ax_orders,
    exactly_once_sandboxes,
    order_messages,
    systems,
    wait_done,
)
from tests.e2e.jaeger_cycle import ray_metrics_url, scrape_until
from tests.e2e.support import TOKEN, wait_until

pytestmark = pytest.mark.e2e

COOLDOWN_S = 3.0
THRESHOLD = 3
ORDERS = 5
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    with exactly_once_sandboxes(serve_port) as urls:
        yield urls


def _order_flow_only(tmp_path: Path) -> Path:
    flows = sandbox_flow_dir(tmp_path)
    kept = [p for p in flows.glob("*.yaml") if p.name == "ps_order_to_ax.yaml"]
    assert kept, "the sandbox flows have no ps_order_to_ax.yaml"
    for path in flows.glob("*.yaml"):
        if path not in kept:
            path.unlink()
    return flows


async def _ax_calls(control: httpx.AsyncClient) -> int:
    return int((await control.get("/_sandbox/state")).json()["calls"])


async def test_ax_breaker_opens_stops_calls_keeps_orders_waiting_and_a_probe_closes_it(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    metrics_url = ray_metrics_url()
    gauge = ("ray_presta_ax_circuit_open", (("system", "ax"),))
    # two attempts only: an attempt burnt while the breaker refused would show in `attempts`
    limits = {"lease_s": 3, "dispatch_interval_s": 0.3, "retry": {"base_s": 0.2, "cap_s": 1.0, "max_attempts": 2}}
    bridge = bridge_factory(systems=systems(ps_url, ax_url), flows=[], limits=limits,
                            flow_dirs=[str(_order_flow_only(tmp_path))],
                            breakers={"failure_threshold": THRESHOLD, "cooldown_s": COOLDOWN_S, "spread_s": 0.5})
    from runtime.store import Store

    store = Store(bridge.settings.store_url())
    conf = systems(ps_url, ax_url)
    shop, ax = Client(ClientConfig(**conf["prestashop"])), AxClient(AxConfig(**conf["ax"]))
    async with shop, ax, httpx.AsyncClient(base_url=ax_url, timeout=10) as control, \
            httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as admin:

        async def breaker() -> dict[str, Any]:
            return dict((await admin.get("/api/v1/health")).json()["breakers"]["ax"])

        # AX up: one order goes through, the breaker stays closed
        first = await place_order(shop, "breaker.first@example.com")
        await wait_done(store, [str(first["id"])], timeout_s=60)
        assert (await breaker())["state"] == "closed"

        # AX down (IIS 503 to every call, each counted by the sandbox)
        assert (await control.post("/_sandbox/faults", json={"error_rate": 1.0})).json()["error_rate"] == 1.0
        orders = [await place_order(shop, f"breaker.buyer{n}@example.com") for n in range(ORDERS)]
        keys = [str(o["id"]) for o in orders]

        async def is_open() -> bool:
            return (await breaker())["state"] in ("open", "half_open")
        await wait_until(is_open, timeout_s=30, interval_s=0.1)
        opened = await breaker()
        assert opened["failures"] >= THRESHOLD and opened["opened_at"] and opened["next_probe_at"]
        assert opened["last_failure"] == {"type": "TransientError", "code": "unavailable"}
        calls_at_open = await _ax_calls(control)
        window_start = asyncio.get_running_loop().time()

        # the gauge of Ray's Prometheus endpoint (the breaker actor sets it; Ray reports every few s)
        await scrape_until(metrics_url, lambda samples: samples.get(gauge, 0.0) >= 1.0)
        # the outage lasts at least three cool-downs
        await asyncio.sleep(max(0.0, window_start + 3 * COOLDOWN_S - asyncio.get_running_loop().time()))
        window = asyncio.get_running_loop().time() - window_start
        during = await _ax_calls(control) - calls_at_open
        # one probe per cool-down (each probe: one SOAP call, refused at once), plus at most one
        # call per order that was already past the breaker when it opened
        bound = math.ceil(window / COOLDOWN_S) + 1 + ORDERS
        assert during <= bound, f"AX got {during} calls during {window:.1f} s of an open breaker (bound {bound})"
        for key in keys:
            (message,) = order_messages(store, key)
            assert message.status in ("new", "retry", "processing"), (message.status, message.last_error)
        deferred = [e for key in keys for e in store.timeline(order_messages(store, key)[0].id)
                    if e["kind"] == "deferred"]
        assert deferred and all(e["detail"]["code"] == "circuit_open" for e in deferred)
        alerts = [a for a in store.list_alerts() if a["source"] == "ax"]
        assert any(a["severity"] == "error" and "opened" in a["message"] for a in alerts), alerts

        # AX back: a probe closes the breaker, every order lands once
        assert (await control.post("/_sandbox/faults", json={"error_rate": 0.0})).json()["error_rate"] == 0.0

        async def is_closed() -> bool:
            return (await breaker())["state"] == "closed"
        await wait_until(is_closed, timeout_s=30, interval_s=0.2)
        await wait_done(store, keys, timeout_s=90)
        await scrape_until(metrics_url, lambda samples: samples.get(gauge) == 0.0)
        closed = await breaker()
        assert closed["failures"] == 0 and closed["opens"] >= 1 and closed["next_probe_at"] is None
        assert any(a["severity"] == "info" and "closed" in a["message"]
                   for a in store.list_alerts() if a["source"] == "ax")

        for order, key in zip(orders, keys, strict=True):
            (message,) = order_messages(store, key)
            assert message.status == "done", message.last_error
            timeline = store.timeline(message.id)
            failed = [e for e in timeline if e["kind"] == "attempt_failed"]
            lost = [e for e in timeline if e["kind"] == "lease_expired"]  # a claim that expired under load
            # refused attempts were given back: only real calls to AX count
            assert message.attempts == len(failed) + len(lost) + 1, timeline
            (found,) = await ax_orders(ax, order["reference"])
            assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()
