"""SystemOperations and YamlFlow against both sandboxes over HTTP, without Ray: the default
order and customer flows end to end, lookup-before-create after a simulated crash, guard
verdicts, failures raised as their BridgeError, and the operation table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connectors.dynamics_ax import EntityKey
from connectors.dynamics_ax.query import eq
from connectors.errors import PermanentError
from connectors.prestashop import F
from pipelines.operations import OPERATION_NAMES, SystemOperations, idempotency_key
from runtime.config import Settings
from runtime.flows import FlowRegistry
from runtime.messages import Message
from runtime.yaml_flows import YamlFlow, register_yaml_flows, systems_configured
from tests.contract.runtime_operations.support import AX_ITEM, place_order

pytestmark = pytest.mark.contract


@dataclass
class Ctx:
    """The part of the worker's FlowContext a flow uses."""

    store: Any


def order_message(order: dict[str, Any], mid: str) -> Message:
    # what the shop's webhook carries: the order row (the flow's extract reads the rest)
    payload = {k: order[k] for k in ("id", "id_customer", "reference", "current_state", "date_upd")}
    return Message(id=mid, entity="order", key=str(order["id"]), source="prestashop", event="order.created",
                   payload=payload, idempotency_key=f"prestashop:webhook:{mid}", source_version=order["date_upd"])


async def ax_orders(ax: Any, reference: str) -> list[Any]:
    found = await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", reference)])
    return [o for o in found if o.purch_order_form_num == reference]


async def test_order_flow_creates_the_ax_order_xrefs_and_writes_back_once(ops, flows, shop, ax, store) -> None:
    order = await place_order(shop, "flow.one@example.com")
    assert order["current_state"] == "11"  # paid: total_paid matched the cart
    flow = YamlFlow(flows.get("ps_order_to_ax"), ops)
    detail = await flow.run(Ctx(store), order_message(order, "MSG-1"))
    assert detail["status"] == "done", detail
    sales_id = detail["results"]["load-order"]["SalesId"]
    created = await ax_orders(ax, order["reference"])
    assert [o.sales_id for o in created] == [sales_id]
    ax_order = await ax.read_sales_order(sales_id)
    assert ax_order is not None and ax_order.cust_account == f"PS-{order['id_customer']}"
    assert [(line.item_id, str(line.sales_qty)) for line in ax_order.lines] == [(AX_ITEM, "2.00")]
    assert ax_order.invent_location_id == "11"
    customer = await ax.find("customer", [eq("CustTable", "AccountNum", f"PS-{order['id_customer']}")])
    assert customer and customer[0].cust_group == "WEB"
    assert (await store.get_xref("order", ps_id=str(order["id"])))["ax_id"] == sales_id
    assert (await store.get_xref("customer", ps_id=str(order["id_customer"])))["ax_id"] == f"PS-{order['id_customer']}"
    assert (await shop.get("orders", order["id"]))["current_state"] == "3"  # write-back: processing

    # the same order again (a duplicate webhook under a new id): found, not created twice
    again = await flow.run(Ctx(store), order_message(order, "MSG-2"))
    assert again["results"]["load-order"] == {"SalesId": sales_id, "PurchOrderFormNum": order["reference"],
                                              "existed": True}
    assert "load-customer:skipped" in again["steps"]  # the xref named the AX account
    assert len(await ax_orders(ax, order["reference"])) == 1
    histories = await shop.list("order_histories", filters={"id_order": F.eq(int(order["id"])),
                                                            "id_order_state": F.eq(3)})
    assert len(histories) == 1


async def test_after_a_crash_between_create_and_xref_the_retry_finds_the_order(ops, flows, shop, ax, store) -> None:
    order = await place_order(shop, "flow.crash@example.com")
    loaded = flows.get("ps_order_to_ax")
    # the crashed attempt: it got as far as creating the AX order (same document, its own
    # MessageId), then died before writing the cross-reference
    crashed = SystemOperations(ops.ps_config, ops.ax_config, store=None)
    try:
        first = await YamlFlow(loaded, crashed).run(Ctx(None), order_message(order, "MSG-C"))
    finally:
        await crashed.aclose()
    sales_id = first["results"]["load-order"]["SalesId"]
    assert await store.get_xref("order", ps_id=str(order["id"])) is None
    retry = await YamlFlow(loaded, ops).run(Ctx(store), order_message(order, "MSG-C"))
    assert retry["results"]["load-order"]["existed"] is True
    assert retry["results"]["load-order"]["SalesId"] == sales_id
    assert (await store.get_xref("order", ps_id=str(order["id"])))["ax_id"] == sales_id
    assert len(await ax_orders(ax, order["reference"])) == 1


async def test_a_payment_error_order_is_dropped_by_the_guard(ops, flows, shop, ax, store) -> None:
    order = await place_order(shop, "flow.unpaid@example.com")
    await shop.create("order_histories", {"id_order": order["id"], "id_order_state": 8, "id_employee": 0})
    detail = await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, "MSG-D"))
    assert detail["status"] == "dropped" and detail["step"] == "guard"
    assert "Canceled orders" in detail["reason"]
    assert await ax_orders(ax, order["reference"]) == []


async def test_an_order_line_ax_does_not_know_raises_a_permanent_error(ops, flows, shop, ax, store) -> None:
    order = await place_order(shop, "flow.unknown@example.com", reference="NOT-IN-AX")
    with pytest.raises(PermanentError) as info:
        await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, "MSG-U"))
    assert info.value.system == "ax"
    assert await ax_orders(ax, order["reference"]) == []
    assert await store.get_xref("order", ps_id=str(order["id"])) is None
    assert (await shop.get("orders", order["id"]))["current_state"] == "11"  # no write-back


async def test_customer_sync_from_the_shop_creates_then_updates_the_ax_customer(ops, flows, shop, ax, store) -> None:
    customer = await shop.create("customers", {"lastname": "Sync", "firstname": "Sam", "email": "sam.sync@example.com",
                                               "passwd": "sync-pass-1", "id_default_group": 3, "active": 1})
    await shop.create("addresses", {"id_customer": customer["id"], "id_country": 1, "alias": "Office",
                                    "lastname": "Sync", "firstname": "Sam", "address1": "Unter den Linden 1",
                                    "postcode": "10117", "city": "Berlin"})
    msg = Message(id="MSG-S1", entity="customer", key=str(customer["id"]), source="prestashop",
                  event="customer.created", payload={"id": customer["id"]}, idempotency_key="k-s1")
    flow = YamlFlow(flows.get("customer_sync"), ops)
    first = await flow.run(Ctx(store), msg)
    account = f"PS-{customer['id']}"
    assert first["results"]["load-ax"] == {"AccountNum": account, "existed": False}
    found = (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0]
    assert found.party_view.dir_party_contact_info_view[0].locator == "sam.sync@example.com"
    assert (await store.get_xref("customer", ps_id=str(customer["id"])))["ax_id"] == account
    await shop.update("customers", customer["id"], {"active": 0})
    second = await flow.run(Ctx(store), Message(**{**_fields(msg), "id": "MSG-S2", "event": "customer.updated"}))
    assert second["results"]["load-ax"]["existed"] is True and "Blocked" in second["results"]["load-ax"]["updated"]
    assert (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0].blocked == "All"


async def test_customer_sync_from_ax_updates_the_shop_customer_and_upserts_the_address(ops, flows, shop, store,
                                                                                       ax) -> None:
    customer = await shop.create("customers", {"lastname": "Axe", "firstname": "Alex", "email": "alex.axe@example.com",
                                               "passwd": "axe-pass-1", "id_default_group": 3, "active": 1})
    shop_address = await shop.create("addresses", {"id_customer": customer["id"], "id_country": 1, "alias": "Office",
                                                   "lastname": "Axe", "firstname": "Alex", "address1": "Unter den Linden 1",
                                                   "postcode": "10117", "city": "Berlin"})
    flow = YamlFlow(flows.get("customer_sync"), ops)
    from_shop = Message(id="MSG-A0", entity="customer", key=str(customer["id"]), source="prestashop",
                        event="customer.created", payload={"id": customer["id"]}, idempotency_key="k-a0")
    account = (await flow.run(Ctx(store), from_shop))["results"]["load-ax"]["AccountNum"]
    # AX changed the customer (a poll found it): the shop's customer is updated, an address added
    # (a change of AX's own: AX merely listing the bridge's create again is its echo, which writes nothing)
    await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": "All"}, idempotency_key="k-a1-ax")
    msg = Message(id="MSG-A1", entity="customer", key=account, source="ax", event="customer.updated",
                  payload={"AccountNum": account}, idempotency_key="k-a1")
    first = await flow.run(Ctx(store), msg)
    assert first["results"]["load-ps"] == {"id": customer["id"], "existed": True}
    # the shop already had that address: it is linked and updated, not duplicated
    assert first["results"]["load-ps-address"] == {"id": shop_address["id"], "existed": True}
    address_id = shop_address["id"]
    assert (await store.get_xref("address", ax_id=account))["ps_id"] == address_id
    address = await shop.get("addresses", int(address_id))
    assert address["id_customer"] == customer["id"] and address["city"] == "Berlin"
    assert (await shop.get("customers", int(customer["id"])))["email"] == "alex.axe@example.com"
    assert (await shop.get("customers", int(customer["id"])))["active"] == "0"  # blocked in AX
    # the same AX change again: the shop already holds it, nothing is written (a repeat, not an echo:
    # the bridge did not write this AX content)
    second = await flow.run(Ctx(store), Message(**{**_fields(msg), "id": "MSG-A2"}))
    assert second["status"] == "done"
    assert "load-ps:unchanged" in second["steps"] and "load-ps-address:unchanged" in second["steps"]
    assert len(await shop.list("addresses", filters={"id_customer": F.eq(int(customer["id"]))})) == 1


async def test_customers_upsert_creates_a_shop_customer_for_a_new_ax_account(ops, shop, store) -> None:
    doc = {"firstname": "Nina", "lastname": "New", "email": "nina.new@example.com", "passwd": "generated-Pass-1",
           "id_default_group": "3", "id_lang": "1", "active": "1"}
    context = {"message": {"id": "MSG-N", "key": "C-NEW-1", "source": "ax"}}
    first = await ops.call("prestashop", "customers.upsert", doc, mode="upsert", context=context)
    assert first["existed"] is False
    assert (await store.get_xref("customer", ax_id="C-NEW-1"))["ps_id"] == first["id"]
    second = await ops.call("prestashop", "customers.upsert", {**doc, "lastname": "Newer"}, mode="upsert",
                            context=context)
    assert second == {"id": first["id"], "existed": True}
    assert (await shop.get("customers", int(first["id"])))["lastname"] == "Newer"


async def test_unknown_operation_is_a_permanent_error_naming_it(ops) -> None:
    with pytest.raises(PermanentError, match="'orders.explode' on system 'prestashop'"):
        await ops.call("prestashop", "orders.explode", {}, mode=None, context={"message": {"id": "M"}})
    assert "SalesOrderService.create" in OPERATION_NAMES["ax"]
    assert {"orders.get", "order_histories.create"} <= OPERATION_NAMES["prestashop"]
    assert idempotency_key({"message": {"id": "M7"}}, "load-order") == "M7:load-order"


def test_every_operation_of_the_default_webhook_flows_is_provided(flows) -> None:
    for loaded in flows.flows().values():
        if not any(t.type == "webhook" for t in loaded.spec.triggers):
            continue
        for step in loaded.spec.steps:
            if step.kind in ("extract", "load", "write-back"):
                assert step.operation in OPERATION_NAMES[step.system], (loaded.name, step.id)


def test_yaml_flows_register_for_their_webhook_events(ps_config, ax_config) -> None:
    settings = Settings.model_validate({"systems": {"prestashop": ps_config.model_dump(), "ax": ax_config.model_dump()}})
    assert systems_configured(settings) and not systems_configured(Settings())
    registry = FlowRegistry()
    added = register_yaml_flows(registry, settings)
    assert "order order.created -> ps_order_to_ax" in added
    assert registry.resolve("order", "order.created").name == "ps_order_to_ax"
    assert registry.resolve("customer", "customer.updated").name == "customer_sync"


def _fields(msg: Message) -> dict[str, Any]:
    import msgspec

    return msgspec.structs.asdict(msg)


async def test_a_high_value_order_is_held_for_review_and_not_sent(ops, flows, shop, ax, store) -> None:
    order = await place_order(shop, "flow.big@example.com", quantity=1700)  # 1700 x 12.00 > 20,000
    detail = await YamlFlow(flows.get("ps_order_to_ax"), ops).run(Ctx(store), order_message(order, "MSG-H"))
    assert detail["status"] == "held" and detail["step"] == "guard"
    assert "wait for a review" in detail["reason"]
    assert await ax_orders(ax, order["reference"]) == []
    assert (await shop.get("orders", order["id"]))["current_state"] == "11"


async def test_a_guard_fail_verdict_raises_a_permanent_error(ops, shop, store) -> None:
    from pipelines.registry import load_flow_bundle
    from pipelines.specs import parse_flow

    spec = parse_flow({"flow": "fail_guard", "entity": "order",
                       "triggers": [{"type": "webhook", "source": "prestashop", "event": "order.created"}],
                       "steps": [{"id": "extract", "kind": "extract", "system": "prestashop", "operation": "orders.get"},
                                 {"id": "guard", "kind": "guard", "rules": [
                                     {"if": "int(current_state) == 11", "action": "fail",
                                      "reason": "Remote payments need a manual check."}]}]})
    order = await place_order(shop, "flow.fail@example.com")
    with pytest.raises(PermanentError, match="step guard: the guard failed the record: Remote payments"):
        await YamlFlow(load_flow_bundle(spec), ops).run(Ctx(store), order_message(order, "MSG-F"))
