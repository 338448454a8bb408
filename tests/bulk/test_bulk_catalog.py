"""A full catalog load from the AX sandbox into an empty shop, a rerun that writes nothing, a
rerun after 50 AX price changes that writes exactly those 50; the stock sync and a dry run.

Every count of writes is the shop's own request log (``/_sandbox/requests``): what reached it."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import range_
from runtime.demo import SANDBOX_WAREHOUSES
from tests.bulk.conftest import ITEMS, Systems, sandboxes

pytestmark = pytest.mark.e2e


async def _ax_catalog(systems: Systems) -> tuple[dict[str, Decimal], dict[str, str]]:
    """AX's own view: ``{ItemId: sales price}`` and ``{variant number: master ItemId}``."""
    prices: dict[str, Decimal] = {}
    async with AxClient(systems.ax) as ax:
        keys = [k async for page in ax.service("item").iter_keys(page_size=1000) for k in page.keys]
        for item in await ax.service("item").read(keys):
            sales = item["Sales"][0] if isinstance(item.get("Sales"), list) else item["Sales"]
            prices[str(item["ItemId"])] = Decimal(str(sales["Price"]))
        variants = await ax.service("product").find([range_("Product", "ProductMaster", "A", "B")])
    return prices, {str(v["DisplayProductNumber"]): str(v["ProductMaster"]) for v in variants
                    if v.get("ProductMaster")}


def test_full_load_rerun_and_fifty_changes(ray_session: None, tmp_path: Path) -> None:
    with sandboxes(tmp_path, ITEMS, variants=2) as systems:
        prices, variants = asyncio.run(_ax_catalog(systems))
        assert len(prices) == ITEMS and len(variants) == ITEMS // 10 * 2

        first = systems.run("catalog", concurrency=8, chunk_size=100)
        assert first["status"] == "done"
        assert first["counts"]["created"] == ITEMS + len(variants) and first["counts"]["failed"] == 0
        products = systems.shop("products", "[id,reference,price]")
        by_ref: dict[str, list[dict[str, Any]]] = {}
        for p in products:
            by_ref.setdefault(p["reference"], []).append(p)
        assert sorted(by_ref) == sorted(prices)  # every item, nothing else
        assert all(len(rows) == 1 for rows in by_ref.values())  # each once
        assert all(Decimal(by_ref[i][0]["price"]) == price for i, price in prices.items())
        combos = systems.shop("combinations", "[id,reference,id_product]")
        assert sorted(c["reference"] for c in combos) == sorted(variants)
        assert all(str(c["id_product"]) == str(by_ref[variants[c["reference"]]][0]["id"]) for c in combos)

        systems.shop_requests(clear=True)
        second = systems.run("catalog", concurrency=8, chunk_size=100)
        assert second["counts"]["unchanged"] == ITEMS + len(variants)
        assert second["counts"]["writes"] == 0 and systems.shop_writes() == []

        changed = sorted(prices)[3::len(prices) // 50][:50]  # spread over the chunks
        for item_id in changed:
            httpx.post(systems.ax_url + "/_sandbox/prices", json={"item_id": item_id, "price": "12.34"},
                       timeout=30).raise_for_status()
        systems.shop_requests(clear=True)
        third = systems.run("catalog", concurrency=8, chunk_size=100)
        writes = systems.shop_writes()
        assert third["counts"]["updated"] == 50 and third["counts"]["writes"] == 50
        assert len(writes) == 50 and all(w["resource"] == "products" for w in writes)
        assert sorted(int(w["path"].split("/")[1]) for w in writes) == sorted(int(by_ref[i][0]["id"]) for i in changed)
        after = {p["reference"]: Decimal(p["price"]) for p in systems.shop("products", "[reference,price]")}
        assert all(after[i] == Decimal("12.34") for i in changed)


async def _ax_available(systems: Systems) -> dict[str, int]:
    async with AxClient(systems.ax) as ax:
        rows = await ax.service("on_hand").find([range_("InventSum", "ItemId", "A", "B")])
    out: dict[str, int] = {}
    for r in rows:
        dim = r.get("InventDim")
        dim = dim[0] if isinstance(dim, list) else dim or {}
        if str(dim.get("InventLocationId")) in SANDBOX_WAREHOUSES:
            out[str(r["ItemId"])] = out.get(str(r["ItemId"]), 0) + int(Decimal(str(r.get("AvailPhysical") or 0)))
    return out


def test_stock_sync_and_dry_run(ray_session: None, tmp_path: Path) -> None:
    items = 120
    with sandboxes(tmp_path, items, variants=0) as systems:
        plan = systems.run("catalog", dry_run=True, chunk_size=50)
        assert plan["counts"]["created"] == items and plan["counts"]["writes"] == 0
        assert systems.shop_writes() == [] and systems.shop("products", "[id]") == []

        assert systems.run("catalog", chunk_size=50)["counts"]["created"] == items
        stock = systems.run("stock", chunk_size=50)
        assert stock["status"] == "done" and stock["counts"]["failed"] == 0
        expected = asyncio.run(_ax_available(systems))
        ids = {p["reference"]: str(p["id"]) for p in systems.shop("products", "[id,reference]")}
        rows = systems.shop("stock_availables", "[id_product,id_product_attribute,quantity]")
        shop_qty = {str(r["id_product"]): int(r["quantity"]) for r in rows if str(r["id_product_attribute"]) == "0"}
        assert {i: shop_qty[ids[i]] for i in ids} == {i: expected.get(i, 0) for i in ids}

        systems.shop_requests(clear=True)
        again = systems.run("stock", chunk_size=50)
        assert again["counts"]["unchanged"] == items and systems.shop_writes() == []
        plan = systems.run("catalog", dry_run=True, chunk_size=50)
        assert plan["counts"]["unchanged"] == items and plan["counts"]["created"] == 0
