"""The chaos campaign's invariants, read from both sandboxes' own data (their webservice and
SOAP APIs), and from the journal only where the invariant is about the journal.

:func:`check` returns a :class:`Verdict` for the orders placed in the shop:

* ``lost``: placed, but no AX sales order carries its reference (``PurchOrderFormNum``);
* ``duplicates``: more than one AX sales order for one reference, or an AX-invoiced order with
  more than one Shipped state, tracking number, invoice note or payment in the shop;
* ``untracked``: AX packed it, but the shop's order carrier lacks AX's tracking number or the
  order (paid at checkout) never reached Shipped; ``uninvoiced``: AX invoiced it, the shop's
  invoice lacks the note;
* payments: an order paid at checkout holds exactly its own payment of its total (AX's
  settlement of its invoice adds none); a bank-wire order (``"wire"`` in the placed order) holds
  none until the campaign's bank settled its AX invoice (``settled``: invoice id -> payment
  voucher), then exactly one, of its total, carrying that voucher as transaction id; missing
  then: ``unpaid``; any other payment is a duplicate (money the shop should not show);
* ``stuck``: journal messages still ``new``/``processing``/``retry``;
* ``dead``: dead-lettered messages, each with its reason (the caller decides which a fault made
  permanent); ``emitter``/``journal_webhooks``: the shop emitter's delivered webhooks and the
  journal's messages that came in as webhooks.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = ["Verdict", "check", "journal_state"]

SHIPPED = "4"


@dataclass
class Verdict:
    orders: int = 0
    lost: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    untracked: list[str] = field(default_factory=list)
    uninvoiced: list[str] = field(default_factory=list)
    unpaid: list[str] = field(default_factory=list)
    stuck: dict[str, int] = field(default_factory=dict)
    dead: list[dict[str, Any]] = field(default_factory=list)
    packed: int = 0
    invoiced: int = 0
    wire: int = 0  # bank-wire orders among those AX invoiced
    paid_by_ax: int = 0  # bank-wire orders whose one payment came from AX's settlement
    settled: int = 0  # invoices the bank settled in AX
    emitter: dict[str, Any] = field(default_factory=dict)
    journal_webhooks: int = 0

    def orders_with(self, *problems: list[str]) -> int:
        """How many orders the problem lists name (each entry starts with the order's reference)."""
        return len({p.split(":", 1)[0] for items in problems for p in items})

    @property
    def complete(self) -> bool:
        """Every order in AX once, its tracking and invoice in the shop once, nothing in flight."""
        return not (self.lost or self.duplicates or self.untracked or self.uninvoiced or self.unpaid or self.stuck)


def journal_state(store: Any) -> tuple[dict[str, int], list[dict[str, Any]], int]:
    """(messages not finished by status, dead messages with their reason, webhook messages)."""
    stuck: Counter[str] = Counter()
    for entity, by_status in store.counts().items():
        for status in ("new", "processing", "retry"):
            if by_status.get(status):
                stuck[f"{entity}:{status}"] += by_status[status]
    dead = [{"entity": m.entity, "key": m.key, "event": m.event, "reason": m.last_error}
            for m in store.list_messages(status="dead", limit=100_000)]
    with store.backend.read() as cur:
        # a versioned change leaves a receipt of its webhook id (its message is under the change
        # key, or under the webhook id when another webhook brought that version first); any
        # other webhook only a message under its webhook id: one count per webhook id accepted
        cur.execute("SELECT COUNT(*) FROM webhook_receipts")
        webhooks = int(cur.fetchone()[0])
        cur.execute("SELECT COUNT(*) FROM messages m WHERE m.idempotency_key LIKE ? AND NOT EXISTS "
                    "(SELECT 1 FROM webhook_receipts r WHERE 'prestashop:webhook:' || r.webhook_id = m.idempotency_key)",
                    ("prestashop:webhook:%",))
        webhooks += int(cur.fetchone()[0])
    return dict(stuck), dead, webhooks


async def _ax_side(ax: Any, references: list[str]) -> dict[str, tuple[list[str], list[str], list[str]]]:
    """reference -> (AX sales ids, tracking numbers of their packing slips, their invoice ids)."""
    from connectors.dynamics_ax.query import eq

    sem = asyncio.Semaphore(4)

    async def one(ref: str) -> tuple[str, tuple[list[str], list[str], list[str]]]:
        async with sem:
            found = [o.sales_id for o in await ax.find("sales_order", [eq("SalesTable", "PurchOrderFormNum", ref)])
                     if o.purch_order_form_num == ref]
            tracking, invoices = [], []
            for sales_id in found:
                tracking += [str(s.tracking_number) for s in await ax.read_packing_slips(sales_id) if s.tracking_number]
                invoices += [str(i.invoice_id) for i in await ax.read_invoices(sales_id)]
            return ref, (found, tracking, invoices)
    return dict(await asyncio.gather(*(one(r) for r in references)))


async def _shop_side(shop: Any) -> dict[str, Any]:
    """Every order history, carrier, invoice and payment the shop holds, grouped by order."""
    histories, carriers, invoices, payments = await asyncio.gather(
        shop.list("order_histories", display=["id_order", "id_order_state"]),
        shop.list("order_carriers", display=["id_order", "tracking_number"]),
        shop.list("order_invoices", display=["id_order", "note"]),
        shop.list("order_payments", display=["order_reference", "amount", "transaction_id"]))
    shipped = Counter(str(h["id_order"]) for h in histories if str(h["id_order_state"]) == SHIPPED)
    by_order: dict[str, list[str]] = {}
    for c in carriers:
        by_order.setdefault(str(c["id_order"]), []).append(str(c.get("tracking_number") or ""))
    notes: dict[str, list[str]] = {}
    for i in invoices:
        notes.setdefault(str(i["id_order"]), []).append(str(i.get("note") or ""))
    paid: dict[str, list[tuple[Decimal, str]]] = {}
    for p in payments:
        paid.setdefault(str(p["order_reference"]), []).append(
            (Decimal(str(p["amount"])), str(p.get("transaction_id") or "")))
    return {"shipped": shipped, "carriers": by_order, "notes": notes, "payments": paid}


async def check(shop: Any, ax: Any, store: Any, placed: list[dict[str, Any]], emitter: dict[str, Any],
                settled: dict[str, str] | None = None) -> Verdict:
    """Read both sandboxes (and the journal's states) and judge the orders ``placed`` (each
    ``{"id", "reference", "total_paid", "wire"?}``) and the bank's ``settled`` invoices (invoice
    id -> payment voucher); see the module docstring."""
    settled = settled or {}
    v = Verdict(orders=len(placed), emitter=emitter, settled=len(settled))
    ax_side = await _ax_side(ax, [o["reference"] for o in placed])
    shop_side = await _shop_side(shop)
    for o in placed:
        oid, ref = str(o["id"]), o["reference"]
        sales_ids, tracking, invoice_ids = ax_side[ref]
        if not sales_ids:
            v.lost.append(ref)
            continue
        if len(sales_ids) > 1:
            v.duplicates.append(f"{ref}: {len(sales_ids)} AX sales orders {sales_ids}")
        wire = bool(o.get("wire"))
        if tracking:
            v.packed += 1
            numbers = [t for t in shop_side["carriers"].get(oid, []) if t]
            shipped = shop_side["shipped"].get(oid, 0)
            if shipped > 1 or len(numbers) > 1:
                v.duplicates.append(f"{ref}: {shipped} Shipped states, tracking numbers {numbers}")
            # a bank-wire order reaches Shipped only when it was paid before its packing slip came
            elif numbers != tracking[:1] or (shipped != 1 and not wire):
                v.untracked.append(f"{ref}: AX tracking {tracking}, shop {numbers}, Shipped x{shipped}")
        if invoice_ids:
            v.invoiced += 1
            v.wire += wire
            notes = [n for n in shop_side["notes"].get(oid, []) if invoice_ids[0] in n]
            mentions = sum(n.count(invoice_ids[0]) for n in notes)
            if mentions > 1:
                v.duplicates.append(f"{ref}: invoice {invoice_ids[0]} noted x{mentions}")
            elif mentions != 1:
                v.uninvoiced.append(f"{ref}: AX invoice {invoice_ids[0]} not on the shop's order invoice")
            _judge_payments(v, o, shop_side["payments"].get(ref, []), settled.get(invoice_ids[0]))
    v.stuck, v.dead, v.journal_webhooks = journal_state(store)
    return v


def _judge_payments(v: Verdict, order: dict[str, Any], paid: list[tuple[Decimal, str]], voucher: str | None) -> None:
    """The payments the shop holds for one AX-invoiced ``order`` (see the module docstring);
    ``voucher``: the bank's payment of its invoice in AX, ``None`` while AX has none."""
    ref, total = order["reference"], Decimal(str(order["total_paid"]))
    amounts = sum((a for a, _ in paid), Decimal(0))
    if not order.get("wire"):
        if len(paid) != 1 or amounts != total:
            v.duplicates.append(f"{ref}: payments {paid} for a total of {total} paid at checkout")
    elif voucher is None:
        if paid:
            v.duplicates.append(f"{ref}: bank-wire order paid {paid} in the shop before AX received the money")
    elif len(paid) > 1 or amounts > total:
        v.duplicates.append(f"{ref}: payments {paid} for a total of {total}, AX payment {voucher}")
    elif not paid:
        v.unpaid.append(f"{ref}: AX settled its invoice (payment {voucher}), the shop shows no payment")
    elif amounts != total or paid[0][1] != voucher:
        v.duplicates.append(f"{ref}: payment {paid} for a total of {total}, AX payment {voucher}")
    else:
        v.paid_by_ax += 1
