"""What each ``presta-ax sync`` kind runs: its flow (found by its ``bulk`` trigger), where its
keys come from, and how a chunk of them is read in as few calls as the source allows.

A reader turns a chunk's keys into ``(record, context)`` pairs, each exactly what the flow's
``extract`` step would have produced for that key (same record shape, same context fields),
but read in batches: AX ``read`` takes many keys per call (``read_batch_size`` per message),
and ``find`` with a ``Range`` criterion over the chunk's first..last key fetches the children
of the whole chunk (variants, on-hand rows) in one call. Cross-references come from the store
in one query per chunk (:meth:`pipelines.bulk.store.BulkStore.xrefs_by_ax`).

Readers yield one group per key: the master record first, then its variants (the variant's
combination needs the shop id of its master's product, which the master's write gives).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from connectors.dynamics_ax import EntityKey
from connectors.dynamics_ax.query import range_
from connectors.errors import ConfigError, NotFoundError
from pipelines.operations.common import ax_document
from pipelines.registry import FlowRegistry, LoadedFlow

__all__ = ["JOBS", "Job", "find_flow"]

Pair = tuple[dict[str, Any], dict[str, Any]]
#: the records of one key: the master first, then its variants (their writes need its shop id)
Group = list[Pair]


@dataclass(frozen=True)
class Job:
    """A sync kind: the flow ``entity`` whose ``bulk`` trigger names its ``source`` service,
    the AX document (client entity name) whose ``getKeys`` lists the keys, and the reader."""

    kind: str
    entity: str
    source: str
    key_entity: str
    reader: Callable[..., AsyncIterator[Group]]


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    out = ax_document(item)
    for module in ("Sales", "Invent", "Purch"):
        rows = out.get(module)
        if isinstance(rows, list):
            out[module] = rows[0] if rows else None
    return out


async def _read(ops: Any, entity: str, field: str, keys: list[str]) -> list[dict[str, Any]]:
    if not keys:
        return []
    return await ops.ax.service(entity).read([EntityKey.of(**{field: k}) for k in keys], skip_missing=True)


async def _find_range(ops: Any, entity: str, table: str, field: str, keys: list[str]) -> list[dict[str, Any]]:
    try:
        return await ops.ax.service(entity).find([range_(table, field, min(keys), max(keys))])
    except NotFoundError:
        return []  # some AX builds fault on an empty find


async def read_catalog(ops: Any, keys: list[str], xrefs: Callable[[str, list[str]], dict[str, str]]
                       ) -> AsyncIterator[Group]:
    """Items with their EcoResProduct and variants, then each variant (``context.variant``)."""
    items = [_flat(i) for i in await _read(ops, "item", "ItemId", keys)]
    numbers = [str(i.get("Product") or i.get("ItemId")) for i in items]
    products = {str(p.get("DisplayProductNumber")): ax_document(p)
                for p in await _read(ops, "product", "DisplayProductNumber", numbers)}
    wanted = set(numbers)
    variants: dict[str, list[dict[str, Any]]] = {}
    if any(p.get("VariantConfigurationTechnology") for p in products.values()):
        for v in await _find_range(ops, "product", "Product", "ProductMaster", numbers):
            if str(v.get("ProductMaster")) in wanted:
                variants.setdefault(str(v["ProductMaster"]), []).append(ax_document(v))
    product_ids = xrefs("product", [str(i.get("ItemId")) for i in items])
    combo_ids = xrefs("combination", [str(v.get("DisplayProductNumber")) for vs in variants.values() for v in vs])
    for item, number in zip(items, numbers, strict=True):
        item_id = str(item.get("ItemId"))
        mine = sorted(variants.get(number, []), key=lambda v: str(v.get("DisplayProductNumber")))
        record = {**item, "EcoResProduct": products.get(number), "Barcode": None,
                  "Variants": [{"DisplayProductNumber": v.get("DisplayProductNumber")} for v in mine]}
        context: dict[str, Any] = {"variant": False, "ax_item_id": item_id, "ps_product_id": product_ids.get(item_id),
                                   "bulk_key": item_id}
        group: Group = [(record, context)]
        for v in mine:
            vnum = str(v["DisplayProductNumber"])
            dims = [{"Dimension": d.get("Dimension") or d.get("Name"), "Value": d.get("Value")}
                    for d in v.get("VariantDimValue") or [] if isinstance(d, dict)]
            vrecord = {**v, "Sales": None, "MasterSales": item.get("Sales"), "Barcode": None, "Dimensions": dims}
            # the master's shop id is known once its write (yielded just before) is done
            vcontext = {"variant": True, "ax_item_id": item_id, "ps_product_id": context.get("ps_product_id"),
                        "ps_combination_id": combo_ids.get(vnum), "bulk_key": vnum, "master_context": context}
            group.append((vrecord, vcontext))
        yield group


async def read_stock(ops: Any, keys: list[str], xrefs: Callable[[str, list[str]], dict[str, str]]
                     ) -> AsyncIterator[Group]:
    """On-hand rows of the chunk's items (one ``find`` over the chunk's key range)."""
    version = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # taken before reading
    wanted = {k.lower(): k for k in keys}
    sums: dict[str, list[dict[str, Any]]] = {k: [] for k in keys}
    for row in await _find_range(ops, "on_hand", "InventSum", "ItemId", keys):
        key = wanted.get(str(row.get("ItemId") or "").lower())
        if key is not None:
            sums[key].append(ax_document(row))
    product_ids = xrefs("product", keys)
    stock_ids = xrefs("stock_available", keys)
    for key in keys:
        yield [({"ItemId": key, "InventSum": sums[key]}, {
            "ax_onhand_version": version, "ps_product_id": product_ids.get(key), "ps_combination_id": None,
            "ps_stock_available_id": stock_ids.get(key), "bulk_key": key})]


async def read_prices(ops: Any, keys: list[str], xrefs: Callable[[str, list[str]], dict[str, str]]
                      ) -> AsyncIterator[Group]:
    """Items with their sales trade agreements (one ``find`` over the chunk's key range)."""
    items = [_flat(i) for i in await _read(ops, "item", "ItemId", keys)]
    lines: dict[str, list[dict[str, Any]]] = {}
    for line in await _find_range(ops, "price_agreement", "PriceDiscTable", "ItemRelation", keys):
        doc = ax_document(line)
        if (doc.get("Relation") or "PriceSales") == "PriceSales" and (doc.get("ItemCode") or "Table") == "Table":
            lines.setdefault(str(doc.get("ItemRelation")), []).append(doc)
    product_ids = xrefs("product", [str(i.get("ItemId")) for i in items])
    for item in items:
        item_id = str(item.get("ItemId"))
        yield [({**item, "PriceAgreements": lines.get(item_id, [])}, {
            "variant": False, "ax_item_id": item_id, "ps_product_id": product_ids.get(item_id), "bulk_key": item_id})]


JOBS: dict[str, Job] = {
    "catalog": Job("catalog", "product", "ax", "item", read_catalog),
    "stock": Job("stock", "stock", "ax", "item", read_stock),
    "prices": Job("prices", "price", "ax", "item", read_prices),
}


def find_flow(registry: FlowRegistry, job: Job) -> LoadedFlow:
    """The flow of ``job``: the one for its entity with a ``bulk`` trigger from its source."""
    for flow in registry.flows().values():
        if flow.spec.entity == job.entity and any(
                t.type == "bulk" and (t.source in (None, job.source)) for t in flow.spec.triggers):
            return flow
    raise ConfigError(f"No flow for '{job.entity}' has a bulk trigger from {job.source}: add "
                      f"`- {{type: bulk, source: {job.source}}}` to the flow's triggers to run `presta-ax sync "
                      f"{job.kind}`.")
