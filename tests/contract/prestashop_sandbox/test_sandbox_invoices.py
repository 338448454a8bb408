"""Order invoices over the webservice (reference §8.4 and the ``order_invoices`` table) and the
front-office checkout of an offline payment (bank wire), which starts unpaid and uninvoiced."""

from __future__ import annotations

import httpx
import pytest

from tests.contract.prestashop_sandbox.helpers import created_id, errors, field, root
from tests.contract.prestashop_sandbox.test_sandbox_orders import expected_total, make_cart, order_xml

pytestmark = pytest.mark.contract

SEED = 10


def invoices_of(c: httpx.Client, order_id: int) -> list[str]:
    r = c.get("/api/order_invoices", params={"filter[id_order]": f"[{order_id}]"})
    assert r.status_code == 200, r.text
    return [el.get("id") or "" for el in root(r.text).iter("order_invoice")]


def test_a_paid_order_has_one_invoice_whose_note_can_be_patched(c: httpx.Client) -> None:
    ids = make_cart(c, "inv.paid@example.com")
    total = f"{expected_total(c, 1, 2):.2f}"
    oid = created_id(c.post("/api/orders", content=order_xml(ids, total)).text, "order")
    (iid,) = invoices_of(c, oid)  # state 11 made it
    r = c.patch("/api/order_invoices", content=(
        f"<prestashop><order_invoice><id>{iid}</id><note>AX invoice CIV-000001</note></order_invoice></prestashop>"))
    assert r.status_code == 200, r.text
    r = c.get(f"/api/order_invoices/{iid}")
    assert field(r.text, "order_invoice", "note") == "AX invoice CIV-000001"
    assert field(r.text, "order_invoice", "id_order") == str(oid) and field(r.text, "order_invoice", "number") != "0"
    # PUT needs the required fields (code 41), like every resource
    r = c.put("/api/order_invoices", content=(
        f"<prestashop><order_invoice><id>{iid}</id><note>x</note></order_invoice></prestashop>"))
    assert r.status_code == 400 and errors(r.text)[0][0] == 41, r.text


def test_bank_wire_checkout_is_unpaid_and_an_invoice_can_be_posted_for_it(c: httpx.Client) -> None:
    ids = make_cart(c, "inv.wire@example.com")
    r = c.post("/_sandbox/checkout", json={"id_cart": int(ids["cart"]), "module": "ps_wirepayment"})
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["current_state"] == "10"  # Awaiting bank wire payment: no invoice, no payment
    assert invoices_of(c, int(order["id"])) == []
    payments = c.get("/api/order_payments", params={"filter[order_reference]": f"[{order['reference']}]"})
    assert "<order_payment " not in payments.text
    r = c.post("/api/order_invoices", content=(
        f"<prestashop><order_invoice><id_order>{order['id']}</id_order><number>42</number>"
        "<total_paid_tax_incl>24.00</total_paid_tax_incl><note>AX invoice CIV-000042</note>"
        "</order_invoice></prestashop>"))
    assert r.status_code == 201, r.text
    assert invoices_of(c, int(order["id"])) == [str(created_id(r.text, "order_invoice"))]
    # the same cart cannot be checked out twice; an unknown module is refused
    again = c.post("/_sandbox/checkout", json={"id_cart": int(ids["cart"]), "module": "ps_wirepayment"})
    assert again.status_code == 400 and "already" in again.json()["error"]
    other = make_cart(c, "inv.wire2@example.com")
    bad = c.post("/_sandbox/checkout", json={"id_cart": int(other["cart"]), "module": "stripe"})
    assert bad.status_code == 400 and "stripe" in bad.json()["error"]


def test_checkout_needs_a_key(shop: str) -> None:
    with httpx.Client(base_url=shop) as anon:
        assert anon.post("/_sandbox/checkout", json={"id_cart": 1, "module": "ps_wirepayment"}).status_code == 401
