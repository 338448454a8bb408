"""AX master data reaches the shop on Ray + Serve with both sandboxes over HTTP: an AX customer
edit, an AX-only customer (with its address), an AX on-hand change and an AX sales price change
each arrive in the shop through the AX pollers and their flows; the bridge's own writes come
back as echoes that end ``skipped_echo`` in both directions and write nothing (the shop's
``date_upd``, AX's ``RecVersion``/``_DocumentHash`` unchanged), and the journal settles."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.prestashop import Client, ClientConfig, F
from pipelines.operations import SystemOperations
from runtime.demo import SANDBOX_WAREHOUSES, link_catalog
from runtime.store import Store
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir
from tests.e2e.support import wait_until
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture

pytestmark = pytest.mark.e2e

LIMITS = {"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 0.5,
          "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}}
ITEMS = ["A0001", "A0002"]
_PENDING = ("new", "processing", "retry")


async def _ax_quantity(ax: AxClient, item: str) -> int:
    rows = await ax.read_on_hand(item)
    return int(sum((r.avail_physical for r in rows if r.warehouse in SANDBOX_WAREHOUSES),
                   Decimal(0)))


async def _shop_quantity(shop: Client, product_id: str) -> int | None:
    rows = await shop.list("stock_availables", display="full",
                           filters={"id_product": F.eq(int(product_id)), "id_product_attribute": F.eq(0)})
    return int(rows[0]["quantity"]) if rows else None


async def _ax_version(ax: AxClient, account: str) -> tuple[Any, Any]:
    """The customer's ``RecVersion`` and ``_DocumentHash``: both move with any write to it."""
    found = (await ax.service("customer").read([EntityKey.of(AccountNum=account)]))[0]
    doc = dict(found) if isinstance(found, dict) else {"RecVersion": found.RecVersion,
                                                       "_DocumentHash": found.document_hash}
    return doc["RecVersion"], doc["_DocumentHash"]


def _outcome(store: Store, message_id: str) -> str | None:
    """How a finished message ended: the kind of its last timeline event."""
    events = store.timeline(message_id)
    return events[-1]["kind"] if events else None


async def _nonempty(rows: Any) -> bool:
    return bool(await rows)


def _describe(messages: list[Any]) -> list[tuple[Any, ...]]:
    return [(m.entity, m.key, m.source, m.event, m.status, m.flow, m.last_error) for m in messages]


async def test_ax_master_data_reaches_the_shop_and_nothing_comes_back(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    ps_config = {"base_url": ps_url, "api_key": PS_KEY}
    ax_config = {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}
    await link_catalog(ClientConfig(**ps_config), ITEMS)  # the shop sells these AX items
    bridge = bridge_factory(systems={"prestashop": ps_config, "ax": ax_config}, flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))])
    store = Store(bridge.settings.store_url())
    async with Client(ClientConfig(**ps_config)) as shop, AxClient(AxConfig(**ax_config)) as ax, \
            httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
        products = {}
        for item in ITEMS:
            (row,) = await shop.list("products", display=["id", "reference"], filters={"reference": F.eq(item)})
            products[item] = str(row["id"])

        # stock: the first stock poll gives the shop AX's figure of every item it sells ...
        async def stock_is(item: str, quantity: int) -> bool:
            return await _shop_quantity(shop, products[item]) == quantity
        expected = await _ax_quantity(ax, "A0001")
        await wait_until(lambda: stock_is("A0001", expected), timeout_s=60)

        # ... and a change in AX reaches the shop's stock_availables
        (await http.post("/_sandbox/stock", json={"item_id": "A0001", "warehouse": SANDBOX_WAREHOUSES[0],
                                                   "qty": "-4"})).raise_for_status()
        changed = await _ax_quantity(ax, "A0001")
        assert changed == expected - 4
        await wait_until(lambda: stock_is("A0001", changed), timeout_s=60)

        # price: the AX base sales price becomes the shop product's price
        (await http.post("/_sandbox/prices", json={"item_id": "A0002", "price": "23.50"})).raise_for_status()

        async def priced() -> bool:
            product = await shop.get("products", int(products["A0002"]), display=["id", "price"])
            return Decimal(str(product["price"])) == Decimal("23.50")
        await wait_until(priced, timeout_s=60)

        # customer: a shop customer the bridge carries to AX (the shop poller finds it) ...
        email = f"e2e.master.{uuid.uuid4().hex[:8]}@example.com"
        customer = await shop.create("customers", {"lastname": "Master", "firstname": "Mia", "email": email,
                                                   "passwd": "buyer-pass-1", "id_default_group": 3, "active": 1})
        await shop.create("addresses", {"id_customer": customer["id"], "id_country": 8, "alias": "Home",
                                        "lastname": "Master", "firstname": "Mia", "address1": "3 rue de Rivoli",
                                        "postcode": "75001", "city": "Paris"})
        shop_written = (await shop.get("customers", int(customer["id"]), display=["id", "date_upd"]))["date_upd"]

        async def in_ax() -> bool:
            return store.get_xref("customer", ps_id=str(customer["id"])) is not None
        try:
            await wait_until(in_ax, timeout_s=60)
        except AssertionError:
            raise AssertionError(f"the shop customer did not reach AX: "
                                 f"{_describe(store.list_messages(entity='customer', limit=50))}") from None
        account = store.get_xref("customer", ps_id=str(customer["id"]))["ax_id"]

        # ... and AX's poll of that create is its echo: skipped, nothing written to the shop
        async def ax_echo_finished() -> bool:
            return any(m.status == "done" for m in store.list_messages(entity="customer", key=account, limit=10))
        await wait_until(ax_echo_finished, timeout_s=60)
        (ax_echo,) = store.list_messages(entity="customer", key=account, limit=10)
        assert ax_echo.source == "ax" and _outcome(store, ax_echo.id) == "skipped_echo", _describe([ax_echo])
        await asyncio.sleep(1.0)  # one more shop poll: the shop customer is as the shopper left it
        assert (await shop.get("customers", int(customer["id"]), display=["id", "date_upd"]))["date_upd"] == \
            shop_written

        # an AX edit (blocked) reaches the shop as an inactive customer ...
        await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": "All"},
                                            idempotency_key=f"e2e-{uuid.uuid4().hex}")
        ax_edited = await _ax_version(ax, account)

        async def customer_in_shop() -> bool:
            return str((await shop.get("customers", int(customer["id"]), display=["id", "active"]))["active"]) == "0"
        try:
            await wait_until(customer_in_shop, timeout_s=60)
        except AssertionError:
            raise AssertionError(f"the AX customer edit did not reach the shop: "
                                 f"{_describe(store.list_messages(entity='customer', limit=50))}") from None
        ps_written = (await shop.get("customers", int(customer["id"]), display=["id", "date_upd"]))["date_upd"]

        # ... and the shop's echo of that write (customer and address polls) is skipped: AX is untouched
        def shop_echoes() -> list[Any]:
            return [m for m in store.list_messages(entity="customer", key=str(customer["id"]), limit=100)
                    if m.source_version == ps_written]

        async def shop_echo_finished() -> bool:
            found = shop_echoes()
            return bool(found) and all(m.status == "done" for m in found)
        await wait_until(shop_echo_finished, timeout_s=60)
        assert [_outcome(store, m.id) for m in shop_echoes()] == ["skipped_echo"] * len(shop_echoes()), \
            _describe(shop_echoes())

        # an AX-only customer (created in AX, unknown to the shop) becomes a shop customer with its address
        only = f"AXO-{uuid.uuid4().hex[:6].upper()}"
        only_email = f"{only.lower()}@example.com"
        ax_ops = SystemOperations(None, AxConfig(**ax_config))
        try:
            await ax_ops.call("ax", "CustomerService.create", {
                "AccountNum": only, "CustGroup": "WEB", "Currency": "EUR",
                "DirParty": {"Name": "Lena Vogel", "LanguageId": "en-us",
                             "PersonName": {"FirstName": "Lena", "LastName": "Vogel"},
                             "DirPartyContactInfoView": [{"Type": "Email", "Locator": only_email,
                                                          "LocationName": "E-mail", "IsPrimary": "Yes"}],
                             "DirPartyPostalAddressView": [{"LocationName": "Home", "Street": "Schillerstrasse 4",
                                                            "ZipCode": "10625", "City": "Berlin",
                                                            "CountryRegionId": "DEU", "Roles": "Delivery;Invoice"}]},
            }, mode=None, context={"message": {"id": f"e2e-{only}", "key": only, "source": "test"}}, step="setup")
        finally:
            await ax_ops.aclose()

        async def only_in_shop() -> bool:
            return bool(await shop.list("customers", filters={"email": F.eq(only_email)}))
        try:
            await wait_until(only_in_shop, timeout_s=60)
        except AssertionError:
            raise AssertionError(f"the AX-only customer did not reach the shop: "
                                 f"{_describe(store.list_messages(entity='customer', key=only, limit=50))}") from None
        (shop_only,) = await shop.list("customers", display="full", filters={"email": F.eq(only_email)})
        assert (shop_only["firstname"], shop_only["lastname"], shop_only["active"]) == ("Lena", "Vogel", "1")
        assert store.get_xref("customer", ax_id=only)["ps_id"] == str(shop_only["id"])

        async def only_address() -> list[Any]:
            return await shop.list("addresses", display="full", filters={"id_customer": F.eq(int(shop_only["id"]))})
        await wait_until(lambda: _nonempty(only_address()), timeout_s=30)
        assert [(a["alias"], a["address1"], a["postcode"], a["city"], a["id_country"])
                for a in await only_address()] == [("Home", "Schillerstrasse 4", "10625", "Berlin", "1")]
        # what AX said about the customers until now (the echo, the edit, the AX-only customer)
        ax_seen = {m.id for m in store.list_messages(entity="customer", limit=1000) if m.source == "ax"}
        assert ax_seen

        # the bridge's own writes do not come back: the journal settles (no message added over
        # several rounds of every poll, nothing pending), and the shop's echo of the AX customer
        # edit never went back to AX (AX would have changed again: one more customer.changed)
        async def settled() -> bool:
            before = len(store.list_messages(limit=10000))
            await asyncio.sleep(3.0)  # the stock poll runs every 0.5 s here, the others too
            counts = store.counts()
            pending = any(counts.get(e, {}).get(s) for e in counts for s in _PENDING)
            return not pending and len(store.list_messages(limit=10000)) == before
        try:
            await wait_until(settled, timeout_s=120)
        except AssertionError:
            raise AssertionError(f"the journal never settled: {_describe(store.list_messages(limit=30))}") from None
        back_in_ax = [m for m in store.list_messages(entity="customer", limit=1000)
                      if m.source == "ax" and m.id not in ax_seen]
        assert back_in_ax == [], _describe(back_in_ax)
        # nothing was written back to AX by the shop's echoes: the edited customer is as the edit left it
        assert await _ax_version(ax, account) == ax_edited
        # and every shop message about the AX-only customer (its creation and address, found by
        # the shop poller) is the echo of the bridge's own writes
        only_back = store.list_messages(entity="customer", key=str(shop_only["id"]), limit=100)
        assert only_back and [_outcome(store, m.id) for m in only_back] == ["skipped_echo"] * len(only_back), \
            _describe(only_back)

        mine = [m for e in ("stock", "price", "customer") for m in store.list_messages(entity=e, limit=1000)]
        assert {m.event for m in mine} >= {"stock.changed", "item.changed", "customer.changed"}
        assert not [m for m in mine if m.status == "dead"], [(m.entity, m.key, m.last_error) for m in mine
                                                             if m.status == "dead"]
        stock_messages = [m for m in mine if m.entity == "stock" and m.key == "A0001"]
        assert len(stock_messages) == 2  # the first figure and the one change
        assert await _shop_quantity(shop, products["A0001"]) == changed
    store.close()
