"""Domain operations (against the protocol fake), schemas and typed views."""

from __future__ import annotations

import msgspec
import pytest

from connectors.errors import ConfigError, MappingError, NotFoundError, ValidationError
from connectors.prestashop import (
    VIEW_RESOURCES,
    change_order_state,
    record_of,
    record_payment,
    schema,
    set_stock,
    set_tracking_number,
    view,
)
from connectors.prestashop.schemas import writable_record

pytestmark = pytest.mark.unit


async def test_change_order_state_posts_an_order_history_with_sendemail(shop, client):
    shop.add("orders", {"id": 5, "current_state": "2"})
    saved = await change_order_state(client, 5, 4, send_email=True)
    post = shop.requests[-1]
    assert post.method == "POST" and post.url.path.endswith("/order_histories")
    assert post.url.params["sendemail"] == "1"
    assert saved["id_order"] == "5" and saved["id_order_state"] == "4"
    shop.data["orders"][5]["current_state"] = "4"  # what the shop does on that POST
    count = len(shop.requests)
    again = await change_order_state(client, 5, 4)
    assert again["id"] == saved["id"]  # no second history row for the same state
    assert all(r.method == "GET" for r in shop.requests[count:])
    with pytest.raises(NotFoundError):
        await change_order_state(client, 99, 4)


async def test_set_tracking_number_merges_into_the_order_carrier(shop, client):
    shop.add("order_carriers", {"id": 3, "id_order": "5", "id_carrier": "2", "weight": "1.200000",
                                "tracking_number": "", "date_add": "2024-05-01 10:00:00"})
    await set_tracking_number(client, 5, " 1Z999AA10123456784 ", send_email=True)
    put = shop.requests[-1]
    assert put.method == "PUT" and put.url.params["sendemail"] == "1"
    row = shop.data["order_carriers"][3]
    assert row["tracking_number"] == "1Z999AA10123456784" and row["weight"] == "1.200000"
    with pytest.raises(NotFoundError, match="no carrier row"):
        await set_tracking_number(client, 6, "X")
    with pytest.raises(ValidationError, match="empty"):
        await set_tracking_number(client, 5, "  ")


async def test_set_stock_updates_the_row_and_refuses_advanced_stock(shop, client):
    shop.add("stock_availables", {"id": 1, "id_product": "9", "id_product_attribute": "0", "id_shop": "1",
                                  "id_shop_group": "0", "quantity": "3", "depends_on_stock": "0",
                                  "out_of_stock": "2", "location": "A1"})
    shop.add("stock_availables", {"id": 2, "id_product": "10", "id_product_attribute": "0", "quantity": "3",
                                  "depends_on_stock": "1", "out_of_stock": "2"})
    await set_stock(client, 9, 42)
    assert shop.data["stock_availables"][1]["quantity"] == "42"
    assert shop.data["stock_availables"][1]["location"] == "A1"
    count = len(shop.requests)
    await set_stock(client, 9, 42)
    assert [r.method for r in shop.requests[count:]] == ["GET"]  # unchanged: no write
    with pytest.raises(ValidationError, match="advanced stock management") as info:
        await set_stock(client, 10, 1)
    assert info.value.code == 133 and shop.data["stock_availables"][2]["quantity"] == "3"
    with pytest.raises(NotFoundError):
        await set_stock(client, 11, 1)


async def test_record_payment_by_reference_is_idempotent_on_transaction(shop, client):
    shop.add("orders", {"id": 5, "reference": "XKBKNABJK", "id_currency": "1", "conversion_rate": "1.000000",
                        "current_state": "11"})
    first = await record_payment(client, "XKBKNABJK", "24.90", payment_method="Bank wire", transaction_id="T-1")
    assert first["order_reference"] == "XKBKNABJK" and first["amount"] == "24.90" and first["id_currency"] == "1"
    again = await record_payment(client, "XKBKNABJK", "24.90", payment_method="Bank wire", transaction_id="T-1")
    assert again["id"] == first["id"] and len(shop.data["order_payments"]) == 1
    with pytest.raises(NotFoundError, match="ABCDEFGHI"):
        await record_payment(client, "ABCDEFGHI", 1, payment_method="x")
    with pytest.raises(ValidationError, match="negative"):
        await record_payment(client, "XKBKNABJK", -1, payment_method="x")


def test_schemas_come_from_the_reference_tables():
    products = schema("products")
    assert products.node == "product" and products.list_node == "products"
    assert {"manufacturer_name", "quantity"} <= products.read_only_fields
    assert "name" in products.lang_fields and "price" in products.fields
    assert products.associations["categories"].writable and not products.associations["images"].writable
    assert schema("order_histories").node == "order_history"
    assert schema("stock_availables").forbidden_methods == {"POST", "DELETE"}
    with pytest.raises(ConfigError, match="Unknown PrestaShop resource 'orderz'"):
        schema("orderz")


def test_writable_record_strips_read_only_and_unwritable_associations():
    out = writable_record(
        schema("products"),
        {"price": "3", "associations": {"categories": [{"id": 2}], "images": [{"id": 1}]}},
        base={"id": "1", "quantity": "5", "name": {1: "A"}},
        language_ids=[1, 2],
    )
    assert "quantity" not in out and out["name"] == {1: "A", 2: "A"}
    assert out["associations"] == {"categories": [{"id": 2}]}


def test_typed_views_for_every_resource_of_the_issue():
    assert len(VIEW_RESOURCES) == 22
    order = view("orders", {"id": "5", "total_paid": "24.900000", "valid": "1", "current_state": "",
                            "associations": {"order_rows": [{"id": "7", "product_id": "3", "product_quantity": "2"}]}})
    assert order.id == 5 and order.total_paid == 24.9 and order.valid is True and order.current_state is None
    assert order.associations.order_rows[0].product_quantity == "2"
    assert order.reference is msgspec.UNSET  # not displayed, not guessed
    product = view("products", {"id": "1", "name": {1: "Mug"}, "quantity": "4"})
    assert product.name == {1: "Mug"}
    assert record_of("products", product) == {"id": 1, "name": {1: "Mug"}}  # read-only quantity dropped
    with pytest.raises(MappingError, match="order"):
        view("orders", {"id": "x"})
