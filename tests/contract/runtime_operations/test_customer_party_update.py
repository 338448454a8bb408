"""A shop customer's name and e-mail change reach the existing AX customer (customer_sync,
CustomerService.upsert: a partial update whose DirParty, PersonName and contact records carry
their own action), once; the same message again writes nothing. Both sandboxes over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from connectors.dynamics_ax import EntityKey
from runtime.messages import Message
from runtime.yaml_flows import YamlFlow

pytestmark = pytest.mark.contract


@dataclass
class Ctx:
    store: Any


def _shop_message(customer: dict[str, Any], mid: str, event: str = "customer.updated") -> Message:
    return Message(id=mid, entity="customer", key=str(customer["id"]), source="prestashop", event=event,
                   payload={"id": customer["id"]}, idempotency_key=f"k-{mid}", source_version=customer["date_upd"])


async def _run(flow: YamlFlow, store: Any, msg: Message) -> dict[str, Any]:
    """Run the flow as the worker does, then record the message's source version."""
    detail = await flow.run(Ctx(store), msg)
    await store.put_sync_state(msg.entity, msg.key, source_version=msg.source_version)
    return detail


async def _ax_customer(ax: Any, account: str) -> dict[str, Any]:
    found = await ax.service("customer").read([EntityKey.of(AccountNum=account)])
    return found[0] if isinstance(found[0], dict) else dict(found[0])


def _party(doc: dict[str, Any]) -> dict[str, Any]:
    party = doc["DirParty"]
    return party[0] if isinstance(party, list) else party


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) else value


def _emails(party: dict[str, Any]) -> list[str]:
    return [c["Locator"] for c in party.get("DirPartyContactInfoView") or [] if c.get("Type") == "Email"]


async def test_a_shop_name_and_email_change_reach_the_ax_customer_once(ops, flows, shop, ax, store) -> None:
    customer = await shop.create("customers", {"lastname": "Party", "firstname": "Paula",
                                               "email": "paula.party@example.com", "passwd": "party-pass-1",
                                               "id_default_group": 3, "active": 1})
    customer = dict(await shop.get("customers", int(customer["id"])))
    flow = YamlFlow(flows.get("customer_sync"), ops)
    created = await _run(flow, store, _shop_message(customer, "P0", "customer.created"))
    account = created["results"]["load-ax"]["AccountNum"]
    party = _party(await _ax_customer(ax, account))
    assert party["Name"] == "Paula Party" and _emails(party) == ["paula.party@example.com"]

    # the shop renames the customer: AX's party name and person name follow
    await shop.update("customers", int(customer["id"]), {"lastname": "Partridge"})
    renamed = dict(await shop.get("customers", int(customer["id"])))
    detail = await _run(flow, store, _shop_message(renamed, "P1"))
    assert detail["status"] == "done" and "load-ax:ok" in detail["steps"], detail
    assert "DirParty" in detail["results"]["load-ax"]["updated"]
    doc = await _ax_customer(ax, account)
    party = _party(doc)
    assert party["Name"] == "Paula Partridge" and doc["Name"] == "Paula Partridge"
    assert _first(party["PersonName"])["LastName"] == "Partridge"
    assert _first(party["PersonName"])["FirstName"] == "Paula"
    assert _emails(party) == ["paula.party@example.com"]  # the e-mail did not change
    # the same message again: AX holds it, nothing is written
    version = doc["RecVersion"], doc["_DocumentHash"]
    again = await _run(flow, store, _shop_message(renamed, "P2"))
    assert "load-ax:unchanged" in again["steps"], again
    doc = await _ax_customer(ax, account)
    assert (doc["RecVersion"], doc["_DocumentHash"]) == version

    # the shop changes the login e-mail: AX's primary e-mail contact is updated in place
    await shop.update("customers", int(customer["id"]), {"email": "paula.new@example.com"})
    moved = dict(await shop.get("customers", int(customer["id"])))
    detail = await _run(flow, store, _shop_message(moved, "P3"))
    assert detail["status"] == "done" and "load-ax:ok" in detail["steps"], detail
    doc = await _ax_customer(ax, account)
    party = _party(doc)
    assert _emails(party) == ["paula.new@example.com"]  # updated, not a second contact
    assert party["Name"] == "Paula Partridge"
    hashed = doc["_DocumentHash"]
    again = await _run(flow, store, _shop_message(moved, "P4"))
    assert "load-ax:unchanged" in again["steps"], again
    assert (await _ax_customer(ax, account))["_DocumentHash"] == hashed
