"""Catalog operations of the flows (part of :data:`pipelines.operations.table._HANDLERS`): AX items and
variants -> PrestaShop products and combinations.

* ``ax ItemService.read`` (:func:`item_read`), the extract of ``ax_product_to_ps`` and
  ``ax_price_to_ps``. The key is an AX product number (``EcoResProductService`` poll) or an
  ``ItemId`` (``ItemService`` poll, bulk). For a released product it returns the ``InventTable``
  with its ``Sales``/``Invent``/``Purch`` rows as single objects and, when included,
  ``EcoResProduct`` (translations, categories), ``Barcode`` (the port has no bar code service:
  ``None``), ``Variants`` (the product numbers of its variants) and ``PriceAgreements`` (the
  item's sales trade agreement lines, ``PriceDiscTable`` through the port's
  ``PriceDiscTableService``). For a product variant it returns the variant (``Sales`` of its own
  release if any, ``MasterSales`` of its master's item, ``Dimensions`` from ``VariantDimValue``
  when the port's schema has them) and sets ``context.variant``. It puts the shop product into
  the context as ``ps_product_id`` (the master's, for a variant): the ``product`` cross-reference,
  else the shop product whose ``reference`` is the ItemId (and then records the cross-reference).
* ``prestashop products.upsert`` (:func:`products_upsert`): the product is looked up by the
  ``product`` cross-reference, then by ``reference`` = ItemId; found, only the fields whose value
  differs from the shop's are written (numbers compared as numbers, multilingual fields per
  language, associations as id sets), nothing at all when none differs; not found, it is
  created. The cross-reference ``product`` (shop id <-> ItemId) is written right after.
* ``prestashop combinations.upsert`` (:func:`combinations_upsert`): the same for a combination
  of the product, looked up by the ``combination`` cross-reference, then by ``reference`` (the
  variant's product number) among the product's combinations, then by the same set of option
  values; cross-reference ``combination`` (shop id <-> product number).

Multilingual values arrive as PrestaShop's ``[{"id", "value"}]``; languages the shop does not
have are left out. Each write returns ``{"id", "existed", "changed": [fields written],
"document": what the shop now holds for the mapped fields}`` (the document is what echo
suppression hashes). Connector errors pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from opentelemetry import trace

from connectors.dynamics_ax.query import eq
from connectors.errors import NotFoundError, TransientError, ValidationError
from connectors.prestashop import F

if TYPE_CHECKING:
    from pipelines.operations.table import SystemOperations

__all__ = ["combinations_upsert", "find_product_id", "item_read", "products_upsert", "same_value"]

_MODULES = ("Sales", "Invent", "Purch")


# ----------------------------------------------------------------------------- AX reads


async def _find(ops: SystemOperations, entity: str, table: str, field: str, value: str) -> list[dict[str, Any]]:
    from pipelines.operations.common import ax_document as _ax_document

    # find, not read: a read of an unknown key is a fault that a port may not explain
    try:
        found = await ops.ax.service(entity).find([eq(table, field, value)])
    except NotFoundError:
        return []
    return [_ax_document(f) for f in found if str(f.get(field) or "").lower() == value.lower()]


def _flat_item(item: dict[str, Any]) -> dict[str, Any]:
    """The item with its Sales/Invent/Purch module rows as single objects (one each in AX)."""
    out = dict(item)
    for module in _MODULES:
        rows = out.get(module)
        if isinstance(rows, list):
            out[module] = rows[0] if rows else None
    return out


async def _item_of(ops: SystemOperations, key: str) -> dict[str, Any] | None:
    items = await _find(ops, "item", "InventTable", "ItemId", key)
    if not items:  # a product number released under another item number
        items = await _find(ops, "item", "InventTable", "Product", key)
    return _flat_item(items[0]) if items else None


async def find_product_id(ops: SystemOperations, item_id: str) -> str | None:
    """The shop product of AX item ``item_id``: the ``product`` cross-reference, else the
    product whose ``reference`` is the ItemId (lowest id; the cross-reference is then written)."""
    xref = await ops._get_xref("product", ax_id=item_id)
    if xref:
        return str(xref["ps_id"])
    rows = await ops.ps.list("products", display=["id", "reference"], filters={"reference": F.eq(item_id)},
                             sort=["id_ASC"])
    found = next((str(r["id"]) for r in rows if str(r.get("reference") or "") == item_id), None)
    if found is not None:
        await ops._xref("product", found, item_id)
    return found


async def _agreements(ops: SystemOperations, item_id: str) -> list[dict[str, Any]]:
    lines = await _find(ops, "price_agreement", "PriceDiscTable", "ItemRelation", item_id)
    return [line for line in lines
            if (line.get("Relation") or "PriceSales") == "PriceSales" and (line.get("ItemCode") or "Table") == "Table"]


async def item_read(ops: SystemOperations, request: Any, context: Mapping[str, Any], step: str) -> dict[str, Any]:
    """Extract: the AX released product or variant of ``key`` (see the module docstring)."""
    key = str(request.get("key") or "")
    include = set(request.get("include") or ())
    products = await _find(ops, "product", "Product", "DisplayProductNumber", key)
    product = products[0] if products else None
    span = trace.get_current_span()
    span.set_attribute("ax.item_id", key)
    if product is not None and product.get("ProductMaster"):
        return await _variant_read(ops, product, context)
    item = await _item_of(ops, key)
    if item is None:
        raise NotFoundError(f"AX has no released product with item or product number {key} in this company.",
                            system="ax")
    item_id = str(item.get("ItemId") or key)
    record = dict(item)
    if "EcoResProduct" in include:
        number = str(item.get("Product") or item_id)
        if product is None or str(product.get("DisplayProductNumber")) != number:
            found = await _find(ops, "product", "Product", "DisplayProductNumber", number)
            product = found[0] if found else None
        record["EcoResProduct"] = product
    if "Barcode" in include:
        record["Barcode"] = None  # no bar code service (InventItemBarcodeService) on the port
    if "Variants" in include:
        variants = await _find(ops, "product", "Product", "ProductMaster", str(item.get("Product") or item_id))
        record["Variants"] = [{"DisplayProductNumber": v.get("DisplayProductNumber")} for v in variants]
    if "PriceAgreements" in include:
        record["PriceAgreements"] = await _agreements(ops, item_id)
    if isinstance(context, MutableMapping):
        context["variant"] = False
        context["ax_item_id"] = item_id
        context["ps_product_id"] = await find_product_id(ops, item_id)
    return record


async def _variant_read(ops: SystemOperations, product: dict[str, Any], context: Mapping[str, Any]
                        ) -> dict[str, Any]:
    number, master = str(product["DisplayProductNumber"]), str(product["ProductMaster"])
    master_item = await _item_of(ops, master)
    if master_item is None:
        raise NotFoundError(f"AX product variant {number}: its master {master} is not released in this company.",
                            system="ax")
    own = await _item_of(ops, number)
    dims = [{"Dimension": d.get("Dimension") or d.get("Name"), "Value": d.get("Value")}
            for d in product.get("VariantDimValue") or [] if isinstance(d, Mapping)]
    record = {**product, "Sales": (own or {}).get("Sales"), "MasterSales": master_item.get("Sales"),
              "Barcode": None, "Dimensions": dims}
    master_id = str(master_item.get("ItemId") or master)
    ps_product = await find_product_id(ops, master_id)
    if ps_product is None:
        # the master's own message creates it; retrying lets that happen first
        raise TransientError(f"AX product variant {number}: the shop has no product for its master item "
                             f"{master_id} yet.", system="prestashop", retry_after=30)
    if isinstance(context, MutableMapping):
        context.update(variant=True, ax_item_id=master_id, ps_product_id=ps_product)
        xref = await ops._get_xref("combination", ax_id=number)
        context["ps_combination_id"] = xref["ps_id"] if xref else None
    return record


# ----------------------------------------------------------------------------- comparing


def same_value(current: Any, new: Any) -> bool:
    """PrestaShop's stored text vs a mapped value: numbers as numbers ("29.000000" == 29),
    anything else as text; a missing value equals ""."""
    a, b = "" if current is None else str(current).strip(), "" if new is None else str(new).strip()
    if a == b:
        return True
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, ValueError):
        return False


def _ids(items: Any) -> set[str]:
    return {str(i.get("id")) for i in items or () if isinstance(i, Mapping) and i.get("id") not in (None, "")}


def shop_record(doc: Mapping[str, Any], languages: list[int]) -> dict[str, Any]:
    """The mapped document as the client writes it: ``[{"id", "value"}]`` -> ``{lang id: value}``
    (only the shop's languages), ``None`` values left out."""
    out: dict[str, Any] = {}
    for name, value in doc.items():
        if value is None:
            continue
        if isinstance(value, list) and value and all(isinstance(v, Mapping) and "value" in v for v in value):
            value = {int(v["id"]): v["value"] for v in value if int(v["id"]) in languages}
        out[name] = value
    return out


def changes(current: Mapping[str, Any], record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of ``record`` whose value differs from the shop's ``current`` one."""
    out: dict[str, Any] = {}
    for name, value in record.items():
        if name == "id":
            continue
        if name == "associations":
            have = current.get("associations") or {}
            diff = {a: items for a, items in (value or {}).items() if _ids(items) != _ids(have.get(a))}
            if diff:
                out["associations"] = diff
        elif isinstance(value, Mapping):
            stored = current.get(name)
            stored = stored if isinstance(stored, Mapping) else {}
            if any(not same_value(stored.get(lid, stored.get(str(lid))), v) for lid, v in value.items()):
                out[name] = value
        elif not same_value(current.get(name), value):
            out[name] = value
    return out


async def _write(ops: SystemOperations, resource: str, found: Mapping[str, Any] | None,
                 record: dict[str, Any]) -> tuple[str, bool, list[str]]:
    if found is None:
        created = await ops.ps.create(resource, record)
        return str(created["id"]), False, sorted(record)
    diff = changes(found, record)
    if diff:
        await ops.ps.update(resource, int(found["id"]), diff)
    return str(found["id"]), True, sorted(diff)


async def _get(ops: SystemOperations, resource: str, ps_id: Any) -> dict[str, Any] | None:
    try:
        return dict(await ops.ps.get(resource, int(ps_id), json=False))
    except NotFoundError:
        return None  # deleted in the shop since: look it up again


# ----------------------------------------------------------------------------- writes


async def products_upsert(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str
                          ) -> dict[str, Any]:
    """Load: the shop product of AX item ``doc.reference`` (see the module docstring)."""
    item_id = str(doc.get("reference") or "")
    if not item_id:
        raise ValidationError("The product has no reference (the AX ItemId).", system="prestashop", code="product")
    record = shop_record(doc, list(await ops.ps.languages()))
    found = None
    xref = await ops._get_xref("product", ax_id=item_id)
    if xref:
        found = await _get(ops, "products", xref["ps_id"])
    if found is None and "ps_product_row" in context:
        found = context["ps_product_row"]  # looked up before the write, in a batch (pipelines.bulk.lookup)
    elif found is None:
        rows = await ops.ps.list("products", display="full", filters={"reference": F.eq(item_id)}, sort=["id_ASC"])
        found = next((dict(r) for r in rows if str(r.get("reference") or "") == item_id), None)
    trace.get_current_span().set_attribute("ax.item_id", item_id)
    ps_id, existed, changed = await _write(ops, "products", found, record)
    await ops._xref("product", ps_id, item_id)
    return {"id": ps_id, "existed": existed, "changed": changed, "document": record}


async def combinations_upsert(ops: SystemOperations, doc: Any, context: Mapping[str, Any], step: str
                              ) -> dict[str, Any]:
    """Load: the combination of AX variant ``doc.reference`` (see the module docstring)."""
    number = str(doc.get("reference") or "")
    product_id = str(doc.get("id_product") or "")
    if not number or not product_id:
        raise ValidationError("The combination needs its reference (the AX variant number) and id_product.",
                              system="prestashop", code="combination")
    record = shop_record(doc, list(await ops.ps.languages()))
    found = None
    xref = await ops._get_xref("combination", ax_id=number)
    if xref:
        found = await _get(ops, "combinations", xref["ps_id"])
        if found is not None and str(found.get("id_product")) != product_id:
            found = None
    if found is None:
        rows = [dict(r) for r in await ops.ps.list("combinations", display="full",
                                                   filters={"id_product": F.eq(int(product_id))}, sort=["id_ASC"])]
        found = next((r for r in rows if str(r.get("reference") or "") == number), None)
        wanted = _ids((record.get("associations") or {}).get("product_option_values"))
        if found is None and wanted:
            found = next((r for r in rows if not r.get("reference")
                          and _ids((r.get("associations") or {}).get("product_option_values")) == wanted), None)
    trace.get_current_span().set_attribute("ax.product_number", number)
    ps_id, existed, changed = await _write(ops, "combinations", found, record)
    await ops._xref("combination", ps_id, number)
    return {"id": ps_id, "id_product": product_id, "existed": existed, "changed": changed, "document": record}
