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

from pathlib import Path
from typing import Any

from runtime.demo import DEMO_PRICE, demo_product, place_sample_order, write_sandbox_flows

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
