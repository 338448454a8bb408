"""Order to cash, the way back, on Ray + Serve: shop orders go to AX (webhook path), AX packs,
invoices and, once the customer paid, settles them, and the bridge's AX poller brings the
tracking number, the shipped state, the AX invoice and the settlement back to the shop through
the fulfilment flow, each once. The shop's total paid is the order total exactly once for a
paid order, and nothing for a bank-wire order until AX settles its invoice."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig, F
from runtime.store import Store
from tests.contract.runtime_operations.support import (
    PS_KEY,
    place_bank_wire_order,
    place_order,
    sandbox_flow_dir,
)
from tests.e2e.support import wait_until
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture

pytestmark = pytest.mark.e2e

LIMITS = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 0.5,
          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}


async def test_ax_fulfilment_reaches_the_shop_order(bridge_factory: Any, sandboxes: tuple[str, str],  # noqa: F811
                                                    tmp_path: Path) -> None:
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax:
        order = await place_order(shop, "e2e.fulfil@example.com")
        oid = int(order["id"])

        async def in_ax() -> bool:
            return store.get_xref("order", ps_id=str(oid)) is not None
        await wait_until(in_ax, timeout_s=30)
        sales_id = store.get_xref("order", ps_id=str(oid))["ax_id"]

        async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
            for stage in ("pick", "pack", "invoice"):
                r = await http.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})
                assert r.json()["advanced"] == [{"sales_id": sales_id, "stage": stage}]
        (slip,) = await ax.read_packing_slips(sales_id)
        (invoice,) = await ax.read_invoices(sales_id)
        assert slip.tracking_number and invoice.invoice_id

        async def payments(reference: str) -> list[dict[str, Any]]:
            return list(await shop.list("order_payments", display="full",
                                        filters={"order_reference": F.eq(reference)}))

        def total(rows: list[dict[str, Any]]) -> Decimal:
            return sum((Decimal(p["amount"]) for p in rows), Decimal(0))

        async def invoice_noted() -> bool:
            rows = await shop.list("order_invoices", display="full", filters={"id_order": F.eq(oid)})
            return any(f"AX invoice {invoice.invoice_id} " in r["note"] for r in rows)

        async def fulfilled() -> bool:
            carriers = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(oid)})
            state = (await shop.get("orders", oid))["current_state"]
            return (bool(carriers) and carriers[0]["tracking_number"] == slip.tracking_number and state == "4"
                    and await invoice_noted())
        await wait_until(fulfilled, timeout_s=30)

        async def settled() -> bool:
            counts = store.counts().get("shipment", {})
            return not any(counts.get(s) for s in ("new", "processing", "retry"))
        await wait_until(settled, timeout_s=20)
        # one message per posted document, both run by the fulfilment flow; later polls inside
        # the overlap window added none
        mine = [m for m in store.list_messages(entity="shipment") if m.payload.get("SalesId") == sales_id]
        assert sorted(m.event for m in mine) == ["invoice.posted", "packing_slip.posted"]
        assert all(m.status == "done" and m.flow == "ax_fulfilment_to_ps" and m.traceparent for m in mine)
        assert store.get_cursor("ax:SalesPackingSlipService") is not None
        shipped = await shop.list("order_histories", filters={"id_order": F.eq(oid), "id_order_state": F.eq(4)})
        assert len(shipped) == 1
        # the invoice is not a payment: the shop holds the order total once, as it took it
        assert total(await payments(order["reference"])) == Decimal(order["total_paid"])

        # the customer's money reaches AX and settles the invoice: the shop has it already
        async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
            (await http.post("/_sandbox/payments", json={"invoice_id": invoice.invoice_id})).raise_for_status()

        async def settlement_done() -> bool:
            return any(m.event == "invoice.settled" and m.payload.get("Invoice") == invoice.invoice_id
                       and m.status == "done" for m in store.list_messages(entity="shipment"))
        await wait_until(settlement_done, timeout_s=30)
        rows = await payments(order["reference"])
        assert len(rows) == 1 and total(rows) == Decimal(order["total_paid"])
    store.close()


async def test_a_bank_wire_order_is_paid_in_the_shop_only_when_ax_settles_it(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax:
        order = await place_bank_wire_order(shop, ps_url, "e2e.wire@example.com")
        oid, reference = int(order["id"]), order["reference"]
        assert order["current_state"] == "10"

        async def in_ax() -> bool:
            return store.get_xref("order", ps_id=str(oid)) is not None
        await wait_until(in_ax, timeout_s=30)
        sales_id = store.get_xref("order", ps_id=str(oid))["ax_id"]
        async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
            for _ in ("pick", "pack", "invoice"):
                (await http.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})).raise_for_status()
            (invoice,) = await ax.read_invoices(sales_id)

            async def invoiced() -> bool:
                rows = await shop.list("order_invoices", display="full", filters={"id_order": F.eq(oid)})
                return any(r["note"].startswith(f"AX invoice {invoice.invoice_id} ") for r in rows)
            await wait_until(invoiced, timeout_s=30)

            def done(event: str) -> bool:
                return any(m.event == event and m.status == "done" and m.payload.get("SalesId") in (sales_id, None)
                           and (m.payload.get("Invoice") in (None, invoice.invoice_id))
                           for m in store.list_messages(entity="shipment"))

            async def invoice_message_done() -> bool:
                return done("invoice.posted")
            await wait_until(invoice_message_done, timeout_s=20)
            # invoiced and shipped, but the customer has not paid: the shop must not think so
            assert await shop.list("order_payments", filters={"order_reference": F.eq(reference)}) == []

            (await http.post("/_sandbox/payments", json={"invoice_id": invoice.invoice_id})).raise_for_status()

            async def paid() -> bool:
                rows = await shop.list("order_payments", display="full", filters={"order_reference": F.eq(reference)})
                return bool(rows)
            await wait_until(paid, timeout_s=30)
        rows = await shop.list("order_payments", display="full", filters={"order_reference": F.eq(reference)})
        assert len(rows) == 1 and Decimal(rows[0]["amount"]) == Decimal(order["total_paid"]) == invoice.invoice_amount
    store.close()
