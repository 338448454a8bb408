"""Orders created from carts, state changes, tracking and payments (reference §8)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.contract.prestashop_sandbox.helpers import created_id, errors, field, obj, root

pytestmark = pytest.mark.contract


SEED = 10  # products in this module's own sandbox (fixtures `shop` and `c` in conftest)


def make_cart(c: httpx.Client, email: str, product: int = 1, qty: int = 2, secure_key: str | None = None) -> dict[str, str]:
    customer = c.post("/api/customers", content=(
        "<prestashop><customer><passwd>pass-word</passwd><lastname>Buyer</lastname><firstname>Bea</firstname>"
        f"<email>{email}</email><id_default_group>3</id_default_group><active>1</active></customer></prestashop>")).text
    cid, key = field(customer, "customer", "id"), field(customer, "customer", "secure_key")
    aid = created_id(c.post("/api/addresses", content=(
        f"<prestashop><address><id_customer>{cid}</id_customer><id_country>8</id_country><alias>Home</alias>"
        "<lastname>Buyer</lastname><firstname>Bea</firstname><address1>1 rue de la Paix</address1>"
        "<postcode>75002</postcode><city>Paris</city></address></prestashop>")).text, "address")
    cart = c.post("/api/carts", content=(
        f"<prestashop><cart><id_currency>1</id_currency><id_lang>1</id_lang><id_customer>{cid}</id_customer>"
        f"<id_address_delivery>{aid}</id_address_delivery><id_address_invoice>{aid}</id_address_invoice>"
        f"<id_carrier>2</id_carrier><secure_key>{secure_key or key}</secure_key><associations><cart_rows><cart_row>"
        f"<id_product>{product}</id_product><id_product_attribute>0</id_product_attribute>"
        f"<id_address_delivery>{aid}</id_address_delivery><quantity>{qty}</quantity></cart_row></cart_rows>"
        "</associations></cart></prestashop>"))
    assert cart.status_code == 201, cart.text
    return {"customer": cid, "address": str(aid), "cart": str(created_id(cart.text, "cart"))}


def order_xml(ids: dict[str, str], total: str, module: str = "ps_checkpayment") -> str:
    return (f"<prestashop><order><id_address_delivery>{ids['address']}</id_address_delivery>"
            f"<id_address_invoice>{ids['address']}</id_address_invoice><id_cart>{ids['cart']}</id_cart>"
            f"<id_currency>1</id_currency><id_lang>1</id_lang><id_customer>{ids['customer']}</id_customer>"
            f"<id_carrier>2</id_carrier><module>{module}</module><payment>Check</payment>"
            f"<total_paid>{total}</total_paid><total_paid_real>0</total_paid_real><total_products>1</total_products>"
            "<total_products_wt>1</total_products_wt><conversion_rate>1</conversion_rate></order></prestashop>")


def expected_total(c: httpx.Client, product: int, qty: int) -> float:
    price = float(field(c.get(f"/api/products/{product}").text, "product", "price"))
    return round(price * 1.2 * qty + 7.0 * 1.2, 2)  # 20 % VAT (France) and carrier 2 at 7.00 tax excl.


def stock_of(c: httpx.Client, product: int) -> int:
    return int(field(c.get(f"/api/products/{product}").text, "product", "quantity"))


def test_order_from_cart_with_matching_total(c: httpx.Client) -> None:
    ids = make_cart(c, "ok@example.com", product=1, qty=2)
    before = stock_of(c, 1)
    total = expected_total(c, 1, 2)
    r = c.post("/api/orders", content=order_xml(ids, f"{total:.2f}"))
    assert r.status_code == 201
    echoed = obj(r.text, "order")
    assert echoed.findtext("reference") == "" and echoed.findtext("current_state") == "0"  # the posted values
    oid = int(echoed.findtext("id") or 0)
    order = obj(c.get(f"/api/orders/{oid}").text, "order")
    assert order.findtext("current_state") == "11" and order.findtext("valid") == "1"
    assert re.fullmatch(r"[A-Z]{9}", order.findtext("reference") or "")
    assert float(order.findtext("total_paid") or 0) == pytest.approx(total)
    assert [(r.findtext("product_id"), r.findtext("product_quantity")) for r in order.iter("order_row")] == [("1", "2")]
    assert stock_of(c, 1) == before - 2
    payments = root(c.get("/api/order_payments", params={"filter[order_reference]": f"[{order.findtext('reference')}]",
                                                         "display": "full"}).text)
    assert [float(p.findtext("amount") or 0) for p in payments.iter("order_payment")] == [pytest.approx(total)]
    histories = root(c.get("/api/order_histories", params={"filter[id_order]": str(oid), "display": "full"}).text)
    assert [h.findtext("id_order_state") for h in histories.iter("order_history")] == ["11"]
    invoices = root(c.get("/api/order_invoices", params={"filter[id_order]": str(oid), "display": "full"}).text)
    assert len(list(invoices.iter("order_invoice"))) == 1


def test_total_mismatch_gives_payment_error(c: httpx.Client) -> None:
    ids = make_cart(c, "short@example.com", product=2, qty=1)
    oid = created_id(c.post("/api/orders", content=order_xml(ids, "1.00")).text, "order")
    assert field(c.get(f"/api/orders/{oid}").text, "order", "current_state") == "8"


def test_order_creation_die_paths_are_plain_text(c: httpx.Client) -> None:
    ids = make_cart(c, "twice@example.com", product=4, qty=1)
    assert c.post("/api/orders", content=order_xml(ids, "1.00")).status_code == 201
    r = c.post("/api/orders", content=order_xml(ids, "1.00"))
    assert (r.status_code, r.text) == (200, "Cart cannot be loaded or an order has already been placed using this cart")
    bad = make_cart(c, "badkey@example.com", product=4, qty=1, secure_key="0" * 32)
    r = c.post("/api/orders", content=order_xml(bad, "1.00"))
    assert (r.status_code, r.text) == (200, "Error processing order. Secure key does not match.")
    r = c.post("/api/orders", content=order_xml(make_cart(c, "mod@example.com"), "1.00", module="nosuchmodule"))
    assert r.status_code == 500 and "Fatal error" in r.text
    r = c.post("/api/orders", content=order_xml(ids, "1.00").replace("<module>ps_checkpayment</module>", ""))
    assert errors(r.text) == [(41, 'parameter "module" required')]


def test_order_history_moves_state_and_cancel_gives_stock_back(c: httpx.Client) -> None:
    ids = make_cart(c, "history@example.com", product=5, qty=3)
    before = stock_of(c, 5)
    oid = created_id(c.post("/api/orders", content=order_xml(ids, f"{expected_total(c, 5, 3):.2f}")).text, "order")
    assert stock_of(c, 5) == before - 3
    r = c.post("/api/order_histories", params={"sendemail": "1"}, content=(
        f"<prestashop><order_history><id_order>{oid}</id_order><id_order_state>4</id_order_state></order_history></prestashop>"))
    assert r.status_code == 201
    assert field(r.text, "order_history", "id_order_state") == "4"
    assert field(c.get(f"/api/orders/{oid}").text, "order", "current_state") == "4"
    c.post("/api/order_histories", content=(
        f"<prestashop><order_history><id_order>{oid}</id_order><id_order_state>6</id_order_state></order_history></prestashop>"))
    order = obj(c.get(f"/api/orders/{oid}").text, "order")
    assert order.findtext("current_state") == "6" and order.findtext("valid") == "0"
    assert stock_of(c, 5) == before


def test_patch_current_state_and_tracking_number(c: httpx.Client) -> None:
    ids = make_cart(c, "track@example.com", product=7, qty=1)
    oid = created_id(c.post("/api/orders", content=order_xml(ids, f"{expected_total(c, 7, 1):.2f}")).text, "order")
    r = c.patch("/api/orders", content=f"<prestashop><order><id>{oid}</id><current_state>3</current_state></order></prestashop>")
    assert r.status_code == 200
    states = root(c.get("/api/order_histories", params={"filter[id_order]": str(oid), "display": "[id_order_state]"}).text)
    assert [h.findtext("id_order_state") for h in states.iter("order_history")] == ["11", "3"]
    carrier = root(c.get("/api/order_carriers", params={"filter[id_order]": str(oid), "display": "full"}).text).find(
        "order_carriers/order_carrier")
    assert carrier is not None
    ocid = carrier.findtext("id")
    r = c.patch("/api/order_carriers", content=(
        f"<prestashop><order_carrier><id>{ocid}</id><tracking_number>1Z999AA10123456784</tracking_number></order_carrier></prestashop>"))
    assert r.status_code == 200
    assert field(c.get(f"/api/orders/{oid}").text, "order", "shipping_number") == "1Z999AA10123456784"
    r = c.patch("/api/order_carriers", content=(
        f"<prestashop><order_carrier><id>{ocid}</id><tracking_number>bad&lt;tracking</tracking_number></order_carrier></prestashop>"))
    assert r.status_code == 400 and errors(r.text)[0][0] == 85


def test_address_used_by_an_order_is_soft_deleted(c: httpx.Client) -> None:
    ids = make_cart(c, "soft@example.com", product=8, qty=1)
    c.post("/api/orders", content=order_xml(ids, "1.00"))
    assert c.delete(f"/api/addresses/{ids['address']}").status_code == 200
    assert field(c.get(f"/api/addresses/{ids['address']}").text, "address", "deleted") == "1"


def test_put_order_without_current_state_resets_it(c: httpx.Client) -> None:
    # reference §8.2 / §12.1: PUT is a full replacement, so a PUT that omits <current_state> zeroes it
    ids = make_cart(c, "putorder@example.com", product=9, qty=1)
    oid = created_id(c.post("/api/orders", content=order_xml(ids, f"{expected_total(c, 9, 1):.2f}")).text, "order")
    body = c.get(f"/api/orders/{oid}").text
    start, end = body.index("\t<current_state"), body.index("</current_state>\n") + len("</current_state>\n")
    r = c.put(f"/api/orders/{oid}", content=body[:start] + body[end:])
    assert r.status_code == 200, r.text
    order = obj(c.get(f"/api/orders/{oid}").text, "order")
    assert order.findtext("current_state") == "0"
    assert order.findtext("reference") == obj(body, "order").findtext("reference")  # sent back, so kept
