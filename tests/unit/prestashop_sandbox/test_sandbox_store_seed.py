"""Store persistence (SQLite), column indexes, the clock, and deterministic seeding."""

from __future__ import annotations

import random
from pathlib import Path

import httpx
import pytest

from connectors.prestashop.sandbox import SandboxConfig, create_app
from connectors.prestashop.sandbox.app import Sandbox
from connectors.prestashop.sandbox.model import ShopModel
from connectors.prestashop.sandbox.orders import create_order
from connectors.prestashop.sandbox.seed import seed_shop
from connectors.prestashop.sandbox.store import Store

pytestmark = pytest.mark.unit
KEY = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX"


def test_store_ids_grow_and_index_follows_changes() -> None:
    s = Store()
    a = s.insert("addresses", {"id_customer": "1", "city": "Paris"})
    b = s.insert("addresses", {"id_customer": "2", "city": "Lyon"})
    assert (a, b) == (1, 2)
    assert [r["id"] for r in s.find("addresses", id_customer="1")] == ["1"]
    row = dict(s.get("addresses", b) or {})
    row["id_customer"] = "1"
    s.save("addresses", row)
    assert [r["id"] for r in s.find("addresses", id_customer="1")] == ["1", "2"]
    assert s.find("addresses", id_customer="2") == []
    s.delete("addresses", 1)
    assert [r["id"] for r in s.find("addresses", id_customer="1", city="Lyon")] == ["2"]
    assert s.insert("addresses", {"id_customer": "3"}) == 3  # ids are never reused


def test_store_survives_restart_in_sqlite(tmp_path: Path) -> None:
    path = str(tmp_path / "shop.db")
    s = Store(path)
    s.insert("products", {"name": {1: "Mug", 2: "Tasse"}, "price": "9.000000", "_assoc": {"categories": [{"id": "2"}]}})
    s.set_setting("PS_SHOP_NAME", "Persisted")
    s.commit()
    s.close()
    again = Store(path)
    assert again.get("products", 1) == {"name": {1: "Mug", 2: "Tasse"}, "price": "9.000000",
                                        "_assoc": {"categories": [{"id": "2"}]}, "id": "1"}
    assert again.settings["PS_SHOP_NAME"] == "Persisted"
    assert again.insert("products", {}) == 2
    again.close()


def test_clock_freeze_and_offset() -> None:
    s = Store()
    s.clock.set(frozen="2024-05-01 10:00:00")
    assert s.clock.now() == "2024-05-01 10:00:00"
    s.clock.set(frozen="")
    s.clock.set(offset_s=86400 * 365 * 10)
    assert s.clock.now() > "2030-01-01 00:00:00"


def snapshot(n: int, seed: int) -> dict[str, dict[int, dict]]:
    store = Store()
    seed_shop(ShopModel(store, random.Random(seed)), n, "Shop", random.Random(seed))
    return store.tables


def test_seed_is_deterministic_and_sized() -> None:
    one, two = snapshot(20, 20), snapshot(20, 20)
    assert one == two
    assert len(one["products"]) == 20 and len(one["customers"]) == 10 and len(one["orders"]) == 4
    assert len(one["order_states"]) == 13 and len(one["languages"]) == 2
    assert snapshot(20, 21)["customers"] != one["customers"]


def test_seed_product_stock_sums_combinations() -> None:
    tables = snapshot(9, 1)
    stock = tables["stock_availables"].values()
    for product_id in ("3", "6", "9"):
        rows = [r for r in stock if r["id_product"] == product_id]
        parent = next(r for r in rows if r["id_product_attribute"] == "0")
        assert int(parent["quantity"]) == sum(int(r["quantity"]) for r in rows if r["id_product_attribute"] != "0")


async def test_app_keeps_data_in_sqlite_across_restarts(tmp_path: Path) -> None:
    config = SandboxConfig.simple(KEY, db_path=str(tmp_path / "ps.db"))
    body = ("<prestashop><customer><passwd>persist-me</passwd><lastname>Kept</lastname><firstname>Kim</firstname>"
            "<email>kept@example.com</email></customer></prestashop>")
    app = create_app(config)
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://shop", auth=(KEY, "")) as c:
        assert (await c.post("/api/customers", content=body)).status_code == 201
    app2 = create_app(config)
    async with app2.router.lifespan_context(app2), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app2), base_url="http://shop", auth=(KEY, "")) as c:
        r = await c.get("/api/customers", params={"filter[email]": "[kept@example.com]", "display": "[lastname]"})
        assert "<lastname><![CDATA[Kept]]></lastname>" in r.text


def test_reopened_shop_does_not_replay_random_draws(tmp_path: Path) -> None:
    """Order references drawn after a restart must not repeat those of the first run: a client
    looks orders (and their payments) up by reference."""
    config = SandboxConfig.simple(KEY, seed=10, db_path=str(tmp_path / "ps.db"))
    first = Sandbox(config)
    seeded = {o["reference"] for o in first.store.rows("orders")}
    first.store.close()
    again = Sandbox(config)
    cart = {k: v for k, v in next(again.store.rows("carts")).items() if k != "id"}  # a second cart, same content
    cart_id = again.store.insert("carts", cart)
    order = create_order(again.model, {"module": "ps_checkpayment", "id_cart": str(cart_id), "total_paid": "0"})
    assert seeded and order["reference"] not in seeded
    again.store.close()
