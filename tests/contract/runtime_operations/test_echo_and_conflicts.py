"""Echo suppression and the conflict log (pipelines.sync) against both sandboxes over HTTP,
without Ray: the customer flow in both directions with the real store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connectors.dynamics_ax.query import eq
from runtime.messages import Message
from runtime.pollers import read_version
from runtime.yaml_flows import YamlFlow

pytestmark = pytest.mark.contract


@dataclass
class Ctx:
    store: Any


def shop_message(customer: dict[str, Any], mid: str, event: str = "customer.updated") -> Message:
    return Message(id=mid, entity="customer", key=str(customer["id"]), source="prestashop", event=event,
                   payload={"id": customer["id"]}, idempotency_key=f"k-{mid}", source_version=customer["date_upd"])


def ax_message(account: str, mid: str, version: str | None = None) -> Message:
    """An AX customer message as the AX poller journals it: the record's ``RecVersion`` in the
    payload, the read time as the source version (``runtime.pollers.read_version``)."""
    payload = {"AccountNum": account, **({"rec_version": version} if version is not None else {})}
    return Message(id=mid, entity="customer", key=account, source="ax", event="customer.updated",
                   payload=payload, idempotency_key=f"k-{mid}",
                   source_version=read_version() if version is not None else None)


async def _new_customer(shop: Any, email: str) -> dict[str, Any]:
    # with its language, as a real shop sets one on create (the sandbox keeps 0 when none is sent)
    customer = await shop.create("customers", {"lastname": "Echo", "firstname": "Eva", "email": email,
                                               "passwd": "echo-pass-1", "id_default_group": 3, "active": 1,
                                               "id_lang": 1})
    await shop.create("addresses", {"id_customer": customer["id"], "id_country": 1, "alias": "Office",
                                    "lastname": "Echo", "firstname": "Eva", "address1": "Unter den Linden 1",
                                    "postcode": "10117", "city": "Berlin"})
    return dict(await shop.get("customers", int(customer["id"])))


async def test_the_shops_echo_of_an_ax_change_is_skipped_and_nothing_is_written(ops, flows, shop, ax, store) -> None:
    customer = await _new_customer(shop, "eva.echo@example.com")
    flow = YamlFlow(flows.get("customer_sync"), ops)
    account = (await flow.run(Ctx(store), shop_message(customer, "E0", "customer.created")))["results"]["load-ax"]["AccountNum"]
    # AX blocks the customer; the AX poll's message writes it to the shop
    await ax.service("customer").update(_key(account), {"Blocked": "All"}, idempotency_key="E-ax-1")
    applied = await flow.run(Ctx(store), ax_message(account, "E1"))
    assert applied["status"] == "done" and applied["results"]["load-ps"]["existed"] is True
    echoed = dict(await shop.get("customers", int(customer["id"])))
    assert echoed["active"] == "0"
    before = (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0]
    # the shop announces the bridge's own write: it is recognised and nothing goes back to AX
    detail = await flow.run(Ctx(store), shop_message(echoed, "E2"))
    assert detail["status"] == "skipped_echo", detail
    assert detail["reason"].startswith("The shop's echo of our own write-back: the mapped content equals what "
                                       "the bridge wrote at ")
    assert "load-ax:unchanged" in detail["steps"] and "load-ax:ok" not in detail["steps"]
    after = (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0]
    assert after == before
    # a real change in the shop afterwards is not an echo: it reaches AX
    await shop.update("customers", int(customer["id"]), {"active": 1})
    changed = dict(await shop.get("customers", int(customer["id"])))
    real = await flow.run(Ctx(store), shop_message(changed, "E3"))
    assert real["status"] == "done" and "load-ax:ok" in real["steps"]
    assert (await ax.find("customer", [eq("CustTable", "AccountNum", account)]))[0].blocked == "No"


def _key(account: str) -> Any:
    from connectors.dynamics_ax import EntityKey

    return EntityKey.of(AccountNum=account)


async def _run(flow: YamlFlow, store: Any, msg: Message) -> dict[str, Any]:
    """Run the flow as the worker does: then record the message's source version."""
    detail = await flow.run(Ctx(store), msg)
    if msg.source_version is not None:
        await store.put_sync_state(msg.entity, msg.key, source_version=msg.source_version)
    return detail


async def _ax_version(ax: Any, account: str) -> str:
    found = (await ax.service("customer").read([_key(account)]))[0]
    return str(found["RecVersion"] if isinstance(found, dict) else found.RecVersion)


async def test_a_customer_changed_on_both_sides_resolves_per_field_and_logs_the_conflicts(ops, flows, shop, ax,
                                                                                          store) -> None:
    customer = await _new_customer(shop, "carl.conflict@example.com")
    flow = YamlFlow(flows.get("customer_sync"), ops)
    created = await _run(flow, store, shop_message(customer, "C0", "customer.created"))
    account = created["results"]["load-ax"]["AccountNum"]
    # AX's poll of the bridge's own create is its echo: nothing is written to the shop ...
    synced = await _run(flow, store, ax_message(account, "C1", await _ax_version(ax, account)))
    assert synced["status"] == "skipped_echo" and "load-ps:echo" in synced["steps"], synced
    echo = dict(await shop.get("customers", int(customer["id"])))
    assert echo == customer
    # ... so the shop announcing its customer again is a repeat with nothing to write, not an echo
    c2 = await _run(flow, store, shop_message(echo, "C2"))
    assert c2["status"] == "done" and "load-ax:unchanged" in c2["steps"], c2
    assert await store.list_conflicts("customer") == []
    # a change in the shop alone reaches AX and is no conflict (AX did not change since it was read)
    await shop.update("customers", int(customer["id"]), {"firstname": "Carla"})
    one_sided = await _run(flow, store, shop_message(dict(await shop.get("customers", int(customer["id"]))), "C2b"))
    assert one_sided["status"] == "done" and "load-ax:ok" in one_sided["steps"], one_sided
    assert await store.list_conflicts("customer") == []
    echo = dict(await shop.get("customers", int(customer["id"])))
    group_before = echo["id_default_group"]
    # both sides change the customer before the bridge hears of either
    await shop.update("customers", int(customer["id"]), {"lastname": "Changed", "id_default_group": 4})
    await ax.service("customer").update(_key(account), {"Blocked": "All"}, idempotency_key="C-ax-2")
    ax_version = await _ax_version(ax, account)
    shop_changed = await shop.get("customers", int(customer["id"]))
    detail = await _run(flow, store, ax_message(account, "C3", ax_version))
    assert detail["status"] == "done" and "load-ps:ok" in detail["steps"], detail
    shop_now = await shop.get("customers", int(customer["id"]))
    assert shop_now["lastname"] == "Changed"  # the shop owns the name: AX's older name did not land
    assert str(shop_now["id_default_group"]) == str(group_before)  # AX owns the group
    assert shop_now["active"] == "0"  # nobody owns it: the change processed last (AX's) wins
    conflicts = {c["field"]: c for c in await store.list_conflicts("customer", customer["id"])}
    assert set(conflicts) == {"lastname", "id_default_group", "active"}, conflicts
    assert conflicts["lastname"]["winner"] == "prestashop" and conflicts["lastname"]["ps_value"] == "Changed"
    assert conflicts["lastname"]["ax_value"] == "Echo" and conflicts["lastname"]["rule"].startswith("owner: prestashop")
    assert conflicts["id_default_group"]["winner"] == "ax" and conflicts["id_default_group"]["ps_value"] == "4"
    assert conflicts["active"]["winner"] == "ax" and conflicts["active"]["rule"].startswith("no owner")
    # the versions each side had: AX's of the change processed, the shop's as read before the write
    assert {c["ax_version"] for c in conflicts.values()} == {ax_version}
    assert {c["ps_version"] for c in conflicts.values()} == {shop_changed["date_upd"]}
    assert all(c["message_id"] == "C3" and c["flow"] == "customer_sync" for c in conflicts.values())
