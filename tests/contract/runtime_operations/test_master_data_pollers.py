"""The AX master-data pollers against the AX sandbox (and the shop sandbox) over HTTP, on both
store backends: customers and trade agreements by change tracking (``getChangedKeys`` from a
durable cursor), on-hand stock by paging the shop's published items and hashing their figure."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.sandbox.config import SandboxConfig as AxSandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread as run_ax
from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread as run_ps
from pipelines.registry import FlowRegistry as YamlRegistry
from runtime.demo import link_catalog
from runtime.messages import Message
from runtime.pollers import AxPoller, PollRoute, cursor_name, poll_routes
from runtime.pollers_stock import StockPoller, _stock_mapping
from runtime.store import AsyncStore, Store, version_newer_or_equal
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir

CUSTOMERS = PollRoute("customer_sync", "customer", "CustomerService")
AGREEMENTS = PollRoute("ax_price_to_ps", "price", "PriceDiscTableService")
ITEMS = PollRoute("ax_price_to_ps", "price", "ItemService")
STOCK = PollRoute("ax_stock_to_ps", "stock", "InventoryOnHandService", "5s")
LINKED = ["A0001", "A0002"]


@pytest.fixture(scope="module")
def ax_url() -> Iterator[str]:
    with run_ax(AxSandboxConfig(seed=11, items=4, customers=3, open_orders=0)) as url:
        yield url


@pytest.fixture(scope="module")
def ps_url() -> Iterator[str]:
    with run_ps(SandboxConfig(api_keys=[ApiKey(key=SecretStr(PS_KEY))], seed=12)) as url:
        yield url


@pytest.fixture
async def ax(ax_url: str) -> AsyncIterator[AxClient]:
    async with AxClient(AxConfig(base_url=ax_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                                 company="DAT")) as client:
        yield client


@pytest.fixture
async def shop(ps_url: str) -> AsyncIterator[Client]:
    config = ClientConfig(base_url=ps_url, api_key=PS_KEY)
    await link_catalog(config, LINKED)  # shop products whose references are AX items
    async with Client(config) as client:
        yield client


@pytest.fixture
def journal(store_url: str) -> Iterator[AsyncStore]:
    store = AsyncStore(Store(store_url))
    yield store
    store.close()


async def messages(store: AsyncStore, entity: str) -> list[Message]:
    return list(await store.list_messages(entity=entity, limit=1000))


async def new_since(store: AsyncStore, entity: str, seen: list[Message]) -> list[Message]:
    ids = {m.id for m in seen}
    return [m for m in await messages(store, entity) if m.id not in ids]


def test_the_default_flows_poll_master_data_with_the_events_their_routes_expect() -> None:
    routes = {(r.flow, r.service): (r.entity, r.event, r.every) for r in poll_routes(YamlRegistry([]).flows())}
    assert routes[("customer_sync", "CustomerService")] == ("customer", "customer.changed", "5m")
    assert routes[("ax_product_to_ps", "EcoResProductService")] == ("product", "product.changed", "5m")
    assert routes[("ax_price_to_ps", "PriceDiscTableService")][:2] == ("price", "price.changed")
    assert routes[("ax_price_to_ps", "ItemService")][:2] == ("price", "item.changed")
    assert routes[("ax_stock_to_ps", "InventoryOnHandService")] == ("stock", "stock.changed", "5s")


async def test_a_customer_changed_in_ax_is_one_message_and_the_overlap_adds_none(
        ax: AxClient, journal: AsyncStore) -> None:
    poller = AxPoller(journal, ax, [CUSTOMERS])
    await poller.poll()  # the first poll starts the cursor
    before = await messages(journal, "customer")
    page = await ax.service("customer").get_keys(page_size=1)
    account = page.keys[0].value
    (current,) = await ax.service("customer").read([EntityKey.of(AccountNum=account)])
    blocked = "No" if current.get("Blocked") == "All" else "All"  # the sandbox is shared by both backends
    await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": blocked},
                                        idempotency_key=f"test-{uuid.uuid4().hex}")

    assert await poller.poll() == {"CustomerService": 1}
    (message,) = await new_since(journal, "customer", before)
    assert message.key == account
    assert (message.source, message.event, message.entity) == ("ax", "customer.changed", "customer")
    assert message.idempotency_key == (f"ax:CustomerService:{account}:{message.payload['rec_id']}:"
                                       f"{message.payload['rec_version']}")
    assert int(message.payload["rec_id"]) > 0
    assert await journal.get_cursor(cursor_name("CustomerService")) is not None

    # listed again inside the overlap window: nothing new
    assert await poller.poll() == {"CustomerService": 0}
    assert len(await messages(journal, "customer")) == len(before) + 1

    # changed again: a second message whose source version is newer than the first's, so the
    # worker applies it (AX's RecVersion is random and cannot order the two; the read time can)
    await ax.service("customer").update(EntityKey.of(AccountNum=account), {"Blocked": blocked == "All" and "No" or "All"},
                                        idempotency_key=f"test-{uuid.uuid4().hex}")
    assert await poller.poll() == {"CustomerService": 1}
    (second,) = await new_since(journal, "customer", [*before, message])
    assert version_newer_or_equal(second.source_version, message.source_version)
    assert second.source_version != message.source_version


async def test_a_changed_trade_agreement_line_is_a_price_message_of_its_item(
        ax_url: str, ax: AxClient, journal: AsyncStore) -> None:
    poller = AxPoller(journal, ax, [AGREEMENTS, ITEMS])
    await poller.poll()
    before = await messages(journal, "price")
    async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
        line = (await http.post("/_sandbox/price_agreements",
                                json={"item_id": "A0002", "amount": "8.50", "account_code": "All"})).json()
    assert await poller.poll() == {"PriceDiscTableService": 1, "ItemService": 0}
    (message,) = await new_since(journal, "price", before)
    assert (message.key, message.event) == ("A0002", "price.changed")
    assert message.idempotency_key == (f"ax:PriceDiscTableService:A0002:{line['rec_id']}:"
                                       f"{message.payload['rec_version']}")
    assert await poller.poll() == {"PriceDiscTableService": 0, "ItemService": 0}
    before = await messages(journal, "price")

    # the base sales price lives on the released item
    async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
        (await http.post("/_sandbox/prices", json={"item_id": "A0003", "price": "12.40"})).raise_for_status()
    assert await poller.poll() == {"PriceDiscTableService": 0, "ItemService": 1}
    latest = await new_since(journal, "price", before)
    assert [(m.key, m.event) for m in latest] == [("A0003", "item.changed")]


async def test_stock_is_journaled_only_for_items_whose_figure_changed(
        ax_url: str, ax: AxClient, shop: Client, journal: AsyncStore, tmp_path: Path) -> None:
    flow = YamlRegistry([sandbox_flow_dir(tmp_path)]).flows()["ax_stock_to_ps"]
    poller = StockPoller(journal, ax, shop, STOCK, _stock_mapping(flow), page_size=2)

    # the first poll: every published AX item once (the shop's own SKU products are left alone)
    first = await poller.poll()
    stock = await messages(journal, "stock")
    assert first == {"InventoryOnHandService": len(LINKED)}
    assert sorted(m.key for m in stock) == LINKED
    assert all(m.event == "stock.changed" and m.source == "ax" for m in stock)
    hashes = (await journal.get_cursor(cursor_name("InventoryOnHandService")))["hashes"]
    assert sorted(hashes) == LINKED

    # nothing changed: nothing journaled
    assert await poller.poll() == {"InventoryOnHandService": 0}

    async def adjust(qty: str) -> None:
        async with httpx.AsyncClient(base_url=ax_url, timeout=10) as http:
            (await http.post("/_sandbox/stock", json={"item_id": "A0001", "warehouse": "11", "qty": qty})
             ).raise_for_status()

    await adjust("-3")
    assert await poller.poll() == {"InventoryOnHandService": 1}
    changed = await new_since(journal, "stock", stock)
    assert [m.key for m in changed] == ["A0001"]
    assert changed[0].idempotency_key == (f"ax:InventoryOnHandService:A0001:{changed[0].payload['figure']}:"
                                          f"{changed[0].payload['rows_version']}")
    assert await poller.poll() == {"InventoryOnHandService": 0}

    # back to the figure it had: a change again (its rows changed), one more message
    await adjust("3")
    assert await poller.poll() == {"InventoryOnHandService": 1}
    again = await new_since(journal, "stock", stock + changed)
    assert [m.key for m in again] == ["A0001"]
    original = next(m for m in stock if m.key == "A0001")
    assert again[0].payload["figure"] == original.payload["figure"] != changed[0].payload["figure"]
    assert again[0].idempotency_key != original.idempotency_key


def test_the_stock_figure_follows_the_mapping_s_warehouses(tmp_path: Path) -> None:
    from runtime.pollers_stock import stock_figure

    mapping = _stock_mapping(YamlRegistry([sandbox_flow_dir(tmp_path)]).flows()["ax_stock_to_ps"])
    rows = [{"AvailPhysical": "4", "PhysicalInvent": "6", "InventDim": {"InventLocationId": "11"}},
            {"AvailPhysical": "2", "PhysicalInvent": "2", "InventDim": {"InventLocationId": "99"}}]
    assert stock_figure(mapping, "A0001", rows)["quantity"] == 4  # warehouse 99 is not sold
    assert stock_figure(mapping, "A0001", [])["quantity"] == 0
    assert "id_product" not in stock_figure(mapping, "A0001", rows)
