"""AX fulfils a shop order before the bridge wrote its cross-reference (found by the chaos
campaign, benchmarks/chaos.py): the order actor's process ended between the AX create and the
xref write, and AX picked and packed the order before the retry wrote it. The fulfilment flow
used to drop the packing slip as an AX-only order, so the shop never got its tracking number;
it now finds the shop order by the reference the order flow put into ``PurchOrderFormNum``.
An AX order whose ``PurchOrderFormNum`` names no shop order (a phone order) is still dropped."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.payloads import NewCustomer, NewSalesLine, NewSalesOrder
from connectors.prestashop import F
from runtime.pollers import AxPoller
from runtime.store import AsyncStore
from runtime.yaml_flows import YamlFlow
from tests.contract.runtime_operations.support import AX_ITEM, place_order
from tests.contract.runtime_operations.test_fulfilment import SLIPS, journaled, step
from tests.contract.runtime_operations.test_system_operations import Ctx

pytestmark = pytest.mark.contract


async def _ax_order(ax: AxClient, reference: str, n: int) -> str:
    """An AX sales order carrying ``reference`` and no cross-reference: what a crashed attempt leaves."""
    account = (await ax.create_customer(NewCustomer(cust_group="WEB", currency="EUR", first_name="Una",
                                                    last_name="Linked"), idempotency_key=f"unlinked-c-{n}")).key
    return str((await ax.create_sales_order(NewSalesOrder(
        cust_account=account, shop_reference=reference, currency="EUR",
        lines=[NewSalesLine(item_id=AX_ITEM, qty=Decimal(1), unit="ea", site="1", warehouse="11")]),
        idempotency_key=f"unlinked-o-{n}")).key)


async def _slip(store: AsyncStore, ax: AxClient, ax_url: str, sales_id: str) -> Any:
    poller = AxPoller(store, ax, [SLIPS])
    await poller.poll()
    for _ in range(2):  # pick, pack
        await step(ax_url, sales_id)
    await poller.poll()
    (slip,) = [m for m in await journaled(store, "packing_slip.posted") if m.payload["SalesId"] == sales_id]
    return slip


async def test_a_packing_slip_of_a_shop_order_without_its_xref_still_reaches_the_shop(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, store: AsyncStore) -> None:
    order = await place_order(shop, "unlinked.buyer@example.com")
    oid = int(order["id"])
    sales_id = await _ax_order(ax, order["reference"], 1)
    assert await store.get_xref("order", ax_id=sales_id) is None  # the crash left no cross-reference
    slip = await _slip(store, ax, ax_url, sales_id)

    detail = await YamlFlow(flows.get("ax_fulfilment_to_ps"), ops).run(Ctx(store), slip)
    assert detail["status"] == "done", detail
    (ax_slip,) = await ax.read_packing_slips(sales_id)
    (carrier,) = await shop.list("order_carriers", display="full", filters={"id_order": F.eq(oid)})
    assert carrier["tracking_number"] == ax_slip.tracking_number and ax_slip.tracking_number
    assert (await shop.get("orders", oid))["current_state"] == "4"  # shipped


async def test_a_packing_slip_of_an_ax_order_no_shop_order_matches_is_dropped(
        ops: Any, flows: Any, shop: Any, ax: AxClient, ax_url: str, store: AsyncStore) -> None:
    sales_id = await _ax_order(ax, "PHONEORDR", 2)  # no shop order has this reference
    assert not await shop.list("orders", display=["id"], filters={"reference": F.eq("PHONEORDR")})
    slip = await _slip(store, ax, ax_url, sales_id)
    detail = await YamlFlow(flows.get("ax_fulfilment_to_ps"), ops).run(Ctx(store), slip)
    assert detail["status"] == "dropped" and detail["step"] == "shop-order", detail
