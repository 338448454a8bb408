"""The chaos campaign's shoppers: orders placed in the shop sandbox the way a shop's front office
does (customer -> address -> cart -> paid order), through the storms the campaign itself causes.

The customers' data is synthetic and distinctive (:data:`FIRST`, :data:`LAST`, :data:`STREET`,
e-mails starting ``zq.chaos``) so that a leak into a log or a span is found by a plain search
(tests/chaos/test_no_secrets_leak.py).
"""

from __future__ import annotations

import asyncio
import secrets
import time
from decimal import Decimal
from typing import Any

__all__ = ["FIRST", "LAST", "STREET", "place_all", "place_order"]

#: the customers' data the orders carry; distinctive so that a leak is found by a plain search
FIRST, LAST, STREET = "Zelmira", "Quorvath", "Rue Xylophane"


async def patient(call: Any, *args: Any, **kwargs: Any) -> Any:
    """``await call(...)`` again after a 503/429/network error (the storm also hits the shopper:
    an injected refusal happens before the webservice runs; an answer lost after the shop created
    a record is the caller's business: see place_order)."""
    from connectors.errors import TransientError

    for attempt in range(60):
        try:
            return await call(*args, **kwargs)
        except TransientError as exc:
            if attempt == 59:
                raise
            await asyncio.sleep(min(5.0, exc.retry_after or 0.5))
    raise AssertionError("unreachable")


def letters(n: int) -> str:
    """``n`` in letters (a shop's names may not hold digits): 0 -> "a", 27 -> "bb"."""
    out = ""
    while True:
        n, r = divmod(n, 26)
        out = chr(97 + r) + out
        if not n:
            return out


async def place_order(shop: Any, n: int, product_id: int) -> dict[str, Any]:
    """A shopper: customer -> address -> cart -> paid order (total = the cart's), for one of ``ITEM``."""
    from connectors.errors import DuplicateError
    from connectors.prestashop import F
    from runtime.demo import DEMO_PRICE

    email = f"zq.chaos{n}.{secrets.token_hex(3)}@example.org"
    customer = await patient(shop.create, "customers", {
        "lastname": f"{LAST}{letters(n)}", "firstname": FIRST, "email": email, "passwd": "buyer-pass-1",
        "id_default_group": 3, "active": 1})
    address = await patient(shop.create, "addresses", {
        "id_customer": customer["id"], "id_country": 8, "alias": "Home", "lastname": f"{LAST}{letters(n)}",
        "firstname": FIRST, "address1": f"{n} {STREET}", "postcode": "75001", "city": "Paris"})
    cart = await patient(shop.create, "carts", {
        "id_currency": 1, "id_lang": 1, "id_customer": customer["id"], "id_address_delivery": address["id"],
        "id_address_invoice": address["id"], "id_carrier": 1, "secure_key": customer["secure_key"],
        "associations": {"cart_rows": [{"id_product": product_id, "id_product_attribute": 0,
                                        "id_address_delivery": address["id"], "quantity": 1}]}})
    total = (DEMO_PRICE * Decimal("1.2")).quantize(Decimal("0.01"))
    try:
        order = await patient(shop.create, "orders", {
            "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1,
            "id_lang": 1, "id_customer": customer["id"], "id_carrier": 1, "id_address_delivery": address["id"],
            "id_address_invoice": address["id"], "total_paid": str(total), "total_paid_real": "0",
            "total_products": str(DEMO_PRICE), "total_products_wt": str(total), "conversion_rate": 1})
    except DuplicateError:  # an attempt whose answer was lost placed it: the cart's order is the one
        (order,) = await patient(shop.list, "orders", display=["id", "reference"],
                                 filters={"id_cart": F.eq(int(cart["id"]))})
    return {"id": order["id"], "reference": order["reference"], "total_paid": str(total), "email": email}


async def place_all(shop: Any, count: int, rate: float, product_id: int) -> list[dict[str, Any]]:
    """Start one order every 1/rate s (not waiting for the previous one); return them all."""
    tasks, start = [], time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(place_order(shop, n, product_id)))
    return list(await asyncio.gather(*tasks))


