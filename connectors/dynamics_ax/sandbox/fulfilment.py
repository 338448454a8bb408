"""Fulfilment simulation: pick -> pack (packing slip + tracking number) -> invoice.

Contract: :func:`advance` moves open sales orders of type ``Sales`` one stage further and
returns what it did as ``[(SalesId, stage)]``. Picking needs the whole order reserved (it
first tries to reserve backordered quantities from stock that arrived meanwhile); an order
that is still short stays where it is. Packing posts a ``CustPackingSlipJour`` with a carrier
tracking number; invoicing posts a ``CustInvoiceJour`` with amounts and tax, and an open
customer transaction (``CustTrans``, read through CustomerTransactionService; a customer
payment settles it, see ``payments``). Stock moves as AX's InventSum does (reserved -> picked -> deducted ->
posted). Journal orders and cancelled orders (``SalesStatus`` Canceled, see ``cancel``) are never
fulfilled; the cancelled lines of a partly cancelled order are neither picked, packed nor invoiced.
"""

from __future__ import annotations

import string
import time
from decimal import Decimal

from .cancel import is_canceled
from .entity import Entity
from .model import Company, World, fmt
from .rules import _reserve

__all__ = ["STAGES", "advance"]

STAGES = ("pick", "pack", "invoice")
_NEXT = {"None": "pick", "PickingList": "pack", "PackingSlip": "invoice"}


def _day(world: World, plus_days: int = 0) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(world.now() + plus_days * 86400))


def _location(company: Company, line: Entity) -> str:
    dim = line.child("InventDim")
    return dim.get("InventLocationId") if dim else company.default_warehouse


def _open_lines(order: Entity) -> list[Entity]:
    return [line for line in order.children.get("SalesLine", []) if not is_canceled(line)]


def _pick(world: World, company: Company, order: Entity) -> bool:
    lines = _open_lines(order)
    for line in lines:
        if line.dec("~backorder") > 0:
            _reserve(world, company, line)
    if any(line.dec("~backorder") > 0 for line in lines):
        return False
    for line in lines:
        qty = line.dec("~reserved")
        world.adjust(company, line.get("ItemId"), _location(company, line), ReservPhysical=-qty, Picked=qty)
        line.fields["~reserved"] = "0"
        line.fields["~picked"] = fmt(qty)
        world.bump(line)
    order.fields["DocumentStatus"] = "PickingList"
    return True


def _tracking_number(world: World) -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "1Z" + "".join(world.rng.choice(alphabet) for _ in range(16))


def _pack(world: World, company: Company, order: Entity) -> bool:
    slip_id = company.next_number("PackingSlipId", "PS-")
    jour = Entity("CustPackingSlipJour", "AxdEntity_CustPackingSlipJour", {
        "PackingSlipId": slip_id, "SalesId": order.get("SalesId"), "DeliveryDate": _day(world),
        "OrderAccount": order.get("CustAccount"), "InvoiceAccount": order.get("InvoiceAccount"),
        "DeliveryName": order.get("DeliveryName"), "DlvMode": order.get("DlvMode"),
        "CurrencyCode": order.get("CurrencyCode"), "ShipCarrierTrackingNum": _tracking_number(world),
    })
    total = Decimal(0)
    trans = []
    for line in _open_lines(order):
        qty = line.dec("~picked")
        world.adjust(company, line.get("ItemId"), _location(company, line), Picked=-qty, Deducted=qty)
        total += qty
        trans.append(Entity("CustPackingSlipTrans", "AxdEntity_CustPackingSlipTrans", {
            "ItemId": line.get("ItemId"), "Qty": fmt(qty), "SalesUnit": line.get("SalesUnit"),
            "InventTransId": line.get("InventTransId"), "Ordered": line.get("SalesQty"), "Remain": "0",
            "Name": line.get("Name"), "LineNum": line.get("LineNum"), "InventDimId": line.get("InventDimId"),
        }))
        line.fields.update({"~picked": "0", "~delivered": fmt(qty), "SalesStatus": "Delivered",
                            "RemainSalesPhysical": "0", "RemainSalesFinancial": fmt(qty),
                            "DeliveredIntotal": fmt(qty)})
        world.bump(line)
    jour.fields["Qty"] = fmt(total)
    jour.children["CustPackingSlipTrans"] = trans
    world.put(company.store("SalesPackingSlipService"), jour)
    order.fields.update({"DocumentStatus": "PackingSlip", "SalesStatus": "Delivered"})
    return True


def _invoice(world: World, company: Company, order: Entity, tax_rate: Decimal) -> bool:
    invoice_id = company.next_number("InvoiceId", "CIV-")
    today = _day(world)
    trans = []
    net = Decimal(0)
    qty_total = Decimal(0)
    for line in _open_lines(order):
        qty = line.dec("~delivered")
        amount = line.dec("LineAmount")
        tax = (amount * tax_rate).quantize(Decimal("0.01"))
        net += amount
        qty_total += qty
        world.adjust(company, line.get("ItemId"), _location(company, line), Deducted=-qty, PostedQty=-qty)
        trans.append(Entity("CustInvoiceTrans", "AxdEntity_CustInvoiceTrans", {
            "ItemId": line.get("ItemId"), "Name": line.get("Name"), "Qty": fmt(qty),
            "SalesPrice": line.get("SalesPrice"), "LineAmount": fmt(amount), "SalesUnit": line.get("SalesUnit"),
            "CurrencyCode": order.get("CurrencyCode"), "LineNum": line.get("LineNum"), "TaxAmount": fmt(tax),
            "InventTransId": line.get("InventTransId"), "InventDimId": line.get("InventDimId"),
            "InvoiceId": invoice_id, "InvoiceDate": today, "SalesId": order.get("SalesId"),
        }))
        line.fields.update({"~delivered": "0", "SalesStatus": "Invoiced", "RemainSalesFinancial": "0"})
        world.bump(line)
    sum_tax = (net * tax_rate).quantize(Decimal("0.01"))
    total = net + sum_tax
    jour = Entity("CustInvoiceJour", "AxdEntity_CustInvoiceJour", {
        "InvoiceId": invoice_id, "InvoiceDate": today, "DueDate": _day(world, 30), "InvoiceAmount": fmt(total),
        "CurrencyCode": order.get("CurrencyCode"), "SalesId": order.get("SalesId"),
        "OrderAccount": order.get("CustAccount"), "InvoiceAccount": order.get("InvoiceAccount"),
        "CustomerRef": order.get("CustomerRef"), "PurchaseOrder": order.get("PurchOrderFormNum"),
        "SalesBalance": fmt(net), "SumTax": fmt(sum_tax), "Qty": fmt(qty_total), "DlvMode": order.get("DlvMode"),
        "DlvTerm": order.get("DlvTerm"), "Payment": order.get("Payment"), "InvoicingName": order.get("SalesName"),
        "DeliveryName": order.get("DeliveryName"), "LedgerVoucher": invoice_id,
    })
    jour.children["CustInvoiceTrans"] = trans
    world.put(company.store("SalesInvoiceService"), jour)
    # the open customer transaction the posting makes (CustTrans), settled by a customer payment
    world.put(company.store("CustomerTransactionService"), Entity("CustTrans", "AxdEntity_CustTrans", {
        "AccountNum": order.get("InvoiceAccount"), "Invoice": invoice_id, "Voucher": invoice_id,
        "TransDate": today, "DueDate": jour.get("DueDate"), "AmountCur": fmt(total), "SettleAmountCur": "0",
        "CurrencyCode": order.get("CurrencyCode"), "TransType": "Sales", "Txt": f"Invoice {invoice_id}",
    }))
    order.fields.update({"DocumentStatus": "Invoice", "SalesStatus": "Invoiced", "TotalInvoice": fmt(total),
                         "TotalSalesTax": fmt(sum_tax)})
    return True


def advance(world: World, company: Company, tax_rate: Decimal, sales_id: str | None = None, *,
            include_seeded: bool = True) -> list[tuple[str, str]]:
    """Move every open order (or only ``sales_id``) one stage; returns ``[(SalesId, stage)]``.

    ``include_seeded=False`` leaves the seeded orders (marker ``~seeded``) where they are."""
    store = company.store("SalesOrderService")
    done: list[tuple[str, str]] = []
    for order in list(store.docs.values()):
        if order.get("SalesType") != "Sales" or order.get("SalesStatus") == "Canceled":
            continue
        if sales_id is not None and order.get("SalesId").lower() != sales_id.lower():
            continue
        if not include_seeded and order.get("~seeded") == "1":
            continue
        stage = _NEXT.get(order.get("DocumentStatus") or "None")
        if stage is None:
            continue
        if stage == "pick":
            moved = _pick(world, company, order)
        elif stage == "pack":
            moved = _pack(world, company, order)
        else:
            moved = _invoice(world, company, order, tax_rate)
        if moved:
            world.bump(order)
            world.touch(store, order)
            done.append((order.get("SalesId"), stage))
    return done
