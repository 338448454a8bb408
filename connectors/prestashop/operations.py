"""Domain operations the flows need, each done the way PrestaShop supports it.

* :func:`change_order_state` posts an ``order_history`` (optionally ``sendemail=1``), the
  supported path that runs the state's side effects (invoice, payment, stock, hooks).
* :func:`set_tracking_number` updates the order's ``order_carrier`` row (merge, never wipe).
* :func:`set_stock` updates the ``stock_available`` row of a product or combination and refuses
  rows that depend on advanced stock management (PrestaShop would answer error 133).
* :func:`record_payment` adds an ``order_payment`` linked by the order *reference*; it is
  idempotent on ``transaction_id``.
* :func:`record_invoice` records an ERP invoice on the order's ``order_invoice`` (the shop's
  own invoice when it has one, a new one otherwise); idempotent on the ERP invoice number.
* :func:`~connectors.prestashop.settlement.record_settlement` (its own module) records a
  customer payment the ERP settled without the shop ever paying an order twice.
* :func:`find_order_state` finds the id of a standard order state (e.g. Canceled) by its mail
  template, then by name, since ids differ between shops (reference §8.3).

Each function takes a :class:`~connectors.prestashop.Client` and returns the saved record.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from connectors.errors import NotFoundError, ValidationError

from .client import Client
from .codec import Record
from .query import F

__all__ = ["CANCELED_STATE", "PAYMENT_ACCEPTED_STATE", "change_order_state", "find_order_by_reference", "find_order_state", "invoice_marker", "paid_total", "record_invoice",
           "record_payment", "set_stock", "set_tracking_number"]

_SYSTEM = "prestashop"

#: how the stock "Canceled" state (``PS_OS_CANCELED``) is recognised: its mail template, its names
CANCELED_STATE = ("order_canceled", ("Canceled", "Cancelled", "Annulé"))
#: "Payment accepted" (PS_OS_PAYMENT): "Remote payment accepted" shares its mail template
PAYMENT_ACCEPTED_STATE = ("payment", ("Payment accepted", "Paiement accepté"))


async def change_order_state(
    client: Client, order_id: int, state_id: int, *, send_email: bool = False, employee_id: int = 0
) -> Record:
    """Move order ``order_id`` to ``state_id`` by POSTing an ``order_history``.

    ``send_email`` adds ``sendemail=1`` so the shop mails the customer when the state has a
    template. PrestaShop does not refuse re-posting the current state (it would add a second
    history row and re-run side effects), so this reads the order first and returns its
    latest history row without writing when the order is already in ``state_id``.
    Raises :class:`NotFoundError` when the order does not exist.
    """
    order = await client.get("orders", order_id, display=["id", "current_state"])
    if str(order.get("current_state")) == str(int(state_id)):
        rows = await client.list(
            "order_histories", display="full",
            filters={"id_order": F.eq(int(order_id)), "id_order_state": F.eq(int(state_id))},
            sort=["id_DESC"], limit=1,
        )
        if rows:
            return rows[0]
    params = {"sendemail": "1"} if send_email else None
    return await client.create(
        "order_histories",
        {"id_order": int(order_id), "id_order_state": int(state_id), "id_employee": int(employee_id)},
        params=params,
    )


async def set_tracking_number(
    client: Client, order_id: int, tracking_number: str, *, send_email: bool = False, carrier_id: int | None = None
) -> Record:
    """Write ``tracking_number`` on the order's carrier row (``order_carriers``).

    When the order has several carrier rows, ``carrier_id`` picks one; otherwise the most
    recent row is used. ``send_email`` adds ``sendemail=1`` (the "in transit" mail).
    Raises :class:`NotFoundError` when the order has no carrier row, :class:`ValidationError`
    when the number is empty. Writing the number already stored is a no-op.
    """
    number = tracking_number.strip()
    if not number:
        raise ValidationError(f"The tracking number for order {order_id} is empty.", system=_SYSTEM)
    filters: dict[str, Any] = {"id_order": F.eq(int(order_id))}
    if carrier_id is not None:
        filters["id_carrier"] = F.eq(int(carrier_id))
    rows = await client.list("order_carriers", display="full", filters=filters, sort=["id_DESC"], limit=1)
    if not rows:
        raise NotFoundError(
            f"Order {order_id} has no carrier row in PrestaShop, so no tracking number can be set.", system=_SYSTEM
        )
    row = rows[0]
    if row.get("tracking_number") == number:
        return row
    params = {"sendemail": "1"} if send_email else None
    return await client.update("order_carriers", row["id"], {"tracking_number": number}, params=params)


async def set_stock(
    client: Client, product_id: int, quantity: int, *, combination_id: int = 0, out_of_stock: int | None = None
) -> Record:
    """Set the available quantity of a product (``combination_id=0``) or of one combination.

    Finds the ``stock_available`` row for the client's shop context and updates it with a
    merged PUT. Raises :class:`ValidationError` when the row depends on advanced stock
    management (``depends_on_stock=1``: quantities come from warehouses and PrestaShop refuses
    the write with error 133), :class:`NotFoundError` when the product/combination has no row.
    Idempotent: the same quantity twice leaves the shop unchanged (no write the second time).
    """
    rows = await client.list(
        "stock_availables", display="full",
        filters={"id_product": F.eq(int(product_id)), "id_product_attribute": F.eq(int(combination_id))},
    )
    if not rows:
        raise NotFoundError(
            f"Product {product_id} (combination {combination_id}) has no stock row in PrestaShop.", system=_SYSTEM
        )
    row = rows[0]
    if row.get("depends_on_stock") == "1":
        raise ValidationError(
            f"Product {product_id} (combination {combination_id}) uses advanced stock management "
            "(depends_on_stock=1): its quantity comes from warehouses and cannot be set through "
            "stock_availables. Turn advanced stock off for it or update the warehouse stock.",
            system=_SYSTEM, code=133,
        )
    changes: dict[str, Any] = {"quantity": int(quantity)}
    if out_of_stock is not None:
        changes["out_of_stock"] = int(out_of_stock)
    if all(str(row.get(k)) == str(v) for k, v in changes.items()):
        return row
    return await client.update("stock_availables", row["id"], changes)


async def find_order_by_reference(client: Client, reference: str) -> Record:
    """The (first) order with this reference; :class:`NotFoundError` when there is none."""
    ref = reference.strip()
    if not ref or len(ref) > 9:
        raise ValidationError(
            f"'{ref}' is not a PrestaShop order reference (up to 9 characters).", system=_SYSTEM
        )
    rows = await client.list(
        "orders", display=["id", "reference", "id_currency", "conversion_rate", "current_state"],
        filters={"reference": F.eq(ref)}, sort=["id_ASC"], limit=1,
    )
    if not rows:
        raise NotFoundError(f"No PrestaShop order has the reference {ref}.", system=_SYSTEM)
    return rows[0]


async def record_payment(
    client: Client,
    order_reference: str,
    amount: Decimal | float | str,
    *,
    payment_method: str,
    transaction_id: str = "",
    id_currency: int | None = None,
    conversion_rate: Decimal | float | str | None = None,
    date_add: str | None = None,
) -> Record:
    """Add an ``order_payment`` for the order with ``order_reference``.

    The currency and conversion rate default to the order's. With a ``transaction_id``, a
    payment already recorded for that reference and transaction is returned instead of a
    second one (safe to retry). Note that PrestaShop only inserts the row: it does not link it
    to an invoice nor raise the order's ``total_paid_real``.
    Raises :class:`NotFoundError` when no order has the reference, :class:`ValidationError`
    for a negative amount.
    """
    value = Decimal(str(amount))
    if value < 0:
        raise ValidationError(f"The payment amount for order {order_reference} is negative.", system=_SYSTEM)
    order = await find_order_by_reference(client, order_reference)
    ref = order["reference"]
    if transaction_id:
        existing = await client.list(
            "order_payments", display="full",
            filters={"order_reference": F.eq(ref), "transaction_id": F.eq(transaction_id)}, limit=1,
        )
        if existing:
            return existing[0]
    record: dict[str, Any] = {
        "order_reference": ref,
        "id_currency": int(id_currency) if id_currency is not None else int(order["id_currency"]),
        "amount": value,
        "payment_method": payment_method,
        "conversion_rate": Decimal(str(conversion_rate)) if conversion_rate is not None
        else Decimal(order.get("conversion_rate") or "1"),
        "transaction_id": transaction_id,
    }
    if date_add:
        record["date_add"] = date_add
    return await client.create("order_payments", record)


def invoice_marker(invoice_id: str) -> str:
    """The text that opens the note line of an ERP invoice on an ``order_invoice``."""
    return f"AX invoice {invoice_id.strip()}"


def _has_marker(note: Any, marker: str) -> bool:
    return any(line.strip() == marker or line.strip().startswith(marker + " ")
               for line in str(note or "").splitlines())


async def record_invoice(client: Client, order_id: int, invoice_id: str, invoice: Mapping[str, Any]) -> Record:
    """Record the ERP invoice ``invoice_id`` on order ``order_id``'s ``order_invoice``.

    ``invoice`` is an ``order_invoices`` record whose ``note`` is one line opening with
    :func:`invoice_marker` (number, date, amount). When the order already has an
    ``order_invoice`` (a paid state such as 11 made one), that line is appended to the note of
    the latest one and nothing else changes: the shop's own number and totals stay. When it has
    none (an unpaid order), ``invoice`` is created as the order's invoice. Either way no
    ``order_payment`` is added: an invoice is not a payment.
    Idempotent: an ``order_invoice`` of the order whose note holds the marker is returned as is.
    Raises :class:`ValidationError` for an empty invoice id or a note without the marker.
    """
    marker = invoice_marker(invoice_id)
    line = str(invoice.get("note") or "").strip()
    if not invoice_id.strip() or not line.startswith(marker):
        raise ValidationError(f"The note of the invoice for order {order_id} must open with '{marker}' "
                              "(it makes the write idempotent).", system=_SYSTEM)
    rows = await client.list("order_invoices", display="full", filters={"id_order": F.eq(int(order_id))},
                             sort=["id_ASC"])
    for row in rows:
        if _has_marker(row.get("note"), marker):
            return row
    if rows:
        latest = rows[-1]
        note = str(latest.get("note") or "").rstrip()
        return await client.update("order_invoices", latest["id"], {"note": f"{note}\n{line}" if note else line})
    record = {k: v for k, v in invoice.items() if v is not None and k != "id"}
    record["id_order"] = int(order_id)
    return await client.create("order_invoices", record)


async def paid_total(client: Client, order_reference: str) -> tuple[Decimal, list[Record]]:
    """The sum of the ``order_payments`` of ``order_reference`` and the rows themselves (all
    orders of a split cart share the reference, and so their payments)."""
    rows = await client.list("order_payments", display="full", filters={"order_reference": F.eq(order_reference)})
    return sum((Decimal(str(r.get("amount") or "0")) for r in rows), Decimal(0)), rows


async def find_order_state(client: Client, template: str, names: tuple[str, ...] = ()) -> int:
    """The id of the order state sending mail template ``template`` (any language), or else the
    one named one of ``names`` (any language, case-insensitive); deleted states are ignored.
    Several states sharing the template (``payment``: Payment accepted and Remote payment
    accepted) are told apart by ``names``.

    Ids follow each shop's install history (``PS_OS_*`` differ after upgrades, reference §8.3), so
    a flow resolves a state this way instead of naming an id. Raises :class:`NotFoundError` when
    no state or several states match."""
    rows = [r for r in await client.list("order_states", display="full") if str(r.get("deleted") or "0") != "1"]

    def texts(row: Record, field: str) -> set[str]:
        value = row.get(field)
        values = value.values() if isinstance(value, Mapping) else [value]
        return {str(v).strip().lower() for v in values if v not in (None, "")}

    wanted = {n.strip().lower() for n in names}
    by_template = [r for r in rows if template.lower() in texts(r, "template")]
    if len(by_template) > 1:  # states sharing a template (payment: 2 and 11): the named one of them
        by_template = [r for r in by_template if texts(r, "name") & wanted] or by_template
    for matches in (by_template, [r for r in rows if texts(r, "name") & wanted]):
        if len(matches) == 1:
            return int(matches[0]["id"])
        if len(matches) > 1:
            ids = ", ".join(str(r["id"]) for r in matches)
            raise NotFoundError(f"Several PrestaShop order states ({ids}) match template '{template}' or names "
                                f"{', '.join(names)}; set the state id in the flow instead.", system=_SYSTEM)
    raise NotFoundError(f"No PrestaShop order state uses mail template '{template}' or is named "
                        f"{', '.join(names) or '(no name given)'}.", system=_SYSTEM)
