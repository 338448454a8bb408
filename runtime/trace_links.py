"""Which trace a polled AX settlement joins: the order's, when it settles a shop order's invoice.

The AX poller gives a posted document of a shop order the ``traceparent`` of the order's
``order.created`` message (:meth:`runtime.pollers.AxPoller._order_traceparent`), found through the
document's ``SalesId``. A settlement (``CustTrans``) names no ``SalesId``, only its invoice id, so
the invoice's ``SalesId`` is asked of AX (``CustInvoiceJour`` by ``InvoiceId``, one ``find``) and
the settlement joins that order's trace: the order's one trace runs from the webhook to the
payment. The answer is remembered per poller (a settlement is listed again by every poll inside
the overlap window; it must not cost an AX call each time). No span is added to the order's
trace here (the lookup's own call belongs to the poll's trace).
"""

from __future__ import annotations

import logging
from typing import Any

from connectors.dynamics_ax.query import eq

__all__ = ["invoice_traceparent"]

log = logging.getLogger("presta_ax.pollers")

_CACHE_MAX = 10_000


async def invoice_traceparent(poller: Any, invoice: str, default: str | None) -> str | None:
    """The ``traceparent`` of the shop order whose AX invoice is ``invoice``; ``default`` (the
    poll's) for an invoice of no shop order, or when AX cannot tell now (not remembered then)."""
    if not invoice:
        return default
    cache: dict[str, str | None] = poller.__dict__.setdefault("_invoice_traces", {})
    if invoice not in cache:
        try:
            found = await poller.ax.service("invoice").find([eq("CustInvoiceJour", "InvoiceId", invoice)])
        except Exception as exc:  # noqa: BLE001 - the settlement is journaled anyway, in the poll's trace
            log.warning("could not find the sales order of AX invoice %s: %s", invoice, type(exc).__name__)
            return default
        sales_id = next((str(i.get("SalesId")) for i in found if str(i.get("InvoiceId")) == invoice), None)
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        cache[invoice] = await poller._order_traceparent(sales_id, None) if sales_id else None
    return cache[invoice] or default
