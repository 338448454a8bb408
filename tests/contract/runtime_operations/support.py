"""Helpers shared by the SystemOperations contract tests and the order-to-cash e2e test.

* :func:`sandbox_flow_dir` writes a user flow folder whose copies of the default order and
  customer flows use mappings set up for the AX sandbox's company: its warehouses are ``11``
  (site ``1``) and ``21``, its customer groups ``WEB``/``10``/``20``, its unit ``ea``; the
  shipped defaults name ``MAIN``, ``RETAIL``/``B2B`` and ``pcs``, which a real company would
  also adapt. That is what a user does (copy, change, put the folder in ``flow_dirs``).
* :func:`place_order` places an order the way a shop does: customer -> address -> cart -> order,
  with ``total_paid`` equal to the cart total so the order starts paid (state 11).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from runtime.demo import write_sandbox_flows

PS_KEY = "RTOPSKEY0123456789ABCDEFGHIJKLMN"
#: the AX sandbox's seeded item that the test product in the shop stands for
AX_ITEM = "A0001"
#: the price of the shop's test product (tax excluded); French VAT 20 % applies
PRICE = Decimal("10.00")


def sandbox_flow_dir(root: Path) -> Path:
    """Write the adapted flows and mappings under ``root/flows`` (the demo's own setup)."""
    return write_sandbox_flows(root)


async def shop_product(shop: Any, reference: str = AX_ITEM) -> dict[str, Any]:
    """The shop product with this reference (default: the AX item :data:`AX_ITEM`), created once."""
    found = await shop.list("products", display=["id", "reference"], filters={"reference": f"[{reference}]"})
    if found:
        return dict(found[0])
    return dict(await shop.create("products", {
        "reference": reference, "price": str(PRICE), "id_tax_rules_group": 1, "active": 1,
        "id_category_default": 2, "name": {1: "AX test item", 2: "Article de test AX"},
        "link_rewrite": {1: "ax-test-item", 2: "article-test-ax"}, "available_for_order": 1,
        "show_price": 1, "state": 1,
    }))


async def place_order(shop: Any, email: str, quantity: int = 2, reference: str = AX_ITEM) -> dict[str, Any]:
    """A paid order (state 11) for ``quantity`` of the test product, delivered in France by the
    free carrier (id 1), so its total is ``PRICE * 1.2 * quantity``."""
    product = await shop_product(shop, reference)
    customer = await shop.create("customers", {"lastname": "Buyer", "firstname": "Bea", "email": email,
                                               "passwd": "buyer-pass-1", "id_default_group": 3, "active": 1})
    address = await shop.create("addresses", {"id_customer": customer["id"], "id_country": 8, "alias": "Home",
                                              "lastname": "Buyer", "firstname": "Bea", "address1": "1 rue de Rivoli",
                                              "postcode": "75001", "city": "Paris"})
    cart = await shop.create("carts", {
        "id_currency": 1, "id_lang": 1, "id_customer": customer["id"], "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "id_carrier": 1, "secure_key": customer["secure_key"],
        "associations": {"cart_rows": [{"id_product": product["id"], "id_product_attribute": 0,
                                        "id_address_delivery": address["id"], "quantity": quantity}]},
    })
    total = (PRICE * Decimal("1.2") * quantity).quantize(Decimal("0.01"))
    return dict(await shop.create("orders", {
        "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1, "id_lang": 1,
        "id_customer": customer["id"], "id_carrier": 1, "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "total_paid": str(total), "total_paid_real": "0",
        "total_products": str(PRICE * quantity), "total_products_wt": str(total), "conversion_rate": 1,
    }))
