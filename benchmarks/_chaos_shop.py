"""The chaos campaign's shoppers: orders placed in the shop sandbox the way a shop's front office
does (customer -> address -> cart -> order), through the storms the campaign itself causes.

Most orders are paid at checkout (the webservice's order create: state "Remote payment accepted",
the shop records the payment). Every :data:`WIRE_EVERY`-th order is checked out with bank wire
instead (the sandbox's front-office checkout: "Awaiting bank wire payment", no payment): the shop
gets its payment only from AX, once the campaign's bank settled its AX invoice (benchmarks/chaos.py),
so the campaign also drives AX's settlement back to the shop.

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

__all__ = ["FIRST", "LAST", "STREET", "WIRE_EVERY", "place_all", "place_order"]

#: the customers' data the orders carry; distinctive so that a leak is found by a plain search
FIRST, LAST, STREET = "Zelmira", "Quorvath", "Rue Xylophane"
#: every WIRE_EVERY-th order (n % WIRE_EVERY == 1) is a bank-wire order, paid through AX
WIRE_EVERY = 4


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


async def place_order(shop: Any, n: int, product_id: int, front_office: Any = None) -> dict[str, Any]:
    """A shopper: customer -> address -> cart -> order (total = the cart's), for one of ``ITEM``:
    paid at checkout, or, for every :data:`WIRE_EVERY`-th ``n`` when ``front_office`` (an HTTP
    client of the shop sandbox carrying its key) is given, checked out with bank wire and unpaid."""
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
    wire = front_office is not None and n % WIRE_EVERY == 1
    if wire:
        order = await _wire_checkout(front_office, int(cart["id"]))
    else:
        order = await _paid_order(shop, cart, customer, address, total)
    if order is None:  # an attempt whose answer was lost placed it: the cart's order is the one
        (order,) = await patient(shop.list, "orders", display=["id", "reference"],
                                 filters={"id_cart": F.eq(int(cart["id"]))})
    return {"id": order["id"], "reference": order["reference"], "total_paid": str(total), "email": email,
            "wire": wire}


async def _paid_order(shop: Any, cart: dict[str, Any], customer: dict[str, Any], address: dict[str, Any],
                      total: Decimal) -> dict[str, Any] | None:
    """The webservice's order create, paid in full (``None``: a lost answer had placed it)."""
    from connectors.errors import DuplicateError
    from runtime.demo import DEMO_PRICE

    try:
        return dict(await patient(shop.create, "orders", {
            "id_cart": cart["id"], "module": "ps_wirepayment", "payment": "Bank wire", "id_currency": 1,
            "id_lang": 1, "id_customer": customer["id"], "id_carrier": 1, "id_address_delivery": address["id"],
            "id_address_invoice": address["id"], "total_paid": str(total), "total_paid_real": "0",
            "total_products": str(DEMO_PRICE), "total_products_wt": str(total), "conversion_rate": 1}))
    except DuplicateError:
        return None


async def _wire_checkout(front_office: Any, cart_id: int) -> dict[str, Any] | None:
    """The front office's bank-wire checkout of the cart (``None``: a lost answer had placed it).
    The shop answers 400 for a cart that has its order already: that is the lost answer's order."""
    import httpx

    for attempt in range(60):
        try:
            response = await front_office.post("/_sandbox/checkout", json={"id_cart": cart_id,
                                                                           "module": "ps_wirepayment"})
        except httpx.HTTPError:
            if attempt == 59:
                raise
            await asyncio.sleep(0.5)
            continue
        if response.status_code == 201:
            return dict(response.json())
        if response.status_code == 400 and attempt:
            return None
        if response.status_code < 500 and response.status_code != 429:
            raise RuntimeError(f"bank-wire checkout of cart {cart_id}: HTTP {response.status_code} {response.text[:200]}")
        await asyncio.sleep(0.5)
    raise AssertionError("unreachable")


async def place_all(shop: Any, count: int, rate: float, product_id: int,
                    front_office: Any = None) -> list[dict[str, Any]]:
    """Start one order every 1/rate s (not waiting for the previous one); return them all
    (bank-wire ones among them when ``front_office`` is given, see :func:`place_order`)."""
    tasks, start = [], time.monotonic()
    for n in range(count):
        await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
        tasks.append(asyncio.create_task(place_order(shop, n, product_id, front_office)))
    return list(await asyncio.gather(*tasks))


