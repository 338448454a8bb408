"""A customer payment the ERP settled, recorded in the shop without ever paying an order twice.

PrestaShop has two ways of holding a payment (reference, order_payments and order_histories):

* a state with ``paid=1`` (Payment accepted, Remote payment accepted, Shipped...) adds an
  ``order_payment`` for the part of the order's invoice that its linked payments do not cover,
  links it to the invoice and raises ``total_paid_real``: the shop's own bookkeeping;
* a POSTed ``order_payment`` only inserts the row: no invoice link, no ``total_paid_real``.

So a payment POSTed for an unpaid order is invisible to the shop's own bookkeeping: when that
order later moves to Shipped (``paid=1``), the shop adds a second payment of the whole total.
(Found by the chaos campaign, benchmarks/chaos.py: a bank-wire order whose AX invoice was
settled before its packing slip was worked ended with two payments.)

:func:`record_settlement` therefore pays an order the way a merchant marks a bank wire received
when the ERP settled the whole order and the shop holds no payment yet: it moves the order to
Payment accepted, and PrestaShop records the payment itself; the bridge then stamps that
payment with the ERP's settlement voucher (``transaction_id``) and payment method. A partial
settlement, or one that completes a partly paid order, is POSTed as a plain ``order_payment``
for only what the shop's payments do not cover yet. Whether the shop's own bookkeeping covers
an order (and a paid state may be posted without adding a payment) is :func:`shop_paid`.
"""

from __future__ import annotations

from decimal import Decimal

from connectors.errors import ValidationError

from .client import Client
from .codec import Record
from .operations import change_order_state, find_order_by_reference, paid_total, record_payment
from .query import F

__all__ = ["record_settlement", "shop_paid"]

_SYSTEM = "prestashop"


def shop_paid(order: Record) -> bool:
    """Whether the shop's own bookkeeping holds the order's total (``total_paid_real`` >=
    ``total_paid``): only then does a ``paid=1`` state (Shipped) add no payment of its own."""
    return Decimal(str(order.get("total_paid_real") or "0")) >= Decimal(str(order.get("total_paid") or "0"))


async def record_settlement(
    client: Client,
    order_reference: str,
    settled: Decimal | float | str,
    *,
    payment_method: str,
    transaction_id: str,
    accepted_state: int | None = None,
    id_currency: int | None = None,
    conversion_rate: Decimal | float | str | None = None,
    date_add: str | None = None,
) -> Record | None:
    """Record what the ERP says the customer paid for the order, without paying it twice.

    ``settled`` is the amount the ERP has settled on the order's invoice (its running total,
    not one installment); ``transaction_id`` the ERP's settlement voucher. With
    ``accepted_state`` (the shop's Payment accepted state id), an order the ERP settled in full
    that holds no payment yet is moved to that state, and the payment PrestaShop adds for it
    gets ``transaction_id`` and ``payment_method``; otherwise (or partly paid already) only
    ``settled`` minus the shop's payments is added, as one ``order_payment``.

    Returns the payment added, the payment of an earlier call with the same ``transaction_id``
    (safe to retry, also after a crash between the state change and the stamp), or ``None``
    when the shop holds the settled amount already (nothing to add). Raises
    :class:`NotFoundError` when no order has the reference, :class:`ValidationError` for a
    negative amount or an empty ``transaction_id``.
    """
    amount = Decimal(str(settled))
    if amount < 0:
        raise ValidationError(f"The settled amount for order {order_reference} is negative.", system=_SYSTEM)
    if not transaction_id.strip():
        raise ValidationError(f"The settlement for order {order_reference} has no transaction id "
                              "(the settlement voucher makes the write idempotent).", system=_SYSTEM)
    order = await find_order_by_reference(client, order_reference)
    recorded, rows = await paid_total(client, order["reference"])
    for row in rows:
        if row.get("transaction_id") == transaction_id:
            return row
    due = amount - recorded
    if due <= 0:
        if accepted_state is not None:
            return await _stamp_accepted_payment(client, order, rows, int(accepted_state), transaction_id,
                                                 payment_method)
        return None
    if accepted_state is not None and recorded == 0:
        full = await client.get("orders", int(order["id"]), display=["id", "total_paid", "total_paid_real"])
        if amount >= Decimal(str(full.get("total_paid") or "0")) and not shop_paid(full):
            await change_order_state(client, int(order["id"]), int(accepted_state))
            _recorded, rows = await paid_total(client, order["reference"])
            return await _stamp_accepted_payment(client, order, rows, int(accepted_state), transaction_id,
                                                 payment_method)
    return await record_payment(client, order["reference"], due.quantize(Decimal("0.01")),
                                payment_method=payment_method, transaction_id=transaction_id,
                                id_currency=id_currency, conversion_rate=conversion_rate, date_add=date_add)


async def _stamp_accepted_payment(client: Client, order: Record, rows: list[Record], accepted_state: int,
                                  transaction_id: str, payment_method: str) -> Record | None:
    """The payment the shop added when the order moved to ``accepted_state``, stamped with the
    ERP's voucher; ``None`` when there is none to stamp (the shop took the payment itself, e.g.
    at checkout). The payment is the one without a transaction id added at or after the order's
    latest move to that state: a checkout's own payment predates any such move."""
    blank = [r for r in rows if not str(r.get("transaction_id") or "").strip()]
    if not blank:
        return None
    moves = await client.list("order_histories", display=["id", "date_add"], sort=["id_DESC"], limit=1,
                              filters={"id_order": F.eq(int(order["id"])), "id_order_state": F.eq(accepted_state)})
    if not moves:
        return None
    since = str(moves[0].get("date_add") or "")
    candidates = [r for r in blank if str(r.get("date_add") or "") >= since]
    if len(candidates) != 1:
        return None
    payment = candidates[0]
    return await client.update("order_payments", int(payment["id"]),
                               {"transaction_id": transaction_id, "payment_method": payment_method})
