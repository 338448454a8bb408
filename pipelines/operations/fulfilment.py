"""The order-to-cash way back: fulfilment operations of the flows (part of
:data:`pipelines.operations.table._HANDLERS`).

* ``ax fulfilment.read`` (:func:`fulfilment_read`) extracts a posted packing slip, invoice or
  invoice settlement, finds the shop order through the ``order`` cross-reference and puts it
  into the context (``ps_order_id``, ``ps_order_reference``, ``ps_order_carrier_id``,
  ``ps_order_paid``, and ``ax_invoice_id`` for invoices and settlements);
* the write-backs: the order state (:func:`order_histories_create`, no second history row),
  the tracking number (:func:`order_carriers_update`, no write when it is there), the AX
  invoice on the shop order's invoice (:func:`order_invoices_record`, never a payment), and a
  payment only for what AX settled and the shop lacks (:func:`order_payments_settle`);
  :func:`order_payments_create` stays for user flows.

Every write-back is idempotent: it looks at what the shop holds before writing.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from connectors.dynamics_ax import EntityKey
from connectors.dynamics_ax.query import eq
from connectors.errors import NotFoundError, PermanentError, ValidationError
from connectors.prestashop import (
    PAYMENT_ACCEPTED_STATE,
    F,
    change_order_state,
    find_order_state,
    record_invoice,
    record_payment,
    record_settlement,
    set_tracking_number,
    shop_paid,
)
from pipelines.operations.common import ax_document as _ax_document
from pipelines.operations.common import int_id as _int_id

if TYPE_CHECKING:
    from pipelines.operations.table import SystemOperations

__all__ = ["fulfilment_read", "order_carriers_update", "order_histories_create", "order_invoices_record",
           "order_payments_create", "order_payments_settle"]


async def order_histories_create(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Write-back: move the order to ``id_order_state`` (no second history row if it is there)."""
    row = await change_order_state(ops.ps, _int_id(doc.get("id_order"), "id_order"),
                                   _int_id(doc.get("id_order_state"), "id_order_state"),
                                   employee_id=_int_id(doc.get("id_employee") or 0, "id_employee"))
    return {"id": row.get("id"), "id_order": row.get("id_order"), "id_order_state": row.get("id_order_state")}

async def order_carriers_update(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Write-back: the tracking number on the order's carrier row (no write when it is there).

    Only the number is written: the carrier the AX mode of delivery maps to may differ from
    the carrier the shopper chose, and the row stays the shopper's."""
    row = await set_tracking_number(ops.ps, _int_id(doc.get("id_order"), "id_order"),
                                    str(doc.get("tracking_number") or ""))
    return {"id": row.get("id"), "id_order": row.get("id_order"), "tracking_number": row.get("tracking_number")}

async def order_payments_create(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Write-back: an order payment carrying the AX invoice number as ``transaction_id``; a
    payment already recorded for that order reference and invoice is returned instead."""
    row = await record_payment(ops.ps, str(doc.get("order_reference") or ""), doc.get("amount") or "0",
                               payment_method=str(doc.get("payment_method") or "AX invoice"),
                               transaction_id=str(doc.get("transaction_id") or ""),
                               id_currency=doc.get("id_currency"), conversion_rate=doc.get("conversion_rate"),
                               date_add=doc.get("date_add"))
    return {"id": row.get("id"), "order_reference": row.get("order_reference"),
            "transaction_id": row.get("transaction_id"), "amount": str(row.get("amount"))}

async def order_invoices_record(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Write-back: the AX invoice (``context.ax_invoice_id``, set by ``fulfilment.read``) on the
    order's ``order_invoice``: its note gets the AX number, date and amount when the shop made
    an invoice (paid orders), otherwise ``doc`` is created as the order's invoice. No payment."""
    invoice_id = str(context.get("ax_invoice_id") or "")
    if not invoice_id:
        raise ValidationError("order_invoices.record needs the AX invoice number (context.ax_invoice_id); "
                              "run it after the ax fulfilment.read extract.", system="prestashop")
    row = await record_invoice(ops.ps, _int_id(doc.get("id_order"), "id_order"), invoice_id, doc)
    return {"id": row.get("id"), "id_order": row.get("id_order"), "number": row.get("number"),
            "ax_invoice_id": invoice_id}

async def _payment_accepted_state(ops: SystemOperations) -> int:
    """The shop's Payment accepted state id (found once per ``ops``: ids differ between shops)."""
    cached = getattr(ops, "_payment_accepted_state", None)
    if cached is None:
        template, names = PAYMENT_ACCEPTED_STATE
        cached = await find_order_state(ops.ps, template, names)
        ops._payment_accepted_state = cached  # type: ignore[attr-defined]
    return int(cached)


async def order_payments_settle(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Write-back: AX settled ``amount`` of the order's invoice. An order settled in full that
    holds no payment moves to Payment accepted (the shop records the payment itself, so a later
    Shipped adds none) and that payment carries the AX settlement voucher as ``transaction_id``;
    otherwise an ``order_payment`` is added for only what the shop's payments of the order
    reference do not cover yet (none when the shop took the payment itself). See
    :mod:`connectors.prestashop.settlement`."""
    row = await record_settlement(ops.ps, str(doc.get("order_reference") or ""), doc.get("amount") or "0",
                                  payment_method=str(doc.get("payment_method") or "AX customer payment"),
                                  transaction_id=str(doc.get("transaction_id") or ""),
                                  accepted_state=await _payment_accepted_state(ops),
                                  id_currency=doc.get("id_currency"), conversion_rate=doc.get("conversion_rate"),
                                  date_add=doc.get("date_add"))
    if row is None:
        return {"id": None, "order_reference": doc.get("order_reference"), "recorded": False,
                "reason": "the shop's payments already cover the settled amount"}
    return {"id": row.get("id"), "order_reference": row.get("order_reference"), "recorded": True,
            "transaction_id": row.get("transaction_id"), "amount": str(row.get("amount"))}

async def fulfilment_read(ops: SystemOperations, request: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Extract: the posted AX packing slip (``packing_slip.posted``, key ``PackingSlipId``),
    invoice (``invoice.posted``, key ``RecId``) or the invoice's customer transaction
    (``invoice.settled``, key its ``RecId``, with the ``SalesId`` of its invoice added) as AX
    element names, with ``SalesOrder`` (the sales order document) and ``Shipment``
    (``TrackingNumber``) when included. For invoices and settlements it puts the AX invoice
    number into the context as ``ax_invoice_id``.

    Puts the shop order found through the ``order`` cross-reference into the context:
    ``ps_order_id``, ``ps_order_reference``, ``ps_order_carrier_id`` (all ``None`` for an
    AX order the bridge did not create, which the flow's guard drops) and ``ps_order_paid``
    (the shop's payments of the order reference cover its total)."""
    message = context.get("message") or {}
    event, key = str(message.get("event") or ""), str(request.get("key") or "")
    if event.startswith("packing_slip."):
        entity, ax_key = "packing_slip", EntityKey.of(PackingSlipId=key)
    elif event == "invoice.settled":
        entity, ax_key = "cust_trans", EntityKey.of(RecId=key)
    elif event.startswith("invoice."):
        entity, ax_key = "invoice", EntityKey.of(RecId=key)
    else:
        raise PermanentError(f"fulfilment.read handles packing slip, invoice and invoice settlement events, "
                             f"not '{event}'.", system="ax")
    found = await ops.ax.service(entity).read([ax_key])
    if not found:
        raise NotFoundError(f"AX has no {entity.replace('_', ' ')} with key {key}.", system="ax")
    doc: dict[str, Any] = _ax_document(found[0])
    if entity == "cust_trans":
        # a customer transaction names its invoice, not the sales order: the invoice does
        doc["SalesId"] = await _sales_id_of_invoice(ops, str(doc.get("Invoice") or ""))
    if entity in ("invoice", "cust_trans") and isinstance(context, MutableMapping):
        context["ax_invoice_id"] = doc.get("InvoiceId") or doc.get("Invoice")
    sales_id = str(doc.get("SalesId") or "")
    include = set(request.get("include") or ())
    if "SalesOrder" in include and sales_id:
        orders = await ops.ax.service("sales_order").read([EntityKey.of(SalesId=sales_id)])
        doc["SalesOrder"] = _ax_document(orders[0]) if orders else None
    if "Shipment" in include:
        doc["Shipment"] = {"TrackingNumber": doc.get("ShipCarrierTrackingNum")}
    found_xref = await ops._get_xref("order", ax_id=sales_id) if sales_id else None
    order_id = found_xref["ps_id"] if found_xref else None
    if order_id is None and sales_id:
        order_id = await _unlinked_shop_order(ops, sales_id, doc.get("SalesOrder"))
    reference = carrier_id = None
    paid = False
    if order_id is not None:
        order = await ops.ps.get("orders", _int_id(order_id, "The cross-referenced order id"),
                                  display=["id", "reference", "total_paid", "total_paid_real"])
        reference = order.get("reference")
        # the shop's own bookkeeping: does it hold the order's total? (a state with paid=1, such
        # as Shipped, makes PrestaShop record a payment for what it does not, even when a
        # POSTed order_payment covers it: see connectors/prestashop/settlement.py)
        paid = shop_paid(order)
        rows = await ops.ps.list("order_carriers", display=["id"], sort=["id_DESC"], limit=1,
                                  filters={"id_order": F.eq(_int_id(order_id, "id_order"))})
        carrier_id = rows[0]["id"] if rows else None
    span = trace.get_current_span()
    span.set_attribute("ax.sales_id", sales_id)
    if reference:
        span.set_attribute("shop.order_reference", str(reference))
    if isinstance(context, MutableMapping):
        context.update(ps_order_id=order_id, ps_order_reference=reference, ps_order_carrier_id=carrier_id,
                       ps_order_paid=paid)
    return doc

async def _unlinked_shop_order(ops: SystemOperations, sales_id: str, sales_order: Any) -> str | None:
    """The shop order of an AX order whose cross-reference is not written yet, else ``None``.

    The order flow writes the cross-reference right after the AX create; when its process ends
    (or the store is down) in between, the retry writes it later, and AX may fulfil the order
    first (found by the chaos campaign, benchmarks/chaos.py: the packing slip was dropped as an
    AX-only order and the shop never got its tracking number). The order flow puts the shop's
    order reference into ``PurchOrderFormNum``: exactly one shop order with that reference is
    the one; none (a phone order) or several leave the order unlinked."""
    if not isinstance(sales_order, Mapping):
        found = await ops.ax.service("sales_order").read([EntityKey.of(SalesId=sales_id)])
        sales_order = _ax_document(found[0]) if found else {}
    reference = str(sales_order.get("PurchOrderFormNum") or "")
    if not reference:
        return None
    rows = await ops.ps.list("orders", display=["id", "reference"], filters={"reference": F.eq(reference)})
    matches = [r for r in rows if str(r.get("reference")) == reference]
    return str(matches[0]["id"]) if len(matches) == 1 else None


async def _sales_id_of_invoice(ops: SystemOperations, invoice_id: str) -> str | None:
    if not invoice_id:
        return None
    try:
        found = await ops.ax.service("invoice").find([eq("CustInvoiceJour", "InvoiceId", invoice_id)])
    except NotFoundError:
        return None
    return next((str(i.get("SalesId")) for i in found if str(i.get("InvoiceId")) == invoice_id), None)
