"""Cancelling sales order lines: "Deliver remainder" set to 0, as AX 2012 does it.

In AX 2012 a sales order is cancelled by reducing the deliver remainder of its lines to zero
(*Update line > Deliver remainder > Cancel quantity*): the line's ``RemainSalesPhysical`` becomes
0, its ``SalesStatus`` becomes ``Canceled``, its reservations (and picks) are released, and once
every line is cancelled the header's ``SalesStatus`` is ``Canceled`` too. ``SalesStatus`` itself is
``AllowEdit=No`` and cannot be written. Through AIF this is a ``SalesOrderService.update`` whose
``SalesLine`` records (``action="update"``, matched by ``RecId`` or lot id) carry
``RemainSalesPhysical`` 0, sent with the ``_DocumentHash`` of a prior read.

Contract:

* :func:`remainder_requests` inspects an update before anything is written and returns the
  stored lines whose remainder the message cancels. The value as read is accepted (no change);
  0 cancels the line (a delivered line, whose remainder is 0 already, counts as asked to be
  cancelled, so that the refusal names the packing slip); any other value is refused (the sandbox models no partial reduction and no
  reinstatement [I]).
* :func:`refuse_delivered` raises the fault AX answers when the order has been delivered
  (a packing slip posted): a delivered quantity cannot be cancelled, only returned [I wording].
* :func:`cancel_line` marks one line cancelled (reservations are released by the update's
  ``before_update``, which gives back everything the order holds before it is recomputed).
* :func:`header_status` is the header's ``SalesStatus`` after an update of an open order.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .entity import Entity
from .faults import AxFault
from .merge import match_child
from .model import Company, World

__all__ = ["cancel_line", "header_status", "is_canceled", "packing_slips_of", "refuse_delivered",
           "remainder_requests"]

_FIELD = "RemainSalesPhysical"


def is_canceled(line: Entity) -> bool:
    return line.get("SalesStatus") == "Canceled"


def remainder_requests(current: Entity, sent: Entity, xpath: str = "/SalesOrder") -> list[Entity]:
    """The stored lines of ``current`` whose deliver remainder ``sent`` sets to 0.

    Raises :class:`AxFault` (naming the field and its XPath) for any other new remainder."""
    stored = current.children.get("SalesLine", [])
    out: list[Entity] = []
    for rec in sent.children.get("SalesLine", []):
        value = rec.fields.get(_FIELD)
        if not isinstance(value, str) or not value.strip() or rec.action in ("create", "delete"):
            continue
        match = match_child(stored, rec)
        if match is None:
            continue  # the merge reports a line to update that does not exist
        try:
            wanted = Decimal(value)
        except InvalidOperation:
            wanted = Decimal(-1)
        if wanted == match.dec(_FIELD) and (wanted != 0 or is_canceled(match)):
            continue  # no change; a delivered line asked for 0 is a cancellation (refused by the caller)
        if wanted != 0:
            raise AxFault([f"The deliver remainder of the line for item {match.get('ItemId')} can only be set to 0 "
                           "(cancel the remaining quantity) or left as it is."],  # [I] sandbox scope
                          field=_FIELD, xpath=f"{xpath}/SalesTable/SalesLine/{_FIELD}")
        out.append(match)
    return out


def packing_slips_of(company: Company, sales_id: str) -> list[str]:
    """The ids of the packing slips posted for the order, oldest first."""
    wanted = sales_id.strip().lower()
    return sorted(j.get("PackingSlipId") for j in company.store("SalesPackingSlipService").docs.values()
                  if j.get("SalesId").strip().lower() == wanted)


def refuse_delivered(company: Company, order: Entity) -> None:
    """The fault for cancelling an order with a posted packing slip (or invoice)."""
    slips = packing_slips_of(company, order.get("SalesId"))
    posted = f"packing slip {', '.join(slips)} has" if slips else "a packing slip has"
    # [I] wording; the rule (a delivered quantity is not cancelled but returned) is AX's
    raise AxFault([f"Sales order {order.get('SalesId')} cannot be canceled: {posted} been posted for it "
                   f"(sales status {order.get('SalesStatus')}). The deliver remainder cannot be reduced below "
                   "the delivered quantity; create a return order for the delivered items."])


def cancel_line(world: World, line: Entity) -> None:
    """Deliver remainder 0: the line is cancelled (nothing left to deliver or invoice)."""
    line.fields.update({_FIELD: "0", "RemainSalesFinancial": "0", "SalesStatus": "Canceled"})
    for name in ("~reserved", "~backorder", "~picked"):
        line.fields[name] = "0"
    world.bump(line)


def header_status(order: Entity) -> str:
    """``Canceled`` when every line is cancelled; otherwise an open order is ``Backorder``."""
    lines = order.children.get("SalesLine", [])
    if lines and all(is_canceled(line) for line in lines):
        return "Canceled"
    current = order.get("SalesStatus")
    return current if current not in ("", "None", "Canceled") else "Backorder"
