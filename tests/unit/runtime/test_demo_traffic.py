"""The demo's traffic generator and summary line (runtime/demo_traffic.py), without Ray.

The summary is read from a real store (SQLite) filled through the store's own API; the traffic
events run against both sandboxes over HTTP (each in a thread of this process) and are checked
in the sandboxes' own data."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from runtime.demo import link_catalog
from runtime.demo_traffic import MAX_RATE_PER_S, DemoTraffic, Summary, TrafficGenerator, read_summary
from runtime.messages import Message, new_message_id
from runtime.store import Store

pytestmark = pytest.mark.unit

KEY = "DEMOTRAFFICKEY0123456789ABCDEFGH"


def _msg(store: Store, entity: str, key: str, event: str, **payload: Any) -> str:
    mid, created = store.append(Message(id=new_message_id(), entity=entity, key=key, source="test", event=event,
                                        payload=payload, idempotency_key=new_message_id()))
    assert created
    return mid


def _finish(store: Store, entity: str, key: str, how: str) -> None:
    """Claim the record's next message and finish it: ``done``/``skipped_echo``/``retry``/``dead``."""
    claimed = store.claim_next(entity, key, 30)
    assert claimed is not None
    msg, token = claimed
    if how in ("attempt_succeeded", "skipped_echo"):
        assert store.complete(msg.id, token, flow="f", kind=how)
    else:
        retry_at = time.time() + 60 if how == "retry" else None
        assert store.fail(msg.id, token, {"type": "X", "message": "x"}, retry_at=retry_at) == how


def test_the_summary_counts_what_the_store_holds(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'journal.db'}")
    # three shop orders, one of them announced twice (webhook and poller with different keys)
    for key in ("1", "2", "3", "3"):
        _msg(store, "order", key, "order.created")
    _msg(store, "order", "1", "order.updated")  # not a new order
    store.put_xref("order", "1", "SO-1")
    store.put_xref("order", "2", "SO-2")
    # SO-1 packed and invoiced; SO-2 packed but not processed yet; SO-9 is not a shop order
    for key, event, sales_id, how in (("PS-1", "packing_slip.posted", "SO-1", "attempt_succeeded"),
                                      ("I-1", "invoice.posted", "SO-1", "attempt_succeeded"),
                                      ("PS-9", "packing_slip.posted", "SO-9", "attempt_succeeded"),
                                      ("PS-2", "packing_slip.posted", "SO-2", None)):
        _msg(store, "shipment", key, event, SalesId=sales_id)
        if how:
            _finish(store, "shipment", key, how)
    for entity, key, how in (("customer", "c1", "attempt_succeeded"), ("customer", "c2", "attempt_succeeded"),
                             ("customer", "c3", "skipped_echo"), ("customer", "c4", "skipped_echo"),
                             ("stock", "A0001", "attempt_succeeded"), ("price", "A0004", "retry"),
                             ("stock", "A0002", "dead")):
        _msg(store, entity, key, f"{entity}.changed")
        _finish(store, entity, key, how)
    store.add_conflicts([{"entity": "customer", "key": "c1", "field": f, "winner": "ax", "rule": "r"}
                         for f in ("CustGroup", "CreditMax")])

    s = read_summary(store)
    store.close()
    # pending: orders 1, 2, 3 (twice), 1's update and PS-2 are still new
    assert s == Summary(orders_received=3, orders_in_ax=2, orders_shipped=1, orders_invoiced=1, customers_synced=2,
                        stock_synced=1, prices_synced=0, pending=6, retrying=1, dead=1, echoes_skipped=2, conflicts=2)
    assert s.line(at=0).split(" ", 2)[2] == (
        "orders 3 received, 2 in AX, 1 shipped, 1 invoiced | synced: 2 customers, 1 stock, 0 prices | "
        "messages: 6 pending, 1 retrying, 1 dead | 2 echoes skipped | 2 conflicts")


def test_the_summary_line_is_printed_every_interval_and_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    Store(url).close()
    lines: list[str] = []
    traffic = DemoTraffic(url, lines.append, every_s=0.1).start()
    deadline = time.monotonic() + 10
    while len(lines) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    traffic.stop(timeout_s=5)
    assert not traffic._thread.is_alive()
    count = len(lines)
    time.sleep(0.3)
    assert len(lines) == count >= 2  # nothing printed after stop
    assert re.fullmatch(r"summary \d\d:\d\d:\d\d orders 0 received, 0 in AX, .* \| 0 conflicts", lines[0]), lines[0]


@pytest.fixture
def sandboxes() -> Iterator[tuple[str, str]]:
    with run_ps(SandboxConfig.simple(KEY, seed=3)) as ps_url, \
            run_ax(AxSandboxConfig(seed=4, items=5, customers=3, open_orders=0)) as ax_url:
        yield ps_url, ax_url


async def test_each_traffic_event_changes_the_sandbox_it_targets(sandboxes: tuple[str, str]) -> None:
    ps_url, ax_url = sandboxes
    ps_config = ClientConfig(base_url=ps_url, api_key=KEY)
    ax_config = AxConfig(base_url=ax_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT")
    await link_catalog(ps_config, ["A0001", "A0002"])
    async with Client(ps_config) as shop, AxClient(ax_config) as ax, \
            httpx.AsyncClient(base_url=ax_url, timeout=10) as control:
        (ax_customer,) = (await ax.find("customer", [eq("CustTable", "CustGroup", "WEB")]))[:1]
        account = str(ax_customer.account_num)
        linked: list[tuple[str, str]] = []  # (shop customer, AX account) pairs, as the store would give
        gen = TrafficGenerator(ps_config, ax_config, ax_url, ["A0001"], ["A0002"],
                               accounts=lambda: linked, rng=random.Random(7), rate_per_s=100)
        assert gen.interval_s == 1 / MAX_RATE_PER_S

        before = {str(o["id"]) for o in await shop.list("orders", display=["id"])}
        assert await gen.event("order", shop, ax, control)
        new = [o for o in await shop.list("orders", display="full") if str(o["id"]) not in before]
        assert len(new) == 1 and new[0]["current_state"] == "11"  # paid: the total is the shop's own
        assert not await gen.event("shop_customer", shop, ax, control)  # no linked customer yet: none
        assert not await gen.event("ax_customer", shop, ax, control)
        customer = str(new[0]["id_customer"])
        linked.append((customer, account))

        async def on_hand() -> Decimal:
            return sum((r.avail_physical for r in await ax.read_on_hand("A0001") if r.warehouse == "11"), Decimal(0))
        gen.order_items = ["A0001"]
        gen.price_items = []
        stock_before = await on_hand()
        assert await gen.event("stock", shop, ax, control)
        assert await on_hand() != stock_before
        assert not await gen.event("price", shop, ax, control)  # nothing to reprice: no event

        gen.price_items = ["A0002"]
        item_before = (await ax.service("item").read([EntityKey.of(ItemId="A0002")]))[0]
        agreements_before = len(await ax.service("price_agreement").find([eq("PriceDiscTable", "ItemRelation", "A0002")])) \
            if "price_agreement" in _entities() else None
        for _ in range(4):  # both kinds of price change (random by half)
            assert await gen.event("price", shop, ax, control)
        item_after = (await ax.service("item").read([EntityKey.of(ItemId="A0002")]))[0]
        changed_price = str(item_before) != str(item_after)
        more_agreements = agreements_before is not None and len(
            await ax.service("price_agreement").find([eq("PriceDiscTable", "ItemRelation", "A0002")])) > agreements_before
        assert changed_price and more_agreements

        names = set()
        for _ in range(4):
            assert await gen.event("shop_customer", shop, ax, control)
            names.add((await shop.get("customers", int(customer)))["lastname"])
        assert len(names) > 1  # each edit is a PUT that changed the shop's customer

        credit_before = (await ax.service("customer").read([EntityKey.of(AccountNum=account)]))[0].get("CreditMax")
        for _ in range(3):  # the third AX edit also edits the shop side
            assert await gen.event("ax_customer", shop, ax, control)
        assert (await ax.service("customer").read([EntityKey.of(AccountNum=account)]))[0].get("CreditMax") != credit_before
        assert gen.made == {"order": 1, "stock": 1, "price": 4, "shop_customer": 5, "ax_customer": 3}
        assert gen.failed == 0

        # a refused event is counted and the generator goes on
        gen.order_items = ["NO-SUCH-ITEM"]
        assert not await gen.event("stock", shop, ax, control)
        assert gen.failed == 1


def _entities() -> set[str]:
    from connectors.dynamics_ax.client import ENTITIES

    return set(ENTITIES)


async def test_the_generator_runs_until_stopped(sandboxes: tuple[str, str]) -> None:
    ps_url, ax_url = sandboxes
    ps_config = ClientConfig(base_url=ps_url, api_key=KEY)
    ax_config = AxConfig(base_url=ax_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT")
    await link_catalog(ps_config, ["A0001"])
    gen = TrafficGenerator(ps_config, ax_config, ax_url, ["A0001"], [], rate_per_s=5, rng=random.Random(1))
    stop = asyncio.Event()
    task = asyncio.create_task(gen.run(stop))
    while sum(gen.made.values()) + gen.failed < 3:
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.wait_for(task, timeout=10)
    assert sum(gen.made.values()) >= 3
    # customer edits need a linked customer: none here, so they were skipped, not failed
    assert set(gen.made) <= {"order", "stock"} and gen.failed == 0
