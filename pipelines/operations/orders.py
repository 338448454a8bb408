"""Order cancellation operations of the flows (part of :data:`pipelines.operations.table._HANDLERS`).

* ``prestashop orders.get`` with ``include: [canceled_state]`` puts the id of the shop's
  Canceled state into the context as ``ps_canceled_state`` (:func:`canceled_state`): state ids
  differ between shops, so it is found by its mail template ``order_canceled``, then by name
  (reference §8.3), once per process.
* ``ax SalesOrderService.cancel`` (:func:`sales_order_cancel`) cancels the AX sales order of the
  shop order the message names. It finds the order through the ``order`` cross-reference (shop
  order id -> SalesId), or else by the shop reference in ``PurchOrderFormNum``; an order AX
  never got is nothing to cancel (a result saying so, not an error). It is idempotent: an order
  already cancelled is done, a retry sends the same AX ``MessageId``. When AX has delivered the
  order (a packing slip is posted) AX is not touched and a :class:`PermanentError` says what to
  do, so the message goes to the dead-letter queue and the worker raises an alert.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, MutableMapping
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from connectors.dynamics_ax import AlreadyDeliveredError
from connectors.errors import PermanentError
from connectors.prestashop import CANCELED_STATE, find_order_state

if TYPE_CHECKING:
    from pipelines.operations.table import SystemOperations

__all__ = ["canceled_state", "sales_order_cancel"]


async def canceled_state(ops: SystemOperations, context: Mapping[str, Any]) -> str:
    """The shop's Canceled state id (cached on ``ops``), also set as ``context.ps_canceled_state``."""
    cached = getattr(ops, "_canceled_state", None)
    if cached is None:
        template, names = CANCELED_STATE
        cached = str(await find_order_state(ops.ps, template, names))
        ops._canceled_state = cached  # type: ignore[attr-defined]
    if isinstance(context, MutableMapping):
        context["ps_canceled_state"] = cached
    return str(cached)


async def sales_order_cancel(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str
                             ) -> dict[str, Any]:
    """Load: cancel the AX sales order of the shop order (see the module docstring).

    ``doc`` carries the shop reference (``PurchOrderFormNum``); the shop order id is the
    message key. Returns ``{"SalesId", "PurchOrderFormNum", "canceled", "already"}`` (``SalesId``
    ``None`` and ``canceled`` false when AX has no order for it)."""
    from pipelines.operations.common import idempotency_key

    message = context.get("message") or {}
    ps_id = str(message.get("key") or "")
    reference = str(doc.get("PurchOrderFormNum") or "")
    xref = await ops._get_xref("order", ps_id=ps_id) if ps_id else None
    sales_id = str(xref["ax_id"]) if xref else None
    if sales_id is None and reference:
        found = await ops.ax.find_sales_order_by_reference(reference)
        sales_id = found.sales_id if found is not None else None
    span = trace.get_current_span()
    if reference:
        span.set_attribute("shop.order_reference", reference)
    if not sales_id:
        return {"SalesId": None, "PurchOrderFormNum": reference, "canceled": False, "already": False,
                "reason": "AX has no sales order for this shop order: nothing to cancel"}
    span.set_attribute("ax.sales_id", sales_id)
    try:
        result = await ops.ax.cancel_sales_order(sales_id, idempotency_key=idempotency_key(context, step))
    except AlreadyDeliveredError as err:
        reported = await _reported_before(ops, ps_id, str(message.get("id") or ""))
        if reported is not None:
            # the same cancellation announced twice (the module's order.status_changed and the
            # poller's order.updated): one dead letter and one alert are enough
            return {"SalesId": sales_id, "PurchOrderFormNum": reference, "canceled": False, "already": False,
                    "reason": f"cancelled after shipment: already in the dead-letter queue as message {reported}"}
        slips = ", ".join(err.packing_slips) or "number unknown"
        raise PermanentError(
            f"Shop order {reference or ps_id} was cancelled after AX shipped it (AX sales order {sales_id}, "
            f"{err.sales_status}, packing slip {slips}): not cancelled in AX; handle the return in AX.",
            system="ax", code="canceled_after_shipment") from None
    return {"SalesId": sales_id, "PurchOrderFormNum": reference, "canceled": True, "already": result.already}


async def _reported_before(ops: SystemOperations, ps_id: str, message_id: str) -> str | None:
    """The id of another message of this shop order already dead-lettered as cancelled after
    shipment, if any (``None`` without a store)."""
    if ops.store is None or not ps_id:
        return None
    found = ops.store.list_messages(entity="order", key=ps_id, status="dead", limit=100)
    if isinstance(found, Awaitable):
        found = await found
    return next((m.id for m in found if m.id != message_id
                 and (m.last_error or {}).get("code") == "canceled_after_shipment"), None)
