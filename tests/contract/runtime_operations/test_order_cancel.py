"""Order cancellation without Ray, both sandboxes over HTTP: the ps_order_cancel_to_ax flow cancels
the AX sales order of a shop order moved to Canceled (deliver remainder 0 -> SalesStatus Canceled,
reservation released), idempotently; drops every other state change (the echo of the bridge's own
write-back included); and refuses, without touching AX, once AX has shipped the order."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AlreadyDeliveredError
from connectors.errors import PermanentError
from connectors.prestashop import change_order_state
from pipelines.operations import OPERATION_NAMES
from runtime.messages import Message
from runtime.yaml_flows import YamlFlow
from tests.contract.runtime_operations.support import AX_ITEM, place_order
from tests.contract.runtime_operations.test_system_operations import Ctx, order_message

pytestmark = pytest.mark.contract


def status_message(order: dict[str, Any], mid: str, previous: str) -> Message:
    """What the shop's module sends on a state change (the sandbox's order.status_changed): the
    order id and reference, the new and the previous state; no date_upd, so no source version."""
    payload = {"resource": "orders", "id": int(order["id"]), "reference": order["reference"],
               "current_state": order["current_state"], "previous_state": previous}
    return Message(id=mid, entity="order", key=str(order["id"]), source="prestashop", event="order.status_changed",
                   payload=payload, idempotency_key=f"prestashop:webhook:{mid}")


async def in_ax(ops: Any, flows: Any, shop: Any, store: Any, email: str, mid: str) -> tuple[dict[str, Any], str]:
    order = await place_order(shop, email)
    detail = await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, mid))
    assert detail["status"] == "done", detail
    return order, detail["results"]["load-order"]["SalesId"]


async def cancel_in_shop(shop: Any, order: dict[str, Any]) -> dict[str, Any]:
    await change_order_state(shop, int(order["id"]), 6)
    return dict(await shop.get("orders", int(order["id"])))


async def available(ax: Any, item: str = AX_ITEM, warehouse: str = "11") -> Any:
    (row,) = await ax.read_on_hand(item, warehouse)
    return row.avail_physical


def test_the_cancel_operation_is_in_the_table() -> None:
    assert "SalesOrderService.cancel" in OPERATION_NAMES["ax"]


async def test_a_cancelled_shop_order_cancels_its_ax_order_once(ops, flows, shop, ax, store) -> None:
    free = await available(ax)
    order, sales_id = await in_ax(ops, flows, shop, store, "cancel.one@example.com", "MSG-C1")
    assert await available(ax) == free - 2  # AX reserved the two items
    cancelled = await cancel_in_shop(shop, order)
    assert cancelled["current_state"] == "6"
    flow = YamlFlow(flows.get("ps_order_cancel_to_ax"), ops)
    message = status_message(cancelled, "MSG-C2", previous="3")

    detail = await flow.run(Ctx(store), message)
    assert detail["status"] == "done", detail
    assert detail["results"]["load-cancel"] == {"SalesId": sales_id, "PurchOrderFormNum": order["reference"],
                                                "canceled": True, "already": False}
    ax_order = await ax.read_sales_order(sales_id)
    assert ax_order.sales_status == "Canceled"
    assert [line.sales_status for line in ax_order.lines] == ["Canceled"]
    assert await available(ax) == free  # reservation released
    hash_after = ax_order.document_hash

    again = await flow.run(Ctx(store), message)  # a redelivery: already cancelled, no write
    assert again["results"]["load-cancel"]["already"] is True
    assert (await ax.read_sales_order(sales_id)).document_hash == hash_after


async def test_other_state_changes_and_repeats_are_dropped(ops, flows, shop, ax, store) -> None:
    order, sales_id = await in_ax(ops, flows, shop, store, "cancel.echo@example.com", "MSG-E1")
    flow = YamlFlow(flows.get("ps_order_cancel_to_ax"), ops)
    # the echo of the order flow's own write-back (11 -> 3 "Processing in progress")
    current = dict(await shop.get("orders", int(order["id"])))
    assert current["current_state"] == "3"
    echo = await flow.run(Ctx(store), status_message(current, "MSG-E2", previous="11"))
    assert echo["status"] == "dropped" and echo["step"] == "guard", echo
    assert "not in the Canceled state" in echo["reason"]
    # a Canceled state posted again on a cancelled order is no new cancellation
    cancelled = await cancel_in_shop(shop, order)
    repeat = await flow.run(Ctx(store), status_message(cancelled, "MSG-E3", previous="6"))
    assert repeat["status"] == "dropped" and "already Canceled" in repeat["reason"]
    # the write-back's echo worked late, once the shop already shows Canceled: it announced the
    # move to 3, so it is still no cancellation (the merchant's own status change is)
    late = await flow.run(Ctx(store), status_message(current, "MSG-E4", previous="11"))
    assert late["status"] == "dropped" and "not in the Canceled state" in late["reason"], late
    assert (await ax.read_sales_order(sales_id)).sales_status == "Backorder"  # neither touched AX


async def test_after_shipment_ax_is_untouched_and_the_reason_is_readable(ops, flows, shop, ax, ax_url, store) -> None:
    order, sales_id = await in_ax(ops, flows, shop, store, "cancel.late@example.com", "MSG-L1")
    async with httpx.AsyncClient(base_url=ax_url) as http:
        for stage in ("pick", "pack"):
            r = await http.post("/_sandbox/fulfilment/step", json={"sales_id": sales_id})
            assert r.json()["advanced"] == [{"sales_id": sales_id, "stage": stage}]
    (slip,) = await ax.read_packing_slips(sales_id)
    before = await ax.read_sales_order(sales_id)
    cancelled = await cancel_in_shop(shop, order)
    flow = YamlFlow(flows.get("ps_order_cancel_to_ax"), ops)
    with pytest.raises(PermanentError) as caught:
        await flow.run(Ctx(store), status_message(cancelled, "MSG-L2", previous="3"))
    assert caught.value.message == (
        f"Shop order {order['reference']} was cancelled after AX shipped it (AX sales order {sales_id}, Delivered, "
        f"packing slip {slip.packing_slip_id}): not cancelled in AX; handle the return in AX.")
    after = await ax.read_sales_order(sales_id)
    assert after.sales_status == "Delivered" and after.document_hash == before.document_hash


async def test_an_order_ax_never_got_is_nothing_to_cancel(ops, flows, shop, store) -> None:
    order = await place_order(shop, "cancel.never@example.com")  # no order flow ran: no xref, not in AX
    cancelled = await cancel_in_shop(shop, order)
    detail = await YamlFlow(flows.get("ps_order_cancel_to_ax"), ops).run(
        Ctx(store), status_message(cancelled, "MSG-N1", previous="11"))
    assert detail["status"] == "done"
    assert detail["results"]["load-cancel"]["canceled"] is False
    assert detail["results"]["load-cancel"]["SalesId"] is None


async def test_the_connector_finds_the_order_by_reference_without_xref(ops, flows, shop, ax, ax_url, store) -> None:
    order, sales_id = await in_ax(ops, flows, shop, store, "cancel.ref@example.com", "MSG-R1")
    # a fresh journal (no cross-reference): the order is found by PurchOrderFormNum
    detail = await ops.call("ax", "SalesOrderService.cancel", {"PurchOrderFormNum": order["reference"]},
                            mode="update", context={"message": {"id": "MSG-R2", "key": "no-such-id"}})
    assert detail["SalesId"] == sales_id and detail["canceled"] is True
    # and the connector alone refuses a shipped order with its own permanent error
    other, shipped_id = await in_ax(ops, flows, shop, store, "cancel.ref2@example.com", "MSG-R3")
    async with httpx.AsyncClient(base_url=ax_url) as http:
        for _ in range(3):  # pick, pack, invoice
            await http.post("/_sandbox/fulfilment/step", json={"sales_id": shipped_id})
    with pytest.raises(AlreadyDeliveredError) as caught:
        await ax.cancel_sales_order(shipped_id, idempotency_key="MSG-R4:cancel")
    assert caught.value.sales_status == "Invoiced" and caught.value.packing_slips
