"""AX master data into the shop, without Ray: the product, stock and price flows and their
operations against both sandboxes over HTTP. Every write is counted at the shop's HTTP
transport, so "no second write" means no POST/PUT/PATCH/DELETE request at all."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.dynamics_ax import AxConfig
from connectors.prestashop import Client, ClientConfig, F
from pipelines.operations import SystemOperations
from runtime.messages import Message
from runtime.store import AsyncStore
from runtime.yaml_flows import YamlFlow
from tests.contract.runtime_operations.test_system_operations import Ctx

pytestmark = pytest.mark.contract

WRITES = ("POST", "PUT", "PATCH", "DELETE")


class Counting(httpx.AsyncHTTPTransport):
    """The shop's HTTP transport, noting each request's method and path."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, str]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.calls.append((request.method, request.url.path.rsplit("/api/", 1)[-1]))
        return await super().handle_async_request(request)

    def writes(self) -> list[tuple[str, str]]:
        return [c for c in self.calls if c[0] in WRITES]


@pytest.fixture
def wire() -> Counting:
    return Counting()


@pytest.fixture
async def cops(ps_config: ClientConfig, ax_config: AxConfig, store: AsyncStore, wire: Counting
               ) -> AsyncIterator[SystemOperations]:
    ops = SystemOperations(ps_config, ax_config, store, ps_client=Client(ps_config, transport=wire))
    yield ops
    await ops.aclose()


def message(entity: str, key: str, mid: str, event: str) -> Message:
    return Message(id=mid, entity=entity, key=key, source="ax", event=event, payload={},
                   idempotency_key=f"ax:test:{mid}")


async def ax_control(ax_url: str, path: str, body: dict[str, Any], method: str = "POST") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=ax_url) as http:
        response = await http.request(method, f"/_sandbox/{path}", json=body)
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]


async def products_with_reference(shop: Client, reference: str) -> list[dict[str, Any]]:
    rows = await shop.list("products", display="full", filters={"reference": F.eq(reference)})
    return [dict(r) for r in rows if r.get("reference") == reference]


async def ax_item(ax: Any, item_id: str) -> Any:
    (item,) = await ax.read_items([item_id])
    return item


async def test_an_ax_item_becomes_one_shop_product_and_a_rerun_writes_nothing(
        cops: SystemOperations, flows: Any, store: AsyncStore, shop: Client, ax: Any, wire: Counting) -> None:
    flow = YamlFlow(flows.get("ax_product_to_ps"), cops)
    first = await flow.run(Ctx(store), message("product", "A0002", "P-1", "product.changed"))
    assert first["status"] == "done", first
    load = first["results"]["load-product"]
    assert load["existed"] is False
    (product,) = await products_with_reference(shop, "A0002")
    assert str(product["id"]) == str(load["id"])
    assert Decimal(product["price"]) == (await ax_item(ax, "A0002")).sales_price
    # the name reaches every shop language (the mapping's fallback language for the others)
    assert set(product["name"]) == {1, 2} and product["name"][1] and product["name"][1] == product["name"][2]
    assert (await store.get_xref("product", ax_id="A0002"))["ps_id"] == str(product["id"])
    assert [w for w in wire.writes() if w[1].startswith("products")] == [("POST", "products")]

    wire.calls.clear()
    second = await flow.run(Ctx(store), message("product", "A0002", "P-2", "product.changed"))
    assert second["results"]["load-product"] == {**second["results"]["load-product"], "existed": True,
                                                  "changed": [], "id": load["id"]}
    assert wire.writes() == []
    assert len(await products_with_reference(shop, "A0002")) == 1


async def test_a_product_found_by_reference_is_linked_and_only_what_differs_is_written(
        cops: SystemOperations, flows: Any, store: AsyncStore, shop: Client, ax: Any, wire: Counting) -> None:
    # the shop had the item before the bridge (same reference), with another price
    made = await shop.create("products", {"reference": "A0003", "price": "1.000000", "name": "Old name",
                                          "link_rewrite": "old-name", "id_category_default": 2})
    wire.calls.clear()
    detail = await YamlFlow(flows.get("ax_product_to_ps"), cops).run(
        Ctx(store), message("product", "A0003", "P-3", "product.changed"))
    load = detail["results"]["load-product"]
    assert load["existed"] is True and str(load["id"]) == str(made["id"])
    assert "price" in load["changed"] and "name" in load["changed"] and "reference" not in load["changed"]
    assert len(await products_with_reference(shop, "A0003")) == 1
    assert not [w for w in wire.writes() if w[0] == "POST"]
    assert Decimal((await shop.get("products", int(made["id"])))["price"]) == (await ax_item(ax, "A0003")).sales_price


async def test_an_ax_variant_becomes_one_combination_of_its_master_product(
        cops: SystemOperations, flows: Any, store: AsyncStore, shop: Client, ax_url: str, wire: Counting) -> None:
    flow = YamlFlow(flows.get("ax_product_to_ps"), cops)
    await ax_control(ax_url, "variants", {"product_master": "A0004", "number": "A0004-RED"})
    master = await flow.run(Ctx(store), message("product", "A0004", "V-0", "product.changed"))
    product_id = str(master["results"]["load-product"]["id"])
    wire.calls.clear()
    first = await flow.run(Ctx(store), message("product", "A0004-RED", "V-1", "product.changed"))
    assert [s for s in first["steps"] if s.startswith("load-")] == ["load-product:skipped", "load-combination:ok"]
    combo = first["results"]["load-combination"]
    assert combo["existed"] is False and combo["id_product"] == product_id
    assert wire.writes() == [("POST", "combinations")]
    assert (await store.get_xref("combination", ax_id="A0004-RED"))["ps_id"] == str(combo["id"])

    wire.calls.clear()
    again = await flow.run(Ctx(store), message("product", "A0004-RED", "V-2", "product.changed"))
    assert again["results"]["load-combination"]["changed"] == [] and wire.writes() == []
    rows = await shop.list("combinations", display="full", filters={"id_product": F.eq(int(product_id))})
    assert [r["reference"] for r in rows] == ["A0004-RED"]
    # the combination's stock row exists (created with it), ready for the stock flow
    stock = await shop.list("stock_availables", display="full",
                            filters={"id_product": F.eq(int(product_id)), "id_product_attribute": F.eq(int(combo["id"]))})
    assert len(stock) == 1


async def test_a_variant_whose_master_is_not_in_the_shop_waits(cops: SystemOperations, ax_url: str) -> None:
    from connectors.errors import TransientError

    await ax_control(ax_url, "variants", {"product_master": "A0005", "number": "A0005-XL"})
    with pytest.raises(TransientError, match="A0005"):
        await cops.call("ax", "ItemService.read", {"key": "A0005-XL", "include": []}, mode=None,
                        context={"message": {"id": "V-9"}})


async def onhand(ops: SystemOperations, item: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Extract the on-hand figure and build the stock document (all warehouses summed)."""
    context: dict[str, Any] = {"message": {"id": f"S-{item}"}}
    record = await ops.call("ax", "InventoryOnHandService.read", {"key": item}, mode=None, context=context)
    quantity = int(sum(Decimal(r.get("AvailPhysical") or "0") for r in record["InventSum"]))
    doc = {"id": context["ps_stock_available_id"], "id_product": context["ps_product_id"],
           "id_product_attribute": "0", "quantity": quantity, "depends_on_stock": "0", "out_of_stock": "2"}
    return doc, context


async def test_stock_is_written_once_and_an_older_figure_never_overwrites_a_newer_one(
        cops: SystemOperations, flows: Any, store: AsyncStore, shop: Client, ax_url: str, wire: Counting) -> None:
    await YamlFlow(flows.get("ax_product_to_ps"), cops).run(Ctx(store), message("product", "A0001", "S-0", "x"))
    old_doc, old_ctx = await onhand(cops, "A0001")
    assert old_doc["id_product"] and old_doc["id"]
    await ax_control(ax_url, "stock", {"item_id": "A0001", "warehouse": "11", "qty": "7"})
    new_doc, new_ctx = await onhand(cops, "A0001")
    assert new_doc["quantity"] == old_doc["quantity"] + 7
    assert new_ctx["ax_onhand_version"] > old_ctx["ax_onhand_version"]

    wire.calls.clear()
    newer = await cops.call("prestashop", "stock_availables.update", new_doc, mode="update", context=new_ctx)
    assert newer["stale"] is False and "quantity" in newer["changed"]
    assert [w[0] for w in wire.writes()] in (["PUT"], ["PATCH"])
    row = await shop.get("stock_availables", int(new_doc["id"]))
    assert int(row["quantity"]) == new_doc["quantity"]

    wire.calls.clear()
    older = await cops.call("prestashop", "stock_availables.update", old_doc, mode="update", context=old_ctx)
    assert older["stale"] is True and older["applied_version"] == new_ctx["ax_onhand_version"]
    assert wire.writes() == []
    assert int((await shop.get("stock_availables", int(new_doc["id"])))["quantity"]) == new_doc["quantity"]

    # the same figure read again: nothing differs, nothing is written
    same_doc, same_ctx = await onhand(cops, "A0001")
    wire.calls.clear()
    same = await cops.call("prestashop", "stock_availables.update", same_doc, mode="update", context=same_ctx)
    assert same["stale"] is False and same["changed"] == [] and wire.writes() == []


async def test_the_stock_flow_drops_an_item_the_shop_does_not_sell(
        cops: SystemOperations, flows: Any, store: AsyncStore, wire: Counting) -> None:
    detail = await YamlFlow(flows.get("ax_stock_to_ps"), cops).run(
        Ctx(store), message("stock", "A0005", "S-9", "stock.changed"))
    assert detail["status"] == "dropped" and detail["step"] == "published"
    assert wire.writes() == []


async def specific_prices(shop: Client, product_id: str) -> list[dict[str, Any]]:
    rows = await shop.list("specific_prices", display="full", filters={"id_product": F.eq(int(product_id))},
                           sort=["id_ASC"])
    return [dict(r) for r in rows]


async def test_prices_follow_ax_price_changes_and_removed_trade_agreements(
        cops: SystemOperations, flows: Any, store: AsyncStore, shop: Client, ax: Any, ax_url: str,
        wire: Counting) -> None:
    product = await YamlFlow(flows.get("ax_product_to_ps"), cops).run(
        Ctx(store), message("product", "A0002", "R-0", "x"))
    pid = str(product["results"]["load-product"]["id"])
    group = await ax_control(ax_url, "price_agreements", {"item_id": "A0002", "account_code": "Group",
                                                         "account_relation": "B2B", "amount": "9.50"})
    await ax_control(ax_url, "price_agreements", {"item_id": "A0002", "account_code": "All", "amount": "80",
                                                 "price_unit": "10", "quantity_from": "10"})
    # a discount the merchant made in the shop: not AX's, never touched
    own = await shop.create("specific_prices", {
        "id_product": pid, "id_shop": 0, "id_cart": 0, "id_currency": 0, "id_country": 0, "id_group": 0,
        "id_customer": 0, "price": "-1", "from_quantity": 1, "reduction": "0.1", "reduction_tax": 1,
        "reduction_type": "percentage", "from": "0000-00-00 00:00:00", "to": "0000-00-00 00:00:00"})
    flow = YamlFlow(flows.get("ax_price_to_ps"), cops)
    first = await flow.run(Ctx(store), message("price", "A0002", "R-1", "price.changed"))
    assert first["status"] == "done", first
    assert first["results"]["load"]["specific_prices"] == {"created": 2, "updated": 0, "deleted": 0}
    rows = await specific_prices(shop, pid)
    ax_rows = sorted((r["id_group"], Decimal(r["price"]), r["from_quantity"]) for r in rows if r["id"] != own["id"])
    assert ax_rows == [("0", Decimal(8), "10"), ("4", Decimal("9.5"), "1")]

    wire.calls.clear()
    again = await flow.run(Ctx(store), message("price", "A0002", "R-2", "price.changed"))
    assert again["status"] == "done" and wire.writes() == [], again
    # the operation itself, given the same document again, compares and writes nothing
    resent = await cops.call("prestashop", "products.update", first["results"]["load"]["document"],
                             mode="update", context={"message": {"id": "R-2b"}})
    assert resent["price_changed"] is False
    assert resent["specific_prices"] == {"created": 0, "updated": 0, "deleted": 0} and wire.writes() == []

    await ax_control(ax_url, "prices", {"item_id": "A0002", "price": "123.45"})
    wire.calls.clear()
    changed = await flow.run(Ctx(store), message("price", "A0002", "R-3", "price.changed"))
    load = changed["results"]["load"]
    assert load["price_changed"] is True and load["specific_prices"] == {"created": 0, "updated": 0, "deleted": 0}
    assert [w[1] for w in wire.writes()] == [f"products/{pid}"]
    assert Decimal((await shop.get("products", int(pid)))["price"]) == Decimal("123.45")

    await ax_control(ax_url, "price_agreements", {"rec_id": group["rec_id"]}, method="DELETE")
    wire.calls.clear()
    removed = await flow.run(Ctx(store), message("price", "A0002", "R-4", "price.changed"))
    assert removed["results"]["load"]["specific_prices"] == {"created": 0, "updated": 0, "deleted": 1}
    assert [w[0] for w in wire.writes()] == ["DELETE"]
    left = await specific_prices(shop, pid)
    assert sorted(r["id"] for r in left) == sorted([own["id"], next(r["id"] for r in rows if r["id_group"] == "0"
                                                                     and r["id"] != own["id"])])
