"""The way back without Ray: the AX poller against the AX sandbox with stepped fulfilment
(cursor, overlap, paging, full resync), and the fulfilment flow writing tracking number, order
state and payment into the shop, once."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import F
from runtime.messages import Message
from runtime.pollers import AxPoller, PollRoute, cursor_name, poll_routes
from runtime.store import AsyncStore
from runtime.tracing import setup_tracing
from runtime.yaml_flows import YamlFlow
from tests.contract.runtime_operations.support import place_order
from tests.contract.runtime_operations.test_system_operations import Ctx, order_message

pytestmark = pytest.mark.contract

SLIPS = PollRoute("ax_fulfilment_to_ps", "shipment", "SalesPackingSlipService")
INVOICES = PollRoute("ax_fulfilment_to_ps", "shipment", "SalesInvoiceService")


@pytest.fixture
def fulfil_url() -> Iterator[str]:
    """An AX sandbox of its own: these tests move its clock and fulfil all its open orders."""
    with run_ax(AxSandboxConfig(seed=8, items=5, customers=4, open_orders=3)) as url:
        yield url


@pytest.fixture
async def fulfil_ax(fulfil_url: str) -> AsyncIterator[AxClient]:
    async with AxClient(AxConfig(base_url=fulfil_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                 company="DAT")) as client:
        yield client


async def step(url: str, sales_id: str | None = None) -> list[dict[str, str]]:
    """One fulfilment stage (pick, pack, invoice) for every open order or one."""
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id} if sales_id else {})
        response.raise_for_status()
        return response.json()["advanced"]  # type: ignore[no-any-return]


async def journaled(store: AsyncStore, event: str) -> list[Message]:
    return [m for m in await store.list_messages(entity="shipment", limit=1000) if m.event == event]


async def test_poll_routes_come_from_the_flows_poll_triggers(flows: Any) -> None:
    routes = poll_routes(flows.flows())
    assert SLIPS in routes and INVOICES in routes
    assert {r.event for r in routes if r.flow == "ax_fulfilment_to_ps"} == {"packing_slip.posted", "invoice.posted"}


async def test_the_poller_journals_each_posted_document_once_across_pages_and_overlap(
        fulfil_url: str, fulfil_ax: AxClient, store: AsyncStore) -> None:
    spans = InMemorySpanExporter()
    setup_tracing(None, processors=[SimpleSpanProcessor(spans)])
    poller = AxPoller(store, fulfil_ax, [SLIPS, INVOICES], overlap_s=600, page_size=1)
    assert await poller.poll() == {"SalesPackingSlipService": 0, "SalesInvoiceService": 0}
    first = (await store.get_cursor(cursor_name("SalesPackingSlipService")))["since"]

    picked = await step(fulfil_url)
    packed = await step(fulfil_url)
    assert len(packed) >= 2 and {s["stage"] for s in packed} == {"pack"}, (picked, packed)
    # page_size=1: every slip comes on a page of its own
    assert await poller.poll() == {"SalesPackingSlipService": len(packed), "SalesInvoiceService": 0}
    slips = await journaled(store, "packing_slip.posted")
    assert sorted(m.payload["SalesId"] for m in slips) == sorted(s["sales_id"] for s in packed)
    assert all(m.source == "ax" and m.key.startswith("PS-") for m in slips)
    # the trace of each message starts at the poll that found it
    polls = {f"{s.context.trace_id:032x}" for s in spans.get_finished_spans() if s.name == "poll"}
    assert {m.traceparent.split("-")[1] for m in slips if m.traceparent} <= polls and all(m.traceparent for m in slips)
    assert all(m.idempotency_key == f"ax:SalesPackingSlipService:{m.key}:{m.payload['rec_version']}" for m in slips)
    second = (await store.get_cursor(cursor_name("SalesPackingSlipService")))["since"]
    assert second > first

    # the overlap window lists the same slips again: no second message for any of them
    assert await poller.poll() == {"SalesPackingSlipService": 0, "SalesInvoiceService": 0}
    assert len(await journaled(store, "packing_slip.posted")) == len(packed)

    invoiced = await step(fulfil_url)
    assert await poller.poll() == {"SalesPackingSlipService": 0, "SalesInvoiceService": len(invoiced)}
    invoices = await journaled(store, "invoice.posted")
    assert sorted(m.payload["SalesId"] for m in invoices) == sorted(s["sales_id"] for s in invoiced)
    assert {m.entity for m in invoices} == {"shipment"}


async def test_a_cursor_older_than_change_tracking_lists_every_key_without_duplicates(
        fulfil_url: str, fulfil_ax: AxClient, store: AsyncStore) -> None:
    poller = AxPoller(store, fulfil_ax, [SLIPS], overlap_s=0, page_size=2)
    for _ in range(2):
        await step(fulfil_url)
    assert await poller.poll() == {"SalesPackingSlipService": 0}  # the first poll starts now
    async with httpx.AsyncClient(base_url=fulfil_url) as http:  # the bridge was down for days
        (await http.post("/_sandbox/clock", json={"advance_seconds": 4 * 86400})).raise_for_status()
    await store.put_cursor(cursor_name("SalesPackingSlipService"), {"since": 0.0})
    found = await poller.poll()
    slips = await journaled(store, "packing_slip.posted")
    assert found == {"SalesPackingSlipService": len(slips)} and len(slips) >= 2
    assert await poller.poll() == {"SalesPackingSlipService": 0}


@pytest.fixture
async def shop_order_in_ax(ops: Any, flows: Any, shop: Any, store: AsyncStore) -> dict[str, Any]:
    """A shop order carried to AX by the order flow (xref written), as the webhook path does."""
    order = await place_order(shop, "fulfil.flow@example.com")
    detail = await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, "MSG-F1"))
    assert detail["status"] == "done", detail
    return {**order, "sales_id": detail["results"]["load-order"]["SalesId"]}


async def test_the_fulfilment_flow_sets_tracking_state_and_payment_once(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, store: AsyncStore,
        shop_order_in_ax: dict[str, Any]) -> None:
    order, sales_id = shop_order_in_ax, shop_order_in_ax["sales_id"]
    poller = AxPoller(store, ax, [SLIPS, INVOICES])
    await poller.poll()
    for _ in range(3):  # pick, pack, invoice
        await step(ax_url, sales_id)
    await poller.poll()
    flow = YamlFlow(flows.get("ax_fulfilment_to_ps"), ops)
    (slip,) = [m for m in await journaled(store, "packing_slip.posted") if m.payload["SalesId"] == sales_id]
    (invoice,) = [m for m in await journaled(store, "invoice.posted") if m.payload["SalesId"] == sales_id]
    (ax_slip,) = await ax.read_packing_slips(sales_id)
    (ax_invoice,) = await ax.read_invoices(sales_id)

    for _ in range(2):  # a redelivery does not add a second history row nor a second payment
        shipped = await flow.run(Ctx(store), slip)
        assert shipped["status"] == "done", shipped
        paid = await flow.run(Ctx(store), invoice)
        assert paid["status"] == "done", paid
    (carrier,) = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(int(order["id"]))})
    assert carrier["tracking_number"] == ax_slip.tracking_number and ax_slip.tracking_number
    assert (await shop.get("orders", int(order["id"])))["current_state"] == "4"  # shipped
    histories = await shop.list("order_histories", filters={"id_order": F.eq(int(order["id"])),
                                                            "id_order_state": F.eq(4)})
    assert len(histories) == 1
    payments = await shop.list("order_payments", display="full",
                               filters={"order_reference": F.eq(order["reference"])})
    mine = [p for p in payments if p["transaction_id"] == ax_invoice.invoice_id]
    assert len(mine) == 1 and mine[0]["amount"].startswith(str(ax_invoice.invoice_amount))


async def test_fulfilment_of_an_order_the_shop_never_saw_is_dropped(
        ops: Any, flows: Any, ax: AxClient, ax_url: str, store: AsyncStore) -> None:
    poller = AxPoller(store, ax, [SLIPS])
    await poller.poll()
    for _ in range(2):  # pick and pack whatever is open, the sandbox's own seeded orders too
        await step(ax_url)
    await poller.poll()
    flow = YamlFlow(flows.get("ax_fulfilment_to_ps"), ops)
    foreign = [m for m in await journaled(store, "packing_slip.posted")
               if await store.get_xref("order", ax_id=m.payload["SalesId"]) is None]
    assert foreign, "the AX sandbox seeds open orders of its own"
    detail = await flow.run(Ctx(store), foreign[0])
    assert detail["status"] == "dropped" and detail["step"] == "shop-order", detail
