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

A kind may run in both directions (``customers``): :func:`job_for` picks the job of a
``(kind, direction)``; its ``source`` is the system whose keys are listed and read, and each
record's ``context.message`` says where it came from, as a real-time message would (the flow's
``when:`` conditions route on it).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

from connectors.dynamics_ax import EntityKey
from connectors.dynamics_ax.query import range_
from connectors.errors import ConfigError, NotFoundError
from pipelines.bulk.lookup import lookup_products
from pipelines.operations.common import ax_document
from pipelines.registry import FlowRegistry, LoadedFlow

__all__ = ["JOBS", "REVERSE_JOBS", "Job", "find_flow", "job_for"]

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
    key_entity: str  # AX: the client entity whose keys are listed; the shop: the resource
    reader: Callable[..., AsyncIterator[Group]]
    direction: str = "ax-to-ps"
    #: AX change tracking behind ``--since``: ``(client entity, field naming the job's key in a
    #: changed document, or None: the changed key is the job's key)``; empty: no change tracking
    changes: tuple[tuple[str, str | None], ...] = ()
    #: what a read part's records look up in the target in a batch before their writes
    #: (:mod:`pipelines.bulk.lookup`), or None
    lookup: Callable[..., Any] | None = None


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


def _message(source: str, key: str) -> dict[str, Any]:
    """What the flow's ``context.message`` says of a bulk record (its ``when:`` conditions)."""
    return {"source": source, "entity": "customer", "key": key, "event": "bulk.customers"}


async def read_customers_ax(ops: Any, keys: list[str], xrefs: Callable[[str, list[str]], dict[str, str]]
                            ) -> AsyncIterator[Group]:
    """AX customers (one ``read`` per batch of accounts), with the context the real-time flow
    gets for an AX customer message: the linked shop customer and address, a fresh password
    (PrestaShop requires one on create; never hashed, never logged)."""
    docs = [ax_document(c) for c in await _read(ops, "customer", "AccountNum", keys)]
    ps_ids, address_ids = xrefs("customer", keys), xrefs("address", keys)
    for doc in docs:
        account = str(doc.get("AccountNum"))
        yield [(doc, {"message": _message("ax", account), "ax_customer_account": account,
                      "ps_customer_id": ps_ids.get(account), "ps_address_id": address_ids.get(account),
                      "new_password": secrets.token_urlsafe(18), "bulk_key": account})]


async def read_customers_ps(ops: Any, keys: list[str], xrefs: Callable[[str, list[str]], dict[str, str]]
                            ) -> AsyncIterator[Group]:
    """The shop's customers of the chunk (one list call, secrets removed) with their addresses
    (one list call) and each address's ``country`` (one read per country), as ``customers.get``
    extracts them; a country the shop cannot return leaves ``country`` empty (the mapping then
    says what is missing, for that record only). Context: the linked AX account, as in real time."""
    from connectors.prestashop import F

    rows = await ops.ps.list("customers", display="full", filters={"id": F.any_of(*keys)}, sort=["id_ASC"])
    found = {str(r["id"]): r for r in rows}
    present = [k for k in keys if k in found]  # a customer deleted since it was listed: nothing to send
    addresses: dict[str, list[dict[str, Any]]] = {k: [] for k in present}
    if present:
        for row in await ops.ps.list("addresses", display="full", filters={"id_customer": F.any_of(*present)},
                                     sort=["id_ASC"]):
            addresses.setdefault(str(row.get("id_customer")), []).append(dict(row))
    wanted = sorted({str(a.get("id_country") or "0") for rows_ in addresses.values() for a in rows_} - {"0"})
    read = await asyncio.gather(*(ops.ps.get("countries", int(c)) for c in wanted), return_exceptions=True)
    countries = {c: dict(r) for c, r in zip(wanted, read, strict=True) if not isinstance(r, BaseException)}
    for key in present:
        record = {k: v for k, v in found[key].items() if k not in _SHOP_SECRETS}
        record["addresses"] = [{**a, "country": countries.get(str(a.get("id_country") or "0"), {})}
                               for a in addresses.get(key, [])]
        link = ops.store.get_xref("customer", ps_id=key) if ops.store is not None else None
        yield [(record, {"message": _message("prestashop", key), "ps_customer_id": key,
                         "ax_customer_account": link["ax_id"] if link else None, "bulk_key": key})]


#: fields of a shop customer that never leave the reader (as the real-time extract drops them)
_SHOP_SECRETS = ("passwd", "secure_key", "reset_password_token", "last_passwd_gen")

JOBS: dict[str, Job] = {
    # an item's document covers its sales price; names and variants are EcoResProduct documents
    # (a variant names its master, a master is its own item); trade agreement lines name their item
    "catalog": Job("catalog", "product", "ax", "item", read_catalog,
                   changes=(("item", None), ("product", "ProductMaster|DisplayProductNumber")),
                   lookup=lookup_products),
    # on-hand has no change tracking in AX (the stock poller compares content hashes instead)
    "stock": Job("stock", "stock", "ax", "item", read_stock),
    "prices": Job("prices", "price", "ax", "item", read_prices,
                  changes=(("item", None), ("price_agreement", "ItemRelation"))),
    "customers": Job("customers", "customer", "ax", "customer", read_customers_ax, changes=(("customer", None),)),
}
#: kinds that also run the other way
REVERSE_JOBS: dict[str, Job] = {
    "customers": Job("customers", "customer", "prestashop", "customers", read_customers_ps, "ps-to-ax"),
}


def job_for(kind: str, direction: str = "ax-to-ps") -> Job:
    """The job of ``presta-ax sync KIND --direction DIRECTION``; ConfigError when there is none."""
    if kind not in JOBS:
        raise ConfigError(f"Unknown sync kind '{kind}'. Known: {', '.join(JOBS)}.")
    if direction == "ax-to-ps":
        return JOBS[kind]
    if direction == "ps-to-ax" and kind in REVERSE_JOBS:
        return REVERSE_JOBS[kind]
    if direction not in ("ax-to-ps", "ps-to-ax"):
        raise ConfigError(f"Unknown direction '{direction}': use ax-to-ps or ps-to-ax.")
    raise ConfigError(f"`presta-ax sync {kind}` runs ax-to-ps only (AX owns this data); "
                      f"ps-to-ax is offered for: {', '.join(REVERSE_JOBS)}.")


def find_flow(registry: FlowRegistry, job: Job) -> LoadedFlow:
    """The flow of ``job``: the one for its entity with a ``bulk`` trigger from its source."""
    for flow in registry.flows().values():
        if flow.spec.entity == job.entity and any(
                t.type == "bulk" and (t.source in (None, job.source)) for t in flow.spec.triggers):
            return flow
    raise ConfigError(f"No flow for '{job.entity}' has a bulk trigger from {job.source}: add "
                      f"`- {{type: bulk, source: {job.source}}}` to the flow's triggers to run `presta-ax sync "
                      f"{job.kind}`.")
