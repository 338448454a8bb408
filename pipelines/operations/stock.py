"""Stock and price operations of the flows (part of :data:`pipelines.operations.table._HANDLERS`).

* ``ax InventoryOnHandService.read`` (:func:`on_hand_read`), the extract of ``ax_stock_to_ps``:
  the item's ``InventSum`` rows (one per inventory dimension, each with its ``InventDim``) under
  ``{"ItemId", "InventSum": [...]}``. It takes the time *before* asking AX as the figure's
  version (``context.ax_onhand_version``, UTC ISO text: a figure read later is newer) and puts
  the shop rows into the context: ``ps_product_id`` (``product`` cross-reference, else the
  product whose reference is the ItemId), ``ps_combination_id`` (a variant number's
  ``combination`` cross-reference) and ``ps_stock_available_id``.
* ``prestashop stock_availables.update`` (:func:`stock_availables_update`): the row of
  ``(id_product, id_product_attribute)`` found by filter (``stock_availables`` has no POST: a
  missing row is a :class:`NotFoundError`). Before writing, the figure's version is recorded in
  the store's sync state (entity ``ps_stock``, key ``<id_product>:<id_product_attribute>``),
  which refuses a version older than the one recorded: an older figure (a slow bulk task, a
  retry) never overwrites a newer one and ends as ``{"stale": true}`` without a write. Only the
  fields that differ from the row are written (none: no request at all).
* ``prestashop products.update`` (:func:`products_update`), the load of ``ax_price_to_ps``: the
  base price is written only when it differs; ``specific_prices`` are made to match AX: a shop
  row is matched on PrestaShop's key fields (:data:`SPECIFIC_PRICE_KEY`) and updated only where
  price or reduction differ, a missing one created, and a row of AX's shape (a fixed price at
  product level: no cart, customer, catalog price rule or reduction) that AX no longer has is
  deleted. A shop's own discounts (a reduction, a customer, a catalog rule) are left alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Mapping, MutableMapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from connectors.errors import NotFoundError, ValidationError
from connectors.prestashop import F
from pipelines.operations.catalog import find_product_id, same_value

if TYPE_CHECKING:
    from pipelines.operations.table import SystemOperations

__all__ = ["SPECIFIC_PRICE_KEY", "on_hand_read", "products_update", "stock_availables_update"]

#: the sync-state entity of the shop's stock rows (the figure's version last applied)
STOCK_STATE = "ps_stock"
#: what identifies a specific price (PrestaShop's unique key on specific_price, less the product)
SPECIFIC_PRICE_KEY = ("id_product_attribute", "id_shop", "id_shop_group", "id_currency", "id_country", "id_group",
                      "id_customer", "id_cart", "from_quantity", "from", "to")
_SP_VALUES = ("price", "reduction", "reduction_tax", "reduction_type")


async def _maybe(result: Any) -> Any:
    return await result if isinstance(result, Awaitable) else result


async def on_hand_read(ops: SystemOperations, request: Any, context: Mapping[str, Any], step: str
                       ) -> dict[str, Any]:
    """Extract: the on-hand rows of item ``key`` (see the module docstring)."""
    from pipelines.operations.common import ax_document as _ax_document

    key = str(request.get("key") or "")
    version = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    try:
        rows = await ops.ax.service("on_hand").find([_criterion(key)])
    except NotFoundError:
        rows = []
    sums = [_ax_document(r) for r in rows if str(r.get("ItemId") or "").lower() == key.lower()]
    trace.get_current_span().set_attribute("ax.item_id", key)
    if isinstance(context, MutableMapping):
        xref = await ops._get_xref("combination", ax_id=key)
        combination = str(xref["ps_id"]) if xref else None
        product = None
        if combination is not None:
            row = await ops.ps.get("combinations", int(combination), display=["id", "id_product"])
            product = str(row.get("id_product"))
        else:
            product = await find_product_id(ops, key)
        stock_id = None
        if product is not None:
            stock_id = await _stock_row_id(ops, product, combination or "0")
        context.update(ax_onhand_version=version, ps_product_id=product, ps_combination_id=combination,
                       ps_stock_available_id=stock_id)
    return {"ItemId": key, "InventSum": sums}


def _criterion(item_id: str) -> Any:
    from connectors.dynamics_ax.query import eq

    return eq("InventSum", "ItemId", item_id)


async def _stock_rows(ops: SystemOperations, product: str, attribute: str) -> list[dict[str, Any]]:
    rows = await ops.ps.list("stock_availables", display="full", sort=["id_ASC"],
                             filters={"id_product": F.eq(int(product)), "id_product_attribute": F.eq(int(attribute))})
    return [dict(r) for r in rows]


async def _stock_row_id(ops: SystemOperations, product: str, attribute: str) -> str | None:
    rows = await _stock_rows(ops, product, attribute)
    return str(rows[0]["id"]) if rows else None


async def stock_availables_update(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str
                                  ) -> dict[str, Any]:
    """Load: the quantity of one shop stock row, never older than what was applied."""
    product = str(doc.get("id_product") or "")
    attribute = str(doc.get("id_product_attribute") or "0")
    if not product:
        raise ValidationError("The stock row needs id_product.", system="prestashop", code="stock_available")
    rows = await _stock_rows(ops, product, attribute)
    row = next((r for r in rows if str(r["id"]) == str(doc.get("id"))), rows[0] if rows else None)
    if row is None:
        raise NotFoundError(f"The shop has no stock row for product {product}, combination {attribute} "
                            "(stock_availables are created with their product; they cannot be posted).",
                            system="prestashop")
    key = f"{product}:{attribute}"
    version = context.get("ax_onhand_version")
    if version and ops.store is not None:
        # claimed before the write: of two figures racing, the older one cannot land last
        if not await _maybe(ops.store.put_sync_state(STOCK_STATE, key, source_version=str(version))):
            state = await _maybe(ops.store.get_sync_state(STOCK_STATE, key)) or {}
            return {"id": row["id"], "stale": True, "changed": [], "version": version,
                    "applied_version": state.get("source_version")}
    record = {k: v for k, v in doc.items() if k not in ("id", "id_product", "id_product_attribute") and v is not None}
    diff = {k: v for k, v in record.items() if not same_value(row.get(k), v)}
    if diff:
        await ops.ps.update("stock_availables", int(row["id"]), diff)
    return {"id": row["id"], "stale": False, "changed": sorted(diff), "version": version,
            "document": {"id_product": product, "id_product_attribute": attribute, **record}}


# ----------------------------------------------------------------------------- prices


def _norm(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    if name in ("from", "to"):
        return "0000-00-00 00:00:00" if text in ("", "0000-00-00") else text
    try:
        return str(int(Decimal(text or "0")))
    except (InvalidOperation, ValueError):
        return text


def _sp_key(row: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(_norm(f, row.get(f)) for f in SPECIFIC_PRICE_KEY)


def _ax_shaped(row: Mapping[str, Any]) -> bool:
    """A fixed price at product level, as AX's trade agreements become (see module docstring)."""
    try:
        price, reduction = Decimal(str(row.get("price") or "0")), Decimal(str(row.get("reduction") or "0"))
    except InvalidOperation:
        return False
    return (price >= 0 and reduction == 0 and _norm("id", row.get("id_cart")) == "0"
            and _norm("id", row.get("id_customer")) == "0"
            and _norm("id", row.get("id_specific_price_rule")) == "0")


async def products_update(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str
                          ) -> dict[str, Any]:
    """Load: the product's base price and AX-managed specific prices (see module docstring)."""
    ps_id = str(doc.get("id") or "")
    if not ps_id:
        raise ValidationError("The price update needs the shop product id.", system="prestashop", code="product")
    current = await ops.ps.get("products", int(ps_id), display=["id", "price"], json=False)
    price_changed = doc.get("price") is not None and not same_value(current.get("price"), doc["price"])
    if price_changed:
        await ops.ps.update("products", int(ps_id), {"price": doc["price"]})
    wanted = [{k: v for k, v in sp.items() if v is not None} for sp in doc.get("specific_prices") or ()]
    shop = [dict(r) for r in await ops.ps.list("specific_prices", display="full", sort=["id_ASC"],
                                               filters={"id_product": F.eq(int(ps_id))})]
    by_key: dict[tuple[str, ...], dict[str, Any]] = {}
    extra: list[str] = []
    for row in shop:
        if not _ax_shaped(row):
            continue
        if _sp_key(row) in by_key:
            extra.append(str(row["id"]))  # a duplicate of an AX price: one is enough
        else:
            by_key[_sp_key(row)] = row
    created = updated = 0
    for sp in wanted:
        sp["id_product"] = ps_id
        found = by_key.pop(_sp_key(sp), None)
        if found is None:
            await ops.ps.create("specific_prices", sp)
            created += 1
            continue
        diff = {k: sp[k] for k in _SP_VALUES if k in sp and not same_value(found.get(k), sp[k])}
        if diff:
            await ops.ps.update("specific_prices", int(found["id"]), diff)
            updated += 1
    gone = extra + [str(r["id"]) for r in by_key.values()]
    if gone:
        await ops.ps.delete("specific_prices", [int(i) for i in gone])
    trace.get_current_span().set_attribute("ps.product_id", ps_id)
    return {"id": ps_id, "price_changed": price_changed, "specific_prices": {
        "created": created, "updated": updated, "deleted": len(gone)},
        "document": {"id": ps_id, "price": doc.get("price"), "specific_prices": wanted}}
