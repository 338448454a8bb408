"""Customer payments: a payment received from the customer settles the invoice's transaction.

In AX 2012 a customer payment is a line of a customer payment journal (``LedgerJournalTrans``,
created over AIF by ``LedgerCustPaymJournalService``), marked against the open invoice
transaction and posted; posting settles the two ``CustTrans`` records. The bridge only sees
the outcome, on the invoice's transaction (CustomerTransactionService): ``SettleAmountCur``
grows, ``LastSettleVoucher``/``LastSettleDate`` name the payment, ``Closed`` is the date it
was settled in full.

Contract: :func:`settle` posts one payment of ``amount`` (default: what is still open) against
the open transaction of invoice ``invoice_id`` and returns the payment voucher. It raises
:class:`PaymentError` (a sentence) for an unknown invoice, an invoice settled already, or an
amount that is not positive or exceeds what is open. Both transactions change through
:meth:`World.put`/:meth:`World.touch`, so they get new RecVersions.
"""

from __future__ import annotations

import time
from decimal import Decimal

from .entity import Entity
from .model import Company, World, fmt

__all__ = ["PaymentError", "open_transactions", "settle"]


class PaymentError(Exception):
    """A payment the sandbox cannot post; the text says why."""


def _invoice_trans(company: Company, invoice_id: str) -> Entity | None:
    store = company.store("CustomerTransactionService")
    wanted = invoice_id.strip().lower()
    return next((t for t in store.docs.values() if t.get("Invoice").lower() == wanted and t.dec("AmountCur") > 0),
                None)


def open_transactions(company: Company) -> list[dict[str, str]]:
    """The open customer transactions (amount not settled in full), oldest first."""
    store = company.store("CustomerTransactionService")
    out = []
    for trans in sorted(store.docs.values(), key=lambda t: t.rec_id):
        remaining = trans.dec("AmountCur") - trans.dec("SettleAmountCur")
        if remaining != 0:
            out.append({"RecId": str(trans.rec_id), "AccountNum": trans.get("AccountNum"),
                        "Invoice": trans.get("Invoice"), "Voucher": trans.get("Voucher"),
                        "AmountCur": trans.get("AmountCur"), "Open": fmt(remaining),
                        "CurrencyCode": trans.get("CurrencyCode")})
    return out


def settle(world: World, company: Company, invoice_id: str, amount: Decimal | None = None) -> str:
    """Post a customer payment against invoice ``invoice_id``; returns its voucher."""
    trans = _invoice_trans(company, invoice_id)
    if trans is None:
        raise PaymentError(f"Company {company.id} has no customer transaction for invoice {invoice_id!r}.")
    remaining = trans.dec("AmountCur") - trans.dec("SettleAmountCur")
    if remaining <= 0:
        raise PaymentError(f"Invoice {trans.get('Invoice')} is settled in full already.")
    paid = remaining if amount is None else amount
    if paid <= 0 or paid > remaining:
        raise PaymentError(f"A payment against invoice {trans.get('Invoice')} must be above 0 and at most the "
                           f"open {fmt(remaining)}, not {fmt(paid)}.")
    voucher = company.next_number("PaymVoucher", "PAY-")
    today = time.strftime("%Y-%m-%d", time.gmtime(world.now()))
    store = company.store("CustomerTransactionService")
    world.put(store, Entity("CustTrans", "AxdEntity_CustTrans", {
        "AccountNum": trans.get("AccountNum"), "Voucher": voucher, "TransDate": today, "AmountCur": fmt(-paid),
        "SettleAmountCur": fmt(-paid), "CurrencyCode": trans.get("CurrencyCode"), "TransType": "Payment",
        "Txt": f"Payment {trans.get('Invoice')}", "LastSettleVoucher": trans.get("Voucher"),
        "LastSettleDate": today, "Closed": today,
    }))
    settled = trans.dec("SettleAmountCur") + paid
    trans.fields.update({"SettleAmountCur": fmt(settled), "LastSettleVoucher": voucher, "LastSettleDate": today})
    if settled == trans.dec("AmountCur"):
        trans.fields["Closed"] = today
    world.bump(trans)
    world.touch(store, trans)
    return voucher
