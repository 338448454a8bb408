"""Order creation, the domain operations and the date_upd poller against the sandbox."""

from __future__ import annotations

import re

import pytest

from connectors.errors import DuplicateError, ValidationError
from connectors.prestashop import (
    F,
    MemoryCursorStore,
    Poller,
    change_order_state,
    record_payment,
    set_stock,
    set_tracking_number,
    view,
)

pytestmark = pytest.mark.contract


async def place_order(shop, email: str) -> dict:
    """customer -> address -> cart -> order, the only path PrestaShop supports (reference §8.1)."""
    customer = await shop.create("customers", {"lastname": "Buyer", "firstname": "Bea", "email": email,
                                               "passwd": "buyer-pass-1", "id_default_group": 3, "active": 1})
    address = await shop.create("addresses", {"id_customer": customer["id"], "id_country": 8, "alias": "Home",
                                              "lastname": "Buyer", "firstname": "Bea", "address1": "1 rue de Rivoli",
                                              "postcode": "75001", "city": "Paris"})
    carrier = (await shop.list("carriers", display=["id", "active"], filters={"active": "1"}, limit=1))[0]
    cart = await shop.create("carts", {
        "id_currency": 1, "id_lang": 1, "id_customer": customer["id"], "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "id_carrier": carrier["id"], "secure_key": customer["secure_key"],
        "associations": {"cart_rows": [{"id_product": 2, "id_product_attribute": 0,
                                        "id_address_delivery": address["id"], "quantity": 2}]},
    })
    order = await shop.create("orders", {
        "id_cart": cart["id"], "module": "ps_checkpayment", "payment": "Check", "id_currency": 1, "id_lang": 1,
        "id_customer": customer["id"], "id_carrier": carrier["id"], "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "total_paid": "0.00", "total_paid_real": "0",
        "total_products": "0", "total_products_wt": "0", "conversion_rate": 1,
    })
    order["_cart"] = cart
    return order


async def test_order_creation_reads_the_real_order_back(shop):
    order = await place_order(shop, "buyer1@example.com")
    # the POST answer echoes what was posted; the client returned the stored order instead
    assert re.fullmatch(r"[A-Z]{9}", order["reference"])
    assert order["current_state"] == "8"  # total_paid differs from the cart total: Payment error
    assert float(order["total_paid_tax_incl"]) > 0
    typed = view("orders", order)
    assert typed.associations.order_rows and int(typed.associations.order_rows[0].product_quantity) == 2
    with pytest.raises(DuplicateError, match="already been placed"):
        await shop.create("orders", {
            "id_cart": order["_cart"]["id"], "module": "ps_checkpayment", "payment": "Check", "id_currency": 1,
            "id_lang": 1, "id_customer": order["id_customer"], "id_carrier": order["id_carrier"],
            "id_address_delivery": order["id_address_delivery"], "id_address_invoice": order["id_address_invoice"],
            "total_paid": "0", "total_paid_real": "0", "total_products": "0", "total_products_wt": "0",
            "conversion_rate": 1,
        })


async def test_domain_operations_on_an_order(shop):
    order = await place_order(shop, "buyer2@example.com")
    oid = int(order["id"])

    history = await change_order_state(shop, oid, 2, send_email=True)
    assert history["id_order"] == str(oid) and history["id_order_state"] == "2"
    assert (await shop.get("orders", oid))["current_state"] == "2"
    again = await change_order_state(shop, oid, 2)
    assert again["id"] == history["id"]
    rows = await shop.list("order_histories", filters={"id_order": F.eq(oid), "id_order_state": F.eq(2)})
    assert len(rows) == 1

    carrier_row = await set_tracking_number(shop, oid, "1Z999AA10123456784")
    assert carrier_row["tracking_number"] == "1Z999AA10123456784"
    assert (await shop.get("orders", oid))["shipping_number"] == "1Z999AA10123456784"

    first = await record_payment(shop, order["reference"], "12.50", payment_method="Check", transaction_id="CHK-1")
    second = await record_payment(shop, order["reference"], "12.50", payment_method="Check", transaction_id="CHK-1")
    assert first["id"] == second["id"] and first["order_reference"] == order["reference"]
    payments = await shop.list("order_payments", display="full",
                               filters={"order_reference": F.eq(order["reference"]), "transaction_id": "[CHK-1]"})
    assert len(payments) == 1 and payments[0]["amount"].startswith("12.5")


async def test_set_stock_and_the_advanced_stock_refusal(shop):
    row = await set_stock(shop, 5, 321)
    assert row["quantity"] == "321"
    assert (await shop.get("products", 5))["quantity"] == "321"
    stock = (await shop.list("stock_availables", display=["id"],
                             filters={"id_product": F.eq(6), "id_product_attribute": F.eq(0)}))[0]
    # PrestaShop refuses to switch a row to advanced stock through the webservice (error 133);
    # the client's own refusal of such rows is covered by the unit tests
    with pytest.raises(ValidationError) as info:
        await shop.patch("stock_availables", stock["id"], {"depends_on_stock": 1})
    assert info.value.code == 133
    assert (await shop.get("stock_availables", stock["id"]))["depends_on_stock"] == "0"


async def test_poller_across_records_sharing_a_second(shop, control):
    control.put("/_sandbox/clock", json={"frozen": "2031-03-01 12:00:00"})
    first_ids = [int((await shop.create("customers", {
        "lastname": "Poll", "firstname": "Pia", "email": f"poll{i}@example.com", "passwd": "poll-pass-1",
        "id_default_group": 3})) ["id"]) for i in range(5)]
    store = MemoryCursorStore()
    poller = Poller(shop, "customers", store, display=["id", "date_upd", "email"], page_size=2,
                    since="2031-03-01 11:59:59")
    seen = await poller.poll()
    assert [c.id for c in seen] == first_ids and {c.date_upd for c in seen} == {"2031-03-01 12:00:00"}
    assert store.state.cursor == "2031-03-01 12:00:00" and store.state.seen_ids == first_ids

    # more saves within the same second: an old record updated, a new one created
    await shop.update("customers", first_ids[0], {"firstname": "Pam"})
    late = await shop.create("customers", {"lastname": "Poll", "firstname": "Lou", "email": "poll-late@example.com",
                                           "passwd": "poll-pass-1", "id_default_group": 3})
    assert [c.id for c in await poller.poll()] == [int(late["id"])]  # the update shares the second: seen already

    control.put("/_sandbox/clock", json={"frozen": "2031-03-01 12:00:01"})
    await shop.update("customers", first_ids[0], {"firstname": "Pat"})
    changes = await poller.poll()
    assert [(c.id, c.date_upd) for c in changes] == [(first_ids[0], "2031-03-01 12:00:01")]
    assert changes[0].record["email"] == "poll0@example.com"
    assert await poller.poll() == []
