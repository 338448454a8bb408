"""Exactly once, proven on Ray + Serve with both sandboxes over HTTP (issue 9, item 7): duplicate
webhooks, the webhook and the poller finding the same order, a customer update arriving before
its create, and AX business faults that dead-letter with a readable reason and complete with
``presta-ax dlq replay`` once the cause is fixed in AX. Every "exactly one AX sales order" is
counted from the AX sandbox's own data (a find on ``PurchOrderFormNum``), never from the journal.

The faults that need the sandboxes to misbehave (AX committing then timing out, a crash between
the AX create and the cross-reference, an AX outage, a shop 503/429 storm) are in
tests/chaos/test_exactly_once_faults.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig
from runtime.demo import DEMO_PRICE, demo_product
from tests.contract.runtime_operations.support import PS_KEY, place_order
from tests.e2e.exactly_once_support import (
    ax_customers,
    ax_orders,
    exactly_once_sandboxes,
    load_order_results,
    order_messages,
    settled,
    start_bridge,
    systems,
    wait_done,
)
from tests.e2e.support import TOKEN, signed, wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    with exactly_once_sandboxes(serve_port) as urls:
        yield urls


def _clients(ps_url: str, ax_url: str) -> tuple[Client, AxClient]:
    conf = systems(ps_url, ax_url)
    return Client(ClientConfig(**conf["prestashop"])), AxClient(AxConfig(**conf["ax"]))


def _order_event(order: dict[str, Any]) -> dict[str, Any]:
    """The data of the shop's ``order.created`` webhook for ``order`` (as the sandbox emits it)."""
    return {k: order[k] for k in ("id", "id_customer", "reference", "date_upd")}


# ---------------------------------------------------------------- 1. duplicate webhooks

async def test_a_burst_of_duplicate_webhooks_makes_one_ax_sales_order(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """The same webhook four times at once under one webhook-id, and the same change under three
    new webhook-ids, all before the bridge processed any: one message per webhook-id, and one
    AX sales order (the later runs find it by PurchOrderFormNum)."""
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control, \
            httpx.AsyncClient(base_url=bridge.url, timeout=10) as http:
        # the shop's own webhook is held back: this test is the sender
        assert (await control.put("/_sandbox/webhooks", json={"paused": True})).json()["paused"] is True
        order = await place_order(shop, "dup.burst@example.com")
        key = str(order["id"])
        same_id = [signed("order.created", _order_event(order), wid="evt_burst_1") for _ in range(4)]
        new_ids = [signed("order.created", _order_event(order), wid=f"evt_burst_again_{n}") for n in range(3)]

        async def post(item: tuple[bytes, dict[str, str]]) -> httpx.Response:
            return await http.post("/webhooks/prestashop", content=item[0], headers=item[1])
        answers = await asyncio.gather(*(post(i) for i in same_id + new_ids))
        first = answers[:4]
        assert sorted(r.status_code for r in first) == [200, 200, 200, 202]
        assert len({r.json()["message_id"] for r in first}) == 1  # the duplicates name the original
        assert all(r.json().get("duplicate") is True for r in first if r.status_code == 200)
        assert {r.status_code for r in answers[4:]} == {202}  # a new delivery id is a new event

        await wait_done(store, [key])
        msgs = order_messages(store, key)
        assert len(msgs) == 4 and {m.status for m in msgs} == {"done"}
        (found,) = await ax_orders(ax, order["reference"])
        results = [load_order_results(store, m.id) for m in msgs]
        assert sorted(r["existed"] for r in results) == [False, True, True, True]
        assert {r["SalesId"] for r in results} == {found.sales_id}
        assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id
    await settled(store)
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()


# ---------------------------------------------------------------- 2. webhook and poller

async def test_a_webhook_for_an_order_the_poller_brought_first_is_the_same_message(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """The poller journals an order before its webhook arrives (the other way round from
    test_ps_poller_safety_net): the late webhook, under its own webhook-id and even under a
    second one, is answered as a duplicate of the poll's message; one message, one AX order."""
    ps_url, ax_url = sandboxes
    limits = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 1.0,
              "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url, limits=limits)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control, \
            httpx.AsyncClient(base_url=bridge.url, timeout=10) as http:
        assert (await control.put("/_sandbox/webhooks", json={"paused": True})).json()["paused"] is True
        order = await place_order(shop, "poll.first@example.com")
        key = str(order["id"])

        async def polled() -> bool:
            return bool(order_messages(store, key))
        await wait_until(polled, timeout_s=60)
        (polled_msg,) = order_messages(store, key)
        assert polled_msg.payload["found_by"] == "poll"

        for wid in ("evt_late_1", "evt_late_2"):  # the webhook, late, and a redelivery under a new id
            body, headers = signed("order.created", _order_event(order), wid=wid)
            r = await http.post("/webhooks/prestashop", content=body, headers=headers)
            assert r.status_code == 200 and r.json() == {"message_id": polled_msg.id, "duplicate": True}

        await wait_done(store, [key])
        (message,) = order_messages(store, key)
        assert message.status == "done" and message.id == polled_msg.id
        (found,) = await ax_orders(ax, order["reference"])
        assert store.get_xref("order", ps_id=key)["ax_id"] == found.sales_id

        # the poller passes the order again (its write-back changed date_upd): still one AX order
        async def polled_past_write_back() -> bool:
            now = await shop.get("orders", int(key), display=["id", "date_upd"])
            state = store.get_cursor("ps:orders") or {}
            return str(state.get("cursor", "")) >= str(now["date_upd"])
        await wait_until(polled_past_write_back, timeout_s=60)
        await settled(store)
        assert len(order_messages(store, key)) == 1
        assert len(await ax_orders(ax, order["reference"])) == 1
    assert store.counts()["order"].get("dead", 0) == 0
    store.close()


# ---------------------------------------------------------------- 5. update before create

async def test_a_customer_update_arriving_before_its_create_ends_with_the_newest_data_in_ax(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """The shop creates a customer, then renames them; the webhooks arrive the other way round
    (the update, then the create). AX ends with one customer holding the newest name, and the
    late create is not applied over it."""
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as control, \
            httpx.AsyncClient(base_url=bridge.url, timeout=10) as http:
        customer = await shop.create("customers", {"lastname": "Early", "firstname": "Olga",
                                                   "email": "olga.early@example.com", "passwd": "olga-pass-1",
                                                   "id_default_group": 3, "active": 1})
        created = {k: customer[k] for k in ("id", "date_upd")}
        # the shop's clock moves on, so the rename has a newer date_upd
        assert (await control.put("/_sandbox/clock", json={"offset_s": 5})).status_code == 200
        renamed = await shop.update("customers", int(customer["id"]), {"lastname": "Later", "firstname": "Olga",
                                                                       "email": "olga.later@example.com"})
        updated = {"id": renamed["id"], "date_upd": renamed["date_upd"]}
        assert updated["date_upd"] > created["date_upd"]
        key = str(customer["id"])

        def customer_messages() -> list[Any]:
            return store.list_messages(entity="customer", key=key)

        body, headers = signed("customer.updated", updated)
        assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code == 202

        async def update_done() -> bool:
            return any(m.event == "customer.updated" and m.status in ("done", "dead") for m in customer_messages())
        await wait_until(update_done, timeout_s=45)
        body, headers = signed("customer.created", created)
        assert (await http.post("/webhooks/prestashop", content=body, headers=headers)).status_code == 202

        async def create_finished() -> bool:
            return any(m.event == "customer.created" and m.status in ("done", "dead") for m in customer_messages())
        await wait_until(create_finished, timeout_s=45)

        by_event = {m.event: m for m in customer_messages() if m.source == "prestashop"}
        assert by_event["customer.updated"].status == "done"
        late = by_event["customer.created"]
        assert late.status == "done"
        assert store.timeline(late.id)[-1]["kind"] == "skipped_stale"  # older than what was applied
        account = store.get_xref("customer", ps_id=key)["ax_id"]
        (ax_customer,) = await ax_customers(ax, account)
        doc = await ax.service("customer").read([EntityKey.of(AccountNum=account)])
        party = doc[0]["DirParty"][0]
        assert party["Name"] == "Olga Later" and ax_customer.account_num == account
        emails = [c["Locator"] for c in party.get("DirPartyContactInfoView") or [] if c.get("Type") == "Email"]
        assert emails == ["olga.later@example.com"]
    store.close()


# ---------------------------------------------------------------- 6. business faults + replay

async def _place_order_for(shop: Client, customer_id: int, address_id: int, reference: str,
                           quantity: int = 1) -> dict[str, Any]:
    """A paid order of an existing shop customer (cart -> order), like ``place_order``."""
    product = await demo_product(shop, reference)
    secure_key = (await shop.get("customers", customer_id))["secure_key"]
    cart = await shop.create("carts", {
        "id_currency": 1, "id_lang": 1, "id_customer": customer_id, "id_address_delivery": address_id,
        "id_address_invoice": address_id, "id_carrier": 1, "secure_key": secure_key,
        "associations": {"cart_rows": [{"id_product": product["id"], "id_product_attribute": 0,
                                        "id_address_delivery": address_id, "quantity": quantity}]},
    })
    total = (DEMO_PRICE * Decimal("1.2") * quantity).quantize(Decimal("0.01"))
    return dict(await shop.create("orders", {
        "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1, "id_lang": 1,
        "id_customer": customer_id, "id_carrier": 1, "id_address_delivery": address_id,
        "id_address_invoice": address_id, "total_paid": str(total), "total_paid_real": "0",
        "total_products": str(DEMO_PRICE * quantity), "total_products_wt": str(total), "conversion_rate": 1,
    }))


async def _replay(bridge: Any, message_id: str) -> str:
    """``presta-ax dlq replay <id>`` against the running bridge (its URL and admin token)."""
    from runtime.cli import app

    result = await asyncio.to_thread(CliRunner().invoke, app,
                                     ["dlq", "replay", message_id, "--url", bridge.url, "--token", TOKEN])
    assert result.exit_code == 0, result.output
    return result.output


async def test_ax_business_faults_dead_letter_readably_and_replay_completes_after_the_fix(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:
    """An order of an item AX does not know, and an order of a customer AX blocked, go to the
    dead-letter queue at once with AX's reason; once the item is released and the customer
    unblocked in AX, ``presta-ax dlq replay`` completes each, with one AX sales order each."""
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url)
    shop, ax = _clients(ps_url, ax_url)
    async with shop, ax, httpx.AsyncClient(base_url=ax_url, timeout=10) as ax_control:
        # the unknown item: the shop sells A0009, the AX company (items A0001..A0005) has none
        unknown = await place_order(shop, "unknown.item@example.com", quantity=1, reference="A0009")
        # the blocked customer: a first order makes them an AX customer, AX then blocks them
        first = await place_order(shop, "blocked.buyer@example.com", quantity=1)
        await wait_done(store, [str(first["id"]), str(unknown["id"])])
        account = store.get_xref("customer", ps_id=str(first["id_customer"]))["ax_id"]
        await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": "All"},
                                            idempotency_key="test-block-1")
        blocked = await _place_order_for(shop, int(first["id_customer"]), int(first["id_address_delivery"]),
                                         "A0001")
        await wait_done(store, [str(blocked["id"])])

        (dead_item,) = order_messages(store, str(unknown["id"]))
        (dead_blocked,) = order_messages(store, str(blocked["id"]))
        assert dead_item.status == "dead" and dead_item.attempts == 1  # at once, not after retries
        assert dead_blocked.status == "dead" and dead_blocked.attempts == 1
        item_reason = dead_item.last_error["message"]
        assert dead_item.last_error["type"] == "ValidationError" and "A0009" in item_reason
        assert "The value 'A0009' in field 'Item number' is not found in the relating table 'Released products'" \
            in item_reason and "Request Failed" not in item_reason
        blocked_reason = dead_blocked.last_error["message"]
        assert dead_blocked.last_error["type"] == "ValidationError"
        assert f"Customer {account} is blocked" in blocked_reason
        assert await ax_orders(ax, unknown["reference"]) == [] and await ax_orders(ax, blocked["reference"]) == []

        # the fixes, in AX: the item is released (sandbox control: product + released item) and
        # the customer unblocked (AIF update)
        r = await ax_control.post("/_sandbox/items", json={"item_id": "A0009", "price": "12.50"})
        assert r.status_code == 200, r.text
        await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": "No"},
                                            idempotency_key="test-unblock-1")
        for message in (dead_item, dead_blocked):
            assert "replayed" in await _replay(bridge, message.id)
        await wait_done(store, [str(unknown["id"]), str(blocked["id"])])
        for order, message in ((unknown, dead_item), (blocked, dead_blocked)):
            (again,) = order_messages(store, str(order["id"]))
            assert again.id == message.id and again.status == "done"
            (found,) = await ax_orders(ax, order["reference"])
            assert store.get_xref("order", ps_id=str(order["id"]))["ax_id"] == found.sales_id
        assert store.counts()["order"].get("dead", 0) == 0
    store.close()
