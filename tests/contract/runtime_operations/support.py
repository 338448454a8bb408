"""Helpers shared by the SystemOperations contract tests and the order-to-cash e2e test.

* :func:`sandbox_flow_dir` writes a user flow folder whose copies of the default order and
  customer flows use mappings set up for the AX sandbox's company: its warehouses are ``11``
  (site ``1``) and ``21``, its customer groups ``WEB``/``10``/``20``, its unit ``ea``; the
  shipped defaults name ``MAIN``, ``RETAIL``/``B2B`` and ``pcs``, which a real company would
  also adapt. That is what a user does (copy, change, put the folder in ``flow_dirs``).
* :func:`place_order` places an order the way a shop does: customer -> address -> cart -> order,
  with ``total_paid`` equal to the cart total so the order starts paid (state 11).
* :func:`place_bank_wire_order` places an unpaid order the way a shopper does in the front
  office (the sandbox's ``/_sandbox/checkout`` with ``ps_wirepayment``): state 10, no invoice,
  no payment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx

from runtime.demo import DEMO_PRICE, demo_product, place_sample_order, sample_cart, write_sandbox_flows

PS_KEY = "RTOPSKEY0123456789ABCDEFGHIJKLMN"
#: the AX sandbox's seeded item that the test product in the shop stands for
AX_ITEM = "A0001"
#: the price of the shop's test product (tax excluded); French VAT 20 % applies
PRICE = DEMO_PRICE


def sandbox_flow_dir(root: Path) -> Path:
    """Write the adapted flows and mappings under ``root/flows`` (the demo's own setup)."""
    return write_sandbox_flows(root)


async def shop_product(shop: Any, reference: str = AX_ITEM) -> dict[str, Any]:
    """The shop product with this reference (default: the AX item :data:`AX_ITEM`), created once."""
    return await demo_product(shop, reference)


async def place_order(shop: Any, email: str, quantity: int = 2, reference: str = AX_ITEM) -> dict[str, Any]:
    """A paid order (state 11) for ``quantity`` of the test product, delivered in France by the
    free carrier (id 1), so its total is ``PRICE * 1.2 * quantity``."""
    return await place_sample_order(shop, email, quantity, reference)


async def place_bank_wire_order(shop: Any, ps_url: str, email: str, quantity: int = 2,
                                reference: str = AX_ITEM) -> dict[str, Any]:
    """An order checked out in the front office with bank wire: state 10 "Awaiting bank wire
    payment", neither invoice nor payment yet. Returns the order as the webservice reads it."""
    _, _, cart = await sample_cart(shop, email, quantity, reference, lastname="Wire", firstname="Wim",
                                   street="2 rue de Rivoli")
    async with httpx.AsyncClient(base_url=ps_url, auth=(PS_KEY, ""), timeout=10) as http:
        response = await http.post("/_sandbox/checkout", json={"id_cart": int(cart["id"]), "module": "ps_wirepayment"})
        assert response.status_code == 201, response.text
    return dict(await shop.get("orders", int(response.json()["id"])))
