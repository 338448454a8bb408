"""Full and partial update of a stored document with a received one (AIF update semantics).

Contract: :func:`merge` changes ``current`` in place.
* Full update (top record without ``action`` or ``action="replace"``): every field the
  schema allows but the message leaves out is cleared, child records are matched by RecId
  (sales lines also by lot id), unmatched ones are created and stored children missing from
  the message are deleted.
* Partial update (``action="update"``): absent fields stay, ``xsi:nil`` fields stay (or are
  cleared when the document says ``ClearNilFieldsOnUpdate=true``), sent values are set;
  children follow their own ``action`` (``create``, ``update``, ``delete``).
Fields the server owns (status, lot ids, totals, party numbers) are never taken from the
message. Records whose fields changed get a new RecVersion.

Fields whose table property is ``AllowEdit=No`` (keys, statuses, lot ids, party numbers) must
not be changed by an inbound update [reference §5.3]: a value different from the stored one is
refused with an AifFault naming the field and its XPath, and nothing is written. The same value
as read, ``xsi:nil`` or leaving the field out is accepted, so that a read document sent back
whole (the full-update walkthrough) passes [I: AX's AxBC classes set only changed fields].
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .entity import NIL, Entity
from .faults import AxFault
from .model import World
from .schemas import DocumentIndex

__all__ = ["NOT_EDITABLE", "match_child", "merge", "refuse_uneditable"]

_SERVER_OWNED = {
    "RecId", "RecVersion", "_DocumentHash", "SalesStatus", "DocumentStatus", "SalesType", "TotalInvoice",
    "TotalSalesTax", "TotalBalance", "InventTransId", "LineAmount", "QtyOrdered", "RemainSalesPhysical",
    "RemainSalesFinancial", "DeliveredIntotal", "InventDimId", "PartyNumber", "Party",
}


#: ``AllowEdit=No`` fields per data source (standard AX 2012 table properties; the totals are
#: display values with no setter). [I] for the exact set beyond keys and statuses.
NOT_EDITABLE: dict[str, frozenset[str]] = {
    "SalesTable": frozenset({"SalesId", "SalesStatus", "DocumentStatus", "TotalInvoice", "TotalSalesTax",
                             "TotalBalance", "TotalMiscCharges", "TotalCashDiscount"}),
    # RemainSalesPhysical ("Deliver remainder") is not here: reducing it to 0 cancels the line,
    # which ``cancel.remainder_requests`` checks before the merge (it stays server-owned below)
    "SalesLine": frozenset({"SalesId", "InventTransId", "SalesStatus", "RemainSalesFinancial", "DeliveredIntotal"}),
    "CustTable": frozenset({"AccountNum", "Party"}),
    "DirParty": frozenset({"PartyNumber"}),
    "InventTable": frozenset({"ItemId", "Product"}),
    "Product": frozenset({"DisplayProductNumber", "ProductType"}),
}


def _same(stored: str, sent: str) -> bool:
    if stored.strip().lower() == sent.strip().lower():  # SQL collation: case-insensitive
        return True
    try:
        return Decimal(stored) == Decimal(sent)
    except InvalidOperation:
        return False


def refuse_uneditable(current: Entity, sent: Entity, xpath: str) -> None:
    """Raise an AifFault if ``sent`` changes an ``AllowEdit=No`` field of ``current``."""
    for name in sorted(NOT_EDITABLE.get(current.source, ())):
        value = sent.fields.get(name)
        if isinstance(value, str) and value.strip() and not _same(current.get(name), value):
            # [I] wording: AX's infolog names the field and table; the XPath locates it in the message
            raise AxFault([f"Field '{name}' in table '{current.source}' is not allowed to be edited: the "
                           "update must leave it out or send the value that was read."],
                          field=name, xpath=f"{xpath}/{current.source}/{name}")


def match_child(children: list[Entity], rec: Entity) -> Entity | None:
    """The stored child ``rec`` refers to: by RecId, a sales line also by its lot id."""
    rec_id = rec.get("RecId")
    for child in children:
        if rec_id and str(child.rec_id) == rec_id:
            return child
        if not rec_id and rec.source == "SalesLine" and rec.get("InventTransId") and (
                child.get("InventTransId") == rec.get("InventTransId")):
            return child
    return None


def merge(world: World, current: Entity, sent: Entity, index: DocumentIndex, *, partial: bool,
          clear_nil: bool, xpath: str = "") -> None:
    """Apply ``sent`` onto ``current`` (see module docstring); ``xpath`` is the parent's path in
    the message (for the fault). Raises :class:`AxFault` for a change of an AllowEdit=No field."""
    refuse_uneditable(current, sent, xpath)
    before = dict(current.fields)
    info = index.types[current.type_name]
    if partial:
        for name, value in sent.fields.items():
            if name in _SERVER_OWNED:
                continue
            if value is NIL:
                if clear_nil:
                    current.fields.pop(name, None)
            else:
                current.fields[name] = value
    else:
        for f in info.fields:
            if f.name in _SERVER_OWNED:
                continue
            value = sent.fields.get(f.name)
            if value is None or value is NIL:
                current.fields.pop(f.name, None)
            else:
                current.fields[f.name] = value
    here = f"{xpath}/{current.source}"
    for child_name, _ in info.children:
        stored = current.children.get(child_name, [])
        received = sent.children.get(child_name, [])
        if not partial:
            result = []
            for rec in received:
                match = match_child(stored, rec)
                if match is not None:
                    merge(world, match, rec, index, partial=False, clear_nil=clear_nil, xpath=here)
                    result.append(match)
                else:
                    result.append(rec)
            current.children[child_name] = result
            continue
        for rec in received:
            match = match_child(stored, rec) if rec.action != "create" else None
            if rec.action == "delete":
                if match is None:
                    raise AxFault([f"The {child_name} record to delete was not found in the document."])  # [I]
                stored.remove(match)
            elif match is not None:
                merge(world, match, rec, index, partial=rec.action != "replace", clear_nil=clear_nil,
                      xpath=here)
            elif rec.action == "update":
                raise AxFault([f"The {child_name} record to update was not found in the document."])  # [I]
            else:
                stored.append(rec)
        current.children[child_name] = stored
    if current.fields != before:
        world.bump(current)
