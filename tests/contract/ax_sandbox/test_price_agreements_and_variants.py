"""The catalog reads of the master-data flows: sales trade agreements through the port's custom
PriceDiscTableService (read-only, change-tracked), product variants through EcoResProductService
(a variant names its master; the master becomes a product master), on-hand per warehouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig, Client, EntityKey
from connectors.dynamics_ax.query import eq
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread
from connectors.dynamics_ax.wsdl import SERVICES

pytestmark = pytest.mark.contract


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_in_thread(SandboxConfig(seed=17, items=3, customers=2, open_orders=1)) as base:
        yield base


@pytest.fixture
async def ax(url: str) -> AsyncIterator[Client]:
    async with Client(AxConfig(base_url=url + "/MicrosoftDynamicsAXAif60", port_name="WebShop",
                               company="DAT")) as client:
        yield client


async def control(url: str, path: str, body: dict[str, Any], method: str = "POST") -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.request(method, f"/_sandbox/{path}", json=body)


def test_the_agreement_service_is_read_only() -> None:
    assert SERVICES["PriceDiscTableService"].operations == ("read", "find", "findKeys", "getKeys", "getChangedKeys")


async def test_agreements_are_found_per_item_changed_and_removed_with_change_tracking(url: str, ax: Client) -> None:
    since = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    made = (await control(url, "price_agreements", {"item_id": "A0001", "account_code": "Group",
                                                    "account_relation": "B2B", "amount": "9.5",
                                                    "from_date": "2026-06-01", "to_date": "2026-08-31"})).json()
    await control(url, "price_agreements", {"item_id": "A0002", "amount": "3"})
    found = await ax.find("price_agreement", [eq("PriceDiscTable", "ItemRelation", "A0001")])
    assert [(a.account_code, a.account_relation, a.amount, a.from_date) for a in found] == [
        ("Group", "B2B", Decimal("9.5"), dt.date(2026, 6, 1))]
    assert found[0].relation == "PriceSales" and found[0].rec_id == int(made["rec_id"])
    changed = [k async for page in ax.changed_keys("price_agreement", since) for k in page.keys]
    assert {k.value for k in changed} >= {str(made["rec_id"])}

    before = found[0].rec_version
    await control(url, "price_agreements", {"rec_id": made["rec_id"], "amount": "8"})
    (again,) = await ax.find("price_agreement", [eq("PriceDiscTable", "ItemRelation", "A0001")])
    assert again.amount == Decimal(8) and again.rec_version != before

    gone = await control(url, "price_agreements", {"rec_id": made["rec_id"]}, method="DELETE")
    assert gone.status_code == 200
    assert await ax.find("price_agreement", [eq("PriceDiscTable", "ItemRelation", "A0001")]) == []
    unknown = await control(url, "price_agreements", {"rec_id": made["rec_id"]}, method="DELETE")
    assert unknown.status_code == 400 and "RecId" in unknown.json()["error"]


async def test_an_agreement_for_an_item_not_released_is_refused(url: str) -> None:
    r = await control(url, "price_agreements", {"item_id": "NOPE", "amount": "1"})
    assert r.status_code == 400 and "NOPE" in r.json()["error"]


async def test_a_variant_names_its_master_which_becomes_a_product_master(url: str, ax: Client) -> None:
    r = await control(url, "variants", {"product_master": "A0003", "number": "A0003-BLUE"})
    assert r.status_code == 200, r.text
    (variant,) = await ax.read("product", [EntityKey.of(DisplayProductNumber="A0003-BLUE")])
    assert variant.product_master == "A0003"
    (master,) = await ax.service("product").read([EntityKey.of(DisplayProductNumber="A0003")])
    assert master["VariantConfigurationTechnology"] == "PredefinedVariants"
    assert "ProductMaster" not in master
    listed = await ax.find("product", [eq("Product", "ProductMaster", "A0003")])
    assert [p.display_product_number for p in listed] == ["A0003-BLUE"]
    twice = await control(url, "variants", {"product_master": "A0003", "number": "A0003-BLUE"})
    assert twice.status_code == 400


async def test_on_hand_is_one_row_per_warehouse_and_moves_with_stock_bookings(url: str, ax: Client) -> None:
    before = {r.warehouse: r.avail_physical for r in await ax.read_on_hand("A0002")}
    assert set(before) == {"11", "21"}
    await control(url, "stock", {"item_id": "A0002", "warehouse": "21", "qty": "5"})
    after = {r.warehouse: r.avail_physical for r in await ax.read_on_hand("A0002")}
    assert after == {"11": before["11"], "21": before["21"] + 5}
