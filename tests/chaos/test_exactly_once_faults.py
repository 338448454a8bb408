"""Exactly once under faults, on Ray + Serve with both sandboxes over HTTP (issue 9, item 7): AX
answering a timeout after it committed, the entity actor killed between the AX create and the
cross-reference write, AX unreachable for a while, and a shop 503/429 storm on the write-backs.
Every "exactly one AX sales order" is counted from the AX sandbox's own data (a find on
``PurchOrderFormNum``).

The crash test uses the test hook of :mod:`pipelines.operations` (``PRESTA_AX_TEST_CRASH_DIR``):
the variable is set here, at import, so the local Ray started by the session fixture (and every
worker it starts) inherits it; it does nothing until a test drops the file ``after_ax_create``
into that folder, and the hook removes the file as it fires, so it fires for one attempt.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig
from pipelines.operations import CRASH_DIR_ENV
from tests.contract.runtime_operations.support import PS_KEY, place_order
from tests.e2e.exactly_once_support import (
    ax_customers,
    ax_orders,
    exactly_once_sandboxes,
    load_order_results,
    order_messages,
    settled,
    start_bridge,
    systems,
    wait_done,
)
from tests.e2e.support import wait_until

pytestmark = pytest.mark.chaos

CRASH_DIR = os.environ.setdefault(CRASH_DIR_ENV, tempfile.mkdtemp(prefix="presta-ax-crash-"))

#: the AX outage of test_ax_unreachable_...: 60 s with PRESTA_AX_TEST_FULL=1, else 10 s (CI)
OUTAGE_S = 60.0 if os.environ.get("PRESTA_AX_TEST_FULL") == "1" else 10.0


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    with exactly_once_sandboxes(serve_port) as urls:
        yield urls


def _clients(ps_url: str, ax_url: str) -> tuple[Client, AxClient]:
    conf = systems(ps_url, ax_url)
    return Client(ClientConfig(**conf["prestashop"])), AxClient(AxConfig(**conf["ax"]))


# ---------------------------------------------------------------- 3. committed, then timed out

async def test_ax_timing_out_after_it_committed_still_makes_one_customer_and_one_order(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """AX commits the customer create, then the sales order create, and each answer is lost
    (held past the bridge's AX timeout). The retries find what AX committed (the customer by
    account, the order by PurchOrderFormNum): one AX customer, one AX sales order."""
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url, timeout_seconds=1.5,
                                 customer_polls=False)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ax_url, timeout=10) as control:
        faults = await control.post("/_sandbox/faults", json={"commit_then_timeout_next": 2,
                                                               "commit_then_timeout_hold_s": 4.0})
        assert faults.status_code == 200 and faults.json()["commit_then_timeout_next"] == 2
        before = (await control.get("/_sandbox/state")).json()["companies"]["DAT"]
        order = await place_order(shop, "lost.answer@example.com")
        key = str(order["id"])
        await wait_done(store, [key], timeout_s=90)

        (message,) = order_messages(store, key)
        assert message.status == "done"
        # both answers were lost: the customer create's, then the sales order create's
        assert (await control.get("/_sandbox/faults")).json()["commit_then_timeout_next"] == 0
        failures = [e["detail"] for e in store.timeline(message.id) if e["kind"] == "attempt_failed"]
        assert len(failures) == 2 and all(f["code"] == "network" for f in failures), failures
        assert message.attempts == 3
        (found,) = await ax_orders(ax, order["reference"])
        assert load_order_results(store, message.id) == {"SalesId": found.sales_id, "existed": True,
                                                          "PurchOrderFormNum": order["reference"]}
        assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id
        account = store.get_xref("customer", ps_id=str(order["id_customer"]))["ax_id"]
        assert len(await ax_customers(ax, account)) == 1
        after = (await control.get("/_sandbox/state")).json()["companies"]["DAT"]
        assert after["sales_orders"] == before["sales_orders"] + 1
        assert after["customers"] == before["customers"] + 1
        assert (await shop.get("orders", int(key)))["current_state"] == "3"  # the write-back
    store.close()


# ---------------------------------------------------------------- 4. crash between create and xref

async def test_a_crash_between_the_ax_create_and_the_xref_write_makes_one_ax_order(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """The order actor's process ends (``os._exit``, the test hook) right after AX created the
    sales order, before the cross-reference is written. Ray restarts the actor, the lease
    expires, the dispatcher hands the message out again, and the retry finds the AX order."""
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url)
    trigger = Path(CRASH_DIR) / "after_ax_create"
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax:
        trigger.touch()
        try:
            order = await place_order(shop, "crash.between@example.com")
            key = str(order["id"])
            await wait_done(store, [key], timeout_s=90)
            assert not trigger.exists()  # the hook fired (and removed its file first)
        finally:
            trigger.unlink(missing_ok=True)

        (message,) = order_messages(store, key)
        assert message.status == "done" and message.attempts == 2  # the first attempt died with its process
        started = [e for e in store.timeline(message.id) if e["kind"] == "attempt_started"]
        assert len(started) == 2
        (found,) = await ax_orders(ax, order["reference"])
        assert load_order_results(store, message.id)["existed"] is True
        assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id
    store.close()


# ---------------------------------------------------------------- 7. AX unreachable

async def test_ax_unreachable_for_a_while_orders_wait_and_all_complete_none_dead(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """AX's application pool is stopped (IIS answers 503 to everything) for ``OUTAGE_S``: 60 s
    when ``PRESTA_AX_TEST_FULL=1`` asks for the full run, 10 s otherwise (CI). Orders placed
    meanwhile wait, retrying with the real backoff; after AX returns all complete, none dead.

    The retry settings are the production defaults (base 1 s, cap 300 s, 8 attempts) scaled by
    ``OUTAGE_S / 60``, so a 10 s outage tests what a 60 s one does with the real settings."""
    ps_url, ax_url = sandboxes
    scale = OUTAGE_S / 60.0
    limits = {"lease_s": 3, "dispatch_interval_s": 0.3,
              "retry": {"base_s": 1.0 * scale, "cap_s": 300.0 * scale, "max_attempts": 8}}
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url, limits=limits)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ax_url, timeout=10) as control:
        assert (await control.post("/_sandbox/faults", json={"outage": True})).json()["outage"] is True
        loop = asyncio.get_running_loop()
        back_at = loop.time() + OUTAGE_S
        orders = [await place_order(shop, f"outage.buyer{n}@example.com") for n in range(4)]
        keys = [str(o["id"]) for o in orders]

        async def all_tried() -> bool:  # every order met the outage at least once
            return all(any(m.attempts >= 1 for m in order_messages(store, k)) for k in keys)
        await wait_until(all_tried, timeout_s=30)
        await asyncio.sleep(max(0.0, back_at - loop.time()))
        assert (await control.post("/_sandbox/faults", json={"outage": False})).json()["outage"] is False

        await wait_done(store, keys, timeout_s=OUTAGE_S * 6 + 60)
        for order, key in zip(orders, keys, strict=True):
            (message,) = order_messages(store, key)
            assert message.status == "done", message.last_error
            timeline = store.timeline(message.id)
            failures = [e["detail"] for e in timeline if e["kind"] == "attempt_failed"]
            # each order met the outage: a failed call, or the open AX circuit breaker (other
            # flows' failures may have opened it first) putting it back to wait
            deferrals = [e["detail"] for e in timeline if e["kind"] == "deferred"]
            assert failures or deferrals
            assert all(f["type"] == "TransientError" for f in failures)
            assert all(d["code"] == "circuit_open" and d["system"] == "ax" for d in deferrals)
            # a deferral used no attempt (an attempt whose lease expired under load counts once)
            lost = [e for e in timeline if e["kind"] == "lease_expired"]
            assert message.attempts == len(failures) + len(lost) + 1
            (found,) = await ax_orders(ax, order["reference"])
            assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()


# ---------------------------------------------------------------- 8. shop 503/429 storm

async def test_a_shop_503_and_429_storm_on_write_backs_honours_retry_after(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """The shop answers the bridge's write-backs (``POST order_histories``) with 503, then 429,
    each with ``Retry-After: 2``. From the shop sandbox's request log: no write came again
    before the Retry-After of its refusal had passed; every order reaches its state once."""
    ps_url, ax_url = sandboxes
    # the cap is above the shop's Retry-After: the policy then waits exactly what the shop asks
    limits = {"lease_s": 3, "dispatch_interval_s": 0.3, "retry": {"base_s": 0.05, "cap_s": 5.0, "max_attempts": 10}}
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url, limits=limits)
    n = 3
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control:
        storm = {"unavailable_next": n, "throttled_next": n, "retry_after_s": 2,
                 "only_methods": ["POST", "PUT", "PATCH"], "only_resources": ["order_histories"]}
        r = await control.put("/_sandbox/faults", json=storm)
        assert r.status_code == 200, r.text
        assert (await control.delete("/_sandbox/requests")).json() == {"requests": []}
        orders = [await place_order(shop, f"storm.buyer{i}@example.com") for i in range(n)]
        keys = [str(o["id"]) for o in orders]
        await wait_done(store, keys, timeout_s=90)
        await settled(store)
        log = (await control.get("/_sandbox/requests")).json()["requests"]
        faults = (await control.get("/_sandbox/faults")).json()
        for order in orders:
            (found,) = await ax_orders(ax, order["reference"])
            assert store.get_xref("order", ps_id=str(order["id"]))["ax_id"] == found.sales_id

    assert faults["unavailable_next"] == 0 and faults["throttled_next"] == 0  # the whole storm happened
    writes = [e for e in log if e["resource"] == "order_histories" and e["method"] == "POST"]
    refused = [e for e in writes if e["status"] is not None]
    assert sorted(e["status"] for e in refused) == [429] * n + [503] * n
    retried = 0
    for e in refused:
        later = [w for w in writes if w["body_sha1"] == e["body_sha1"] and w["t"] > e["t"]]
        assert later, f"a refused write-back was never sent again: {e}"
        gap = later[0]["t"] - e["t"]
        assert gap >= float(e["retry_after"]), f"retried after {gap:.3f} s, Retry-After was {e['retry_after']}"
        retried += 1
    assert retried == 2 * n
    for key in keys:
        (message,) = order_messages(store, key)
        assert message.status == "done"
    served = [w for w in writes if w["status"] is None]
    assert len(served) == n and len({w["body_sha1"] for w in served}) == n  # one state change per order
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()
