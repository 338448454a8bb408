"""The way back without Ray: the AX poller against the AX sandbox with stepped fulfilment
(cursor, overlap, paging, full resync, settlements), and the fulfilment flow writing tracking
number, order state, the AX invoice and, once AX settles it, the missing payment into the shop,
once: a paid order is never paid twice, an unpaid bank-wire order only when AX got the money."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
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
from tests.contract.runtime_operations.support import place_bank_wire_order, place_order
from tests.contract.runtime_operations.test_system_operations import Ctx, order_message

pytestmark = pytest.mark.contract

SLIPS = PollRoute("ax_fulfilment_to_ps", "shipment", "SalesPackingSlipService")
INVOICES = PollRoute("ax_fulfilment_to_ps", "shipment", "SalesInvoiceService")
SETTLEMENTS = PollRoute("ax_fulfilment_to_ps", "shipment", "CustomerTransactionService")


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
    assert SLIPS in routes and INVOICES in routes and SETTLEMENTS in routes
    assert {r.event for r in routes if r.flow == "ax_fulfilment_to_ps"} == {
        "packing_slip.posted", "invoice.posted", "invoice.settled"}


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
    assert all(m.idempotency_key == f"ax:SalesPackingSlipService:{m.key}:{m.payload['rec_id']}:"
               f"{m.payload['rec_version']}" and int(m.payload["rec_id"]) > 0 for m in slips)
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


async def settle(url: str, invoice_id: str, amount: str | None = None) -> str:
    """A customer payment posted in AX against the invoice (all that is open by default)."""
    async with httpx.AsyncClient(base_url=url) as http:
        body = {"invoice_id": invoice_id, **({"amount": amount} if amount else {})}
        response = await http.post("/_sandbox/payments", json=body)
        assert response.status_code == 200, response.text
        return response.json()["voucher"]  # type: ignore[no-any-return]


async def shop_payments(shop: Any, reference: str) -> list[dict[str, Any]]:
    return list(await shop.list("order_payments", display="full", filters={"order_reference": F.eq(reference)}))


def paid(rows: list[dict[str, Any]]) -> Decimal:
    return sum((Decimal(r["amount"]) for r in rows), Decimal(0))


async def run_twice(flow: YamlFlow, store: AsyncStore, message: Message) -> dict[str, Any]:
    """Run the flow for the message, then again (a redelivery); both must finish."""
    for _ in range(2):
        detail = await flow.run(Ctx(store), message)
        assert detail["status"] == "done", detail
    return detail


async def test_the_fulfilment_flow_sets_tracking_state_and_records_the_invoice_once(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, store: AsyncStore,
        shop_order_in_ax: dict[str, Any]) -> None:
    order, sales_id = shop_order_in_ax, shop_order_in_ax["sales_id"]
    oid = int(order["id"])
    poller = AxPoller(store, ax, [SLIPS, INVOICES, SETTLEMENTS])
    await poller.poll()
    for _ in range(3):  # pick, pack, invoice
        await step(ax_url, sales_id)
    await poller.poll()
    flow = YamlFlow(flows.get("ax_fulfilment_to_ps"), ops)
    (slip,) = [m for m in await journaled(store, "packing_slip.posted") if m.payload["SalesId"] == sales_id]
    (invoice,) = [m for m in await journaled(store, "invoice.posted") if m.payload["SalesId"] == sales_id]
    (ax_slip,) = await ax.read_packing_slips(sales_id)
    (ax_invoice,) = await ax.read_invoices(sales_id)
    assert ax_invoice.invoice_amount == Decimal(order["total_paid"])  # both sides agree on the amount

    await run_twice(flow, store, slip)  # a redelivery adds no second history row
    await run_twice(flow, store, invoice)  # nor a second note, invoice or payment
    (carrier,) = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(oid)})
    assert carrier["tracking_number"] == ax_slip.tracking_number and ax_slip.tracking_number
    assert (await shop.get("orders", oid))["current_state"] == "4"  # shipped
    histories = await shop.list("order_histories", filters={"id_order": F.eq(oid), "id_order_state": F.eq(4)})
    assert len(histories) == 1
    # the paid order (state 11) had its own invoice: the AX invoice is noted on it, once
    (shop_invoice,) = await shop.list("order_invoices", display="full", filters={"id_order": F.eq(oid)})
    assert shop_invoice["note"].count(f"AX invoice {ax_invoice.invoice_id} ") == 1
    assert f"{ax_invoice.invoice_amount:.2f} EUR" in shop_invoice["note"]
    # an invoice is not a payment: the shop holds the one payment it took, the order total
    payments = await shop_payments(shop, order["reference"])
    assert len(payments) == 1 and paid(payments) == Decimal(order["total_paid"])

    # the customer's payment reaches AX and settles the invoice: the shop has it already
    voucher = await settle(ax_url, ax_invoice.invoice_id or "")
    assert await poller.poll() == {"SalesPackingSlipService": 0, "SalesInvoiceService": 0,
                                   "CustomerTransactionService": 1}
    (settled,) = [m for m in await journaled(store, "invoice.settled") if m.payload["Invoice"] == ax_invoice.invoice_id]
    detail = await run_twice(flow, store, settled)
    assert detail["results"]["load-payment"]["recorded"] is False, detail
    payments = await shop_payments(shop, order["reference"])
    assert paid(payments) == Decimal(order["total_paid"]) and voucher not in {p["transaction_id"] for p in payments}


async def _wire_order_invoiced_in_ax(ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, ps_url: str,
                                     store: AsyncStore, email: str) -> tuple[dict[str, Any], str, Any, AxPoller]:
    """A bank-wire order carried to AX, picked, packed and invoiced there (the poller has seen
    it); returns (the shop order, its sales id, its AX invoice, the poller)."""
    order = await place_bank_wire_order(shop, ps_url, email)
    carried = await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, f"MSG-{email}"))
    assert carried["status"] == "done", carried
    sales_id = carried["results"]["load-order"]["SalesId"]
    poller = AxPoller(store, ax, [SLIPS, INVOICES, SETTLEMENTS])
    await poller.poll()
    for _ in range(3):
        await step(ax_url, sales_id)
    await poller.poll()
    (ax_invoice,) = await ax.read_invoices(sales_id)
    return order, sales_id, ax_invoice, poller



async def test_an_unpaid_bank_wire_order_is_paid_only_when_ax_settles_its_invoice(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, ps_url: str, store: AsyncStore) -> None:
    order, sales_id, ax_invoice, poller = await _wire_order_invoiced_in_ax(
        ops, flows, shop, ax, ax_url, ps_url, store, "fulfil.wire@example.com")
    oid, total = int(order["id"]), Decimal(order["total_paid"])
    assert order["current_state"] == "10" and not await shop_payments(shop, order["reference"])
    assert not await shop.list("order_invoices", filters={"id_order": F.eq(oid)})
    flow = YamlFlow(flows.get("ax_fulfilment_to_ps"), ops)
    (slip,) = [m for m in await journaled(store, "packing_slip.posted") if m.payload["SalesId"] == sales_id]
    await run_twice(flow, store, slip)
    # shipped with its tracking number, but not moved to Shipped: that state has paid=1 and
    # PrestaShop would record the unpaid order's payment itself
    (carrier,) = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(oid)})
    assert carrier["tracking_number"] and (await shop.get("orders", oid))["current_state"] == "10"
    assert not await shop_payments(shop, order["reference"])
    (invoice,) = [m for m in await journaled(store, "invoice.posted") if m.payload["SalesId"] == sales_id]
    await run_twice(flow, store, invoice)
    # the order had no invoice: the AX invoice becomes it, and still no payment
    (shop_invoice,) = await shop.list("order_invoices", display="full", filters={"id_order": F.eq(oid)})
    assert shop_invoice["number"] == str(int((ax_invoice.invoice_id or "").rsplit("-", 1)[-1]))
    assert Decimal(shop_invoice["total_paid_tax_incl"]) == ax_invoice.invoice_amount == total
    assert shop_invoice["note"].startswith(f"AX invoice {ax_invoice.invoice_id} of ")
    assert not await shop_payments(shop, order["reference"])

    # a first bank transfer of 10.00, then the rest: each settlement pays what is new, once
    first = await settle(ax_url, ax_invoice.invoice_id or "", "10.00")
    await poller.poll()
    (part,) = [m for m in await journaled(store, "invoice.settled") if m.payload["Invoice"] == ax_invoice.invoice_id]
    await run_twice(flow, store, part)
    payments = await shop_payments(shop, order["reference"])
    assert [(p["transaction_id"], Decimal(p["amount"])) for p in payments] == [(first, Decimal("10.00"))]
    rest = await settle(ax_url, ax_invoice.invoice_id or "")
    await poller.poll()
    settled = [m for m in await journaled(store, "invoice.settled") if m.payload["Invoice"] == ax_invoice.invoice_id]
    (later,) = [m for m in settled if m.id != part.id]  # the new RecVersion makes a new message
    assert len(settled) == 2 and later.payload["rec_version"] != part.payload["rec_version"]
    await run_twice(flow, store, later)
    await run_twice(flow, store, part)  # a late redelivery of the first settlement adds nothing
    payments = await shop_payments(shop, order["reference"])
    assert sorted(p["transaction_id"] for p in payments) == sorted([first, rest])
    assert paid(payments) == total


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


async def test_a_wire_order_paid_before_it_ships_is_paid_once_and_then_shipped(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, ps_url: str, store: AsyncStore) -> None:
    """The customer's transfer settles the AX invoice before the packing slip is worked (the
    usual order for bank wire; found by the chaos campaign): the settlement moves the order to
    Payment accepted (the shop records the payment itself and stamps it with AX's voucher), so
    the Shipped state (paid=1) that follows adds no second payment."""
    order, sales_id, ax_invoice, poller = await _wire_order_invoiced_in_ax(
        ops, flows, shop, ax, ax_url, ps_url, store, "fulfil.wire.early@example.com")
    oid, total = int(order["id"]), Decimal(order["total_paid"])
    flow = YamlFlow(flows.get("ax_fulfilment_to_ps"), ops)
    voucher = await settle(ax_url, ax_invoice.invoice_id or "")
    await poller.poll()
    (settled,) = [m for m in await journaled(store, "invoice.settled") if m.payload["Invoice"] == ax_invoice.invoice_id]
    detail = await run_twice(flow, store, settled)
    assert detail["results"]["load-payment"]["recorded"] is True, detail
    assert (await shop.get("orders", oid))["current_state"] == "2"  # Payment accepted
    (payment,) = await shop_payments(shop, order["reference"])
    assert (payment["transaction_id"], Decimal(payment["amount"])) == (voucher, total)
    assert payment["payment_method"] == "AX customer payment"

    (slip,) = [m for m in await journaled(store, "packing_slip.posted") if m.payload["SalesId"] == sales_id]
    (invoice,) = [m for m in await journaled(store, "invoice.posted") if m.payload["SalesId"] == sales_id]
    await run_twice(flow, store, slip)
    await run_twice(flow, store, invoice)
    await run_twice(flow, store, settled)  # a late redelivery of the settlement adds nothing
    assert (await shop.get("orders", oid))["current_state"] == "4"  # paid, so Shipped
    payments = await shop_payments(shop, order["reference"])
    assert [(p["transaction_id"], Decimal(p["amount"])) for p in payments] == [(voucher, total)]
    # one invoice (Payment accepted made it; the AX invoice is noted on it), not two
    (shop_invoice,) = await shop.list("order_invoices", display="full", filters={"id_order": F.eq(oid)})
    assert shop_invoice["note"].count(f"AX invoice {ax_invoice.invoice_id} ") == 1


async def test_a_settlement_retried_after_the_state_change_stamps_the_shops_payment(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, ps_url: str, store: AsyncStore) -> None:
    """An attempt that moved the order to Payment accepted and ended before stamping the
    payment: the retry finds the payment the state change added and stamps it, adding none."""
    from connectors.prestashop import PAYMENT_ACCEPTED_STATE, change_order_state, find_order_state

    order, _sales_id, ax_invoice, poller = await _wire_order_invoiced_in_ax(
        ops, flows, shop, ax, ax_url, ps_url, store, "fulfil.wire.crash@example.com")
    voucher = await settle(ax_url, ax_invoice.invoice_id or "")
    await poller.poll()
    (settled,) = [m for m in await journaled(store, "invoice.settled") if m.payload["Invoice"] == ax_invoice.invoice_id]
    accepted = await find_order_state(shop, *PAYMENT_ACCEPTED_STATE)
    assert accepted == 2
    await change_order_state(shop, int(order["id"]), accepted)  # what the ended attempt did
    (blank,) = await shop_payments(shop, order["reference"])
    assert blank["transaction_id"] == ""
    detail = await run_twice(YamlFlow(flows.get("ax_fulfilment_to_ps"), ops), store, settled)
    assert detail["results"]["load-payment"]["recorded"] is True, detail
    payments = await shop_payments(shop, order["reference"])
    assert [(p["id"], p["transaction_id"]) for p in payments] == [(blank["id"], voucher)]
