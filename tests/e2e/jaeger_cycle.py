"""Helpers of the Jaeger trace tests: one shop order through the whole cycle on Ray + Serve + both
sandboxes, and reading its trace back from a real Jaeger's query API.

:func:`run_cycle` places an order (a shopper with distinctive personal data, so a leak into a span
is found), lets the shop's webhook bring it in, waits for the AX sales order and the write-back,
then has AX pick, pack, invoice and settle it, and waits for the fulfilment messages. A fault
injected by the caller before the order (``shop_faults``) makes the write-back fail once, so the
order's message is retried; ``between_attempts`` runs while that retry waits (the restart test
kills the entity actor there).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig
from runtime.demo import DEMO_PRICE, sample_cart
from runtime.store import Store
from runtime.trace_view import Span, spans_of
from tests.contract.runtime_operations.support import PS_KEY
from tests.e2e.support import SECRET, TOKEN, wait_until

#: the shopper: every value must stay out of the trace
PERSON = {"firstname": "Quintessa", "lastname": "Zyborowski", "street": "77 rue Xylophonique"}
SECRETS = (PS_KEY, SECRET, TOKEN, "buyer-pass-1")


@dataclass
class Cycle:
    order: dict[str, Any]
    email: str
    sales_id: str
    trace_id: str
    messages: list[Any]  # the order's cycle: order.created and the fulfilment messages
    started_us: int  # when the test placed the order (Jaeger searches from there: the sandboxes of
    # every test are seeded alike, so an earlier test's order has the same numbers)


async def place_distinct_order(shop: Any, email: str) -> dict[str, Any]:
    """A paid order like the demo's, by a shopper whose names and street are in :data:`PERSON`."""
    customer, address, cart = await sample_cart(shop, email, 1, lastname=PERSON["lastname"],
                                                firstname=PERSON["firstname"], street=PERSON["street"])
    total = (DEMO_PRICE * Decimal("1.2")).quantize(Decimal("0.01"))
    return dict(await shop.create("orders", {
        "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1, "id_lang": 1,
        "id_customer": customer["id"], "id_carrier": 1, "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "total_paid": str(total), "total_paid_real": "0",
        "total_products": str(DEMO_PRICE), "total_products_wt": str(total), "conversion_rate": 1}))


def _order_created(store: Store, key: str) -> Any | None:
    found = [m for m in store.list_messages(entity="order", key=key) if m.event == "order.created"]
    return found[0] if found else None


async def run_cycle(store: Store, ps_url: str, ax_url: str, *, shop_faults: dict[str, Any],
                    between_attempts: Callable[[Any], Awaitable[None]] | None = None) -> Cycle:
    email = f"trace.{uuid.uuid4().hex[:8]}@example.com"
    started_us = int(time.time() * 1e6)
    async with Client(ClientConfig(base_url=ps_url, api_key=PS_KEY)) as shop, \
            httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as shop_control, \
            httpx.AsyncClient(base_url=ax_url, timeout=10) as ax_control:
        assert (await shop_control.put("/_sandbox/faults", json=shop_faults)).status_code == 200
        order = await place_distinct_order(shop, email)
        key = str(order["id"])

        if between_attempts is not None:
            async def waiting_retry() -> bool:
                m = _order_created(store, key)
                return m is not None and m.status == "retry"
            await wait_until(waiting_retry, timeout_s=45)
            await between_attempts(_order_created(store, key))

        async def order_done() -> bool:
            m = _order_created(store, key)
            return m is not None and m.status == "done" and store.get_xref("order", ps_id=key) is not None
        await wait_until(order_done, timeout_s=60)
        sales_id = store.get_xref("order", ps_id=key)["ax_id"]
        for stage in ("pick", "pack", "invoice"):
            r = await ax_control.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})
            assert r.json()["advanced"] == [{"sales_id": sales_id, "stage": stage}]

        def shipment_messages() -> list[Any]:
            return [m for m in store.list_messages(entity="shipment", limit=1000)
                    if m.payload.get("SalesId") == sales_id or m.event == "invoice.settled"]

        async def posted() -> bool:
            done = {m.event for m in shipment_messages() if m.status == "done"}
            return {"packing_slip.posted", "invoice.posted"} <= done
        await wait_until(posted, timeout_s=45)
        async with AxClient(AxConfig(base_url=ax_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                     company="DAT")) as ax:
            (invoice,) = await ax.read_invoices(sales_id)
        r = await ax_control.post("/_sandbox/payments", json={"invoice_id": invoice.invoice_id})
        assert r.status_code == 200, r.text

        def settlement() -> Any | None:
            return next((m for m in shipment_messages() if m.event == "invoice.settled"
                         and m.payload.get("Invoice") == invoice.invoice_id), None)

        async def settled() -> bool:
            m = settlement()
            return m is not None and m.status == "done"
        await wait_until(settled, timeout_s=45)
        created = _order_created(store, key)
        assert created is not None and created.traceparent
        trace_id = created.traceparent.split("-")[1]
        cycle = [created, *(m for m in shipment_messages() if m.payload.get("SalesId") == sales_id), settlement()]
        return Cycle(order, email, sales_id, trace_id, cycle, started_us)


def parents_missing(spans: list[Span]) -> list[str]:
    ids = {s.span_id for s in spans}
    return [f"{s.name} -> {s.parent_id}" for s in spans if s.parent_id and s.parent_id not in ids]


async def read_trace(query_url: str, trace_id: str, complete: Callable[[list[Span]], bool],
                     timeout_s: float = 45) -> list[Span]:
    """The trace's spans once ``complete(spans)`` holds (spans of many processes arrive at their
    own pace: each process batches its exports)."""
    latest: list[Span] = []
    async with httpx.AsyncClient(base_url=query_url, timeout=10) as http:
        async def ready() -> bool:
            nonlocal latest
            r = await http.get(f"/api/traces/{trace_id}")
            if r.status_code != 200:
                return False
            data = r.json().get("data") or []
            latest = spans_of(data[0]) if data else []
            return bool(latest) and complete(latest)
        try:
            await wait_until(ready, timeout_s=timeout_s, interval_s=0.5)
        except AssertionError:
            raise AssertionError(f"the trace never became complete: {sorted({s.name for s in latest})}, "
                                 f"parents missing: {parents_missing(latest)}") from None
    return latest


async def search(query_url: str, tags: dict[str, str], start_us: int) -> list[dict[str, Any]]:
    """Traces with a span carrying ``tags``, started from ``start_us`` on (Jaeger's ``start``)."""
    async with httpx.AsyncClient(base_url=query_url, timeout=10) as http:
        r = await http.get("/api/traces", params={"service": "presta-ax-bridge", "tags": json.dumps(tags),
                                                  "start": str(start_us), "end": str(int(time.time() * 1e6)),
                                                  "limit": "50"})
        r.raise_for_status()
        return list(r.json().get("data") or [])


def every_string(trace: dict[str, Any]) -> list[str]:
    """Every tag value, log field and process tag of a Jaeger trace document, as text."""
    out: list[str] = []
    for s in trace.get("spans") or []:
        out.append(s.get("operationName", ""))
        out += [str(t.get("value")) for t in s.get("tags") or []]
        out += [str(f.get("value")) for log in s.get("logs") or [] for f in log.get("fields") or []]
    for p in (trace.get("processes") or {}).values():
        out += [str(t.get("value")) for t in p.get("tags") or []]
    return out


async def raw_trace(query_url: str, trace_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=query_url, timeout=10) as http:
        r = await http.get(f"/api/traces/{trace_id}")
        r.raise_for_status()
        return dict(r.json()["data"][0])


def ray_metrics_url() -> str:
    """This Ray node's Prometheus endpoint (where ``ray.util.metrics`` of every process end up)."""
    import ray

    node = ray._private.worker.global_worker.node
    return f"http://{node.node_ip_address}:{node.metrics_export_port}/metrics"


async def scrape_until(url: str, ready: Callable[[dict[tuple[str, tuple[tuple[str, str], ...]], float]], bool],
                       timeout_s: float = 45) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Scrape ``url`` and parse it with the Prometheus client's parser until ``ready(samples)``;
    samples are summed over the labels Ray adds per process (WorkerId and the like), keyed by
    ``(name, sorted application labels)``. Ray's agents report every few seconds."""
    from prometheus_client.parser import text_string_to_metric_families

    ray_labels = {"Component", "NodeAddress", "SessionName", "Version", "WorkerId", "JobId", "instance",
                  "otel_scope_name", "otel_scope_schema_url", "otel_scope_version"}
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    async with httpx.AsyncClient(timeout=10) as http:
        async def scraped() -> bool:
            nonlocal samples
            text = (await http.get(url)).text
            samples = {}
            for family in text_string_to_metric_families(text):
                for s in family.samples:
                    if not s.name.startswith("ray_presta_ax_"):
                        continue
                    labels = tuple(sorted((k, v) for k, v in s.labels.items() if k not in ray_labels))
                    samples[(s.name, labels)] = samples.get((s.name, labels), 0.0) + s.value
            return ready(samples)
        try:
            await wait_until(scraped, timeout_s=timeout_s, interval_s=1.0)
        except AssertionError:
            raise AssertionError(f"metrics never complete: {sorted(samples)}") from None
    return samples
