"""The whole order-to-cash cycle at volume, on Ray + Serve with both sandboxes over HTTP: 100
shop orders become one AX sales order each, AX picks, packs and invoices them (stepped through
the AX sandbox's control endpoint, not its timers), and each shop order ends Shipped with its
tracking number and the AX invoice recorded. Every order's trace, read back from the JSON-lines
span exporter, runs from the webhook through the AX create and the shop write-back to the packing
slip and the tracking number, and no exported span names a parent that was never exported."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.prestashop import Client, ClientConfig
from runtime.server import stop_dispatcher
from runtime.store import Store
from tests.contract.runtime_operations.support import (
    AX_ITEM,
    PS_KEY,
    place_order,
    sandbox_flow_dir,
    shop_product,
)
from tests.e2e.support import wait_until
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture

pytestmark = pytest.mark.e2e

ORDERS = 100
# no global poll cap: only the fulfilment flow's AX polls are made faster (see _flows)
LIMITS = {"lease_s": 5, "dispatch_interval_s": 0.3, "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 8}}


def _flows(root: Path) -> Path:
    """The demo's sandbox flows, with the fulfilment flow's AX polls every second (not 2-5 min),
    and without the order flow's shop poll: this test is about the webhook path, whose trace
    starts at the webhook. With the safety net on, a poll that runs while the orders are being
    placed may journal an order before its webhook arrives (the shop sends webhooks one at a
    time), and that order's trace then starts at the poll (tests/e2e/test_ps_poller_safety_net.py)."""
    from pipelines.registry import DEFAULT_FLOWS_DIR

    flows = sandbox_flow_dir(root)
    order_flow = flows / "ps_order_to_ax.yaml"
    poll = "  - {type: poll, source: prestashop, resource: orders, every: 1m}\n"
    assert poll in order_flow.read_text(encoding="utf-8")
    order_flow.write_text(order_flow.read_text(encoding="utf-8").replace(poll, ""), encoding="utf-8")
    text = (DEFAULT_FLOWS_DIR / "ax_fulfilment_to_ps.yaml").read_text(encoding="utf-8")
    (flows / "ax_fulfilment_to_ps.yaml").write_text(text.replace("every: 2m", "every: 1s")
                                                    .replace("every: 5m", "every: 1s"), encoding="utf-8")
    return flows


def _spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _ancestors(span: dict[str, Any], by_id: dict[str, dict[str, Any]]) -> list[str]:
    names, node = [], span
    while node.get("parent_id") in by_id:
        node = by_id[node["parent_id"]]
        names.append(node["name"])
    return names


async def test_100_orders_through_to_invoiced_and_shipped_each_in_one_trace(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    spans_file = tmp_path / "spans.jsonl"
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(_flows(tmp_path))],
                            tracing={"exporter": "jsonl", "endpoint": str(spans_file)})
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax, \
            httpx.AsyncClient(base_url=ax_url, timeout=30) as control:
        # AX must be able to pick every order: book the stock in first
        (await control.post("/_sandbox/stock", json={"item_id": AX_ITEM, "warehouse": "11",
                                                     "qty": 2 * ORDERS})).raise_for_status()
        await shop_product(shop)  # created once, before the concurrent orders look it up
        sem = asyncio.Semaphore(8)

        async def place(n: int) -> dict[str, Any]:
            async with sem:
                return await place_order(shop, f"volume.{n}@example.com", quantity=1)
        orders = await asyncio.gather(*(place(n) for n in range(ORDERS)))
        ids = {str(o["id"]) for o in orders}
        assert len(ids) == ORDERS

        def sales_ids() -> dict[str, str]:
            return {x["ps_id"]: x["ax_id"] for x in store.list_xrefs("order", limit=10 * ORDERS) if x["ps_id"] in ids}

        async def all_in_ax() -> bool:
            return len(sales_ids()) == ORDERS
        await wait_until(all_in_ax, timeout_s=90, interval_s=1.0)
        by_order = sales_ids()
        assert len(set(by_order.values())) == ORDERS

        # exactly one AX sales order per shop order, by AX's own data
        async def ax_orders(reference: str) -> list[str]:
            found = await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
            return [o.sales_id for o in found if o.purch_order_form_num == reference]
        found = await asyncio.gather(*(ax_orders(o["reference"]) for o in orders))
        assert [f == [by_order[str(o["id"])]] for o, f in zip(orders, found, strict=True)] == [True] * ORDERS

        # AX picks, packs and invoices every open order, one stage per call
        for stage in ("pick", "pack", "invoice"):
            r = await control.post("/_sandbox/fulfilment/step", json={})
            advanced = {a["sales_id"]: a["stage"] for a in r.json()["advanced"]}
            assert {advanced.get(s) for s in by_order.values()} == {stage}

        async def fulfilled() -> dict[str, tuple[str, bool, bool]]:
            """shop order id -> (state, has a tracking number, has the AX invoice noted)"""
            states = {str(o["id"]): str(o["current_state"])
                      for o in await shop.list("orders", display=["id", "current_state"])}
            tracked = {str(c["id_order"]) for c in await shop.list("order_carriers", display="full")
                       if c.get("tracking_number")}
            noted = {str(i["id_order"]) for i in await shop.list("order_invoices", display="full")
                     if str(i.get("note") or "").startswith("AX invoice ")}
            return {oid: (states.get(oid, ""), oid in tracked, oid in noted) for oid in ids}

        async def all_fulfilled() -> bool:
            return all(v == ("4", True, True) for v in (await fulfilled()).values())
        await wait_until(all_fulfilled, timeout_s=90, interval_s=1.0)

        async def settled() -> bool:
            counts = store.counts()
            return not any(counts.get(e, {}).get(s) for e in ("order", "shipment") for s in ("new", "processing", "retry"))
        await wait_until(settled, timeout_s=30)
        assert not any(c.get("dead") for c in store.counts().values())

    # the pollers stop (their open spans end and are exported) before the file is read
    stop_dispatcher(bridge)
    spans = _spans(spans_file)
    by_id = {s["span_id"]: s for s in spans}
    orphans = [s["name"] for s in spans if s["parent_id"] is not None and s["parent_id"] not in by_id]
    assert orphans == []

    by_trace: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for s in spans:
        by_trace[s["trace_id"]].append(s)
    incomplete = []
    for oid, sales_id in sorted(by_order.items()):
        (created,) = [m for m in store.list_messages(entity="order", key=oid) if m.event == "order.created"]
        mine = by_trace[created.traceparent.split("-")[1]]

        def under(process: str, op: str, mine: list[dict[str, Any]] = mine) -> list[dict[str, Any]]:
            return [s for s in mine if s["attributes"].get("flow.operation") == op
                    and process in _ancestors(s, by_id)]
        seen = {
            "webhook": any(s["name"] == "webhook ingest" for s in mine),
            "ax create": any(s["attributes"].get("ax.sales_id") == sales_id
                             for s in under("process order order.created", "SalesOrderService.create")),
            "write-back": bool(under("process order order.created", "order_histories.create")),
            "packing slip": any(s["attributes"].get("ax.sales_id") == sales_id
                                for s in under("process shipment packing_slip.posted", "fulfilment.read")),
            "tracking": bool(under("process shipment packing_slip.posted", "order_carriers.update")),
            "invoice": bool(under("process shipment invoice.posted", "order_invoices.record")),
        }
        if not all(seen.values()):
            incomplete.append((oid, [k for k, v in seen.items() if not v]))
    assert incomplete == []
    store.close()
