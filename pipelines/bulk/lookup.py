"""The shop products of a read part, looked up in a batch before any of their writes.

A product create must first look the product up by ``reference`` (the AX ItemId): a create
whose earlier attempt reached the shop but not the cross-reference (a crash between the two, a
killed worker, a lost node) must find that product and update it instead of creating it again.
Done per record, the look-up is one more request per write, and the write's task makes it
right before taking its permit. :func:`lookup_products` makes it once per read part, for the
part's items that have no cross-reference, with PrestaShop's OR filter
(``filter[reference]=[A|B|C]``, split over several requests so that no URL grows long), and
puts the answer into each record's context; :func:`pipelines.operations.catalog.products_upsert`
uses it instead of its own look-up.

Contract:

* ``context["ps_product_row"]`` is set for exactly the records looked up: the shop's product
  (``display=full``, the lowest id whose ``reference`` equals the ItemId exactly) or None when
  the shop has none; a record with a cross-reference, or whose ItemId the filter syntax cannot
  carry (``[``, ``]``, ``|``), is not looked up here (its write looks it up itself, as before);
* the look-up is made after the part's read and before any write of its records, so it sees
  every product an earlier attempt created: exactly once holds as with the per-record look-up;
* the answer is good for one attempt only: a write attempt that failed may have created the
  product at the shop (a timeout), so the chunk task drops the answer before trying again
  (:data:`LOOKED_UP`, :mod:`pipelines.bulk.task`) and the retry looks the product up itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

__all__ = ["LOOKED_UP", "MAX_FILTER_CHARS", "batches", "lookup_products"]

#: context keys of a batched look-up: valid for one write attempt (module docstring)
LOOKED_UP = ("ps_product_row",)
#: most characters of ItemIds in one request's filter: with the rest of the query well under the
#: 8 KB request line that common web servers accept (Apache's LimitRequestLine, nginx's buffers)
MAX_FILTER_CHARS = 2000
_UNSENDABLE = frozenset("[]|")


def batches(keys: list[str], max_chars: int = MAX_FILTER_CHARS) -> Iterator[list[str]]:
    """``keys`` in order, cut into runs whose ``A|B|C`` text (before URL encoding, which the
    shop's ItemIds, letters, digits and dashes, do not grow) stays within ``max_chars``; a key
    longer than that goes alone."""
    batch: list[str] = []
    size = 0
    for key in keys:
        if batch and size + 1 + len(key) > max_chars:
            yield batch
            batch, size = [], 0
        size += len(key) + (1 if batch else 0)
        batch.append(key)
    if batch:
        yield batch


async def lookup_products(ops: Any, groups: list[list[tuple[dict[str, Any], dict[str, Any]]]],
                          max_chars: int = MAX_FILTER_CHARS) -> int:
    """Look up the shop products of the masters in ``groups`` that have no cross-reference
    (module docstring), ``max_chars`` of ItemIds per request at most (:func:`batches`); returns
    the number of list requests made."""
    from connectors.prestashop import F

    wanted: dict[str, list[dict[str, Any]]] = {}
    for group in groups:
        if not group:
            continue
        _, context = group[0]
        item_id = str(context.get("ax_item_id") or "")
        if context.get("variant") or context.get("ps_product_id") not in (None, "") or not item_id:
            continue
        if _UNSENDABLE.intersection(item_id):
            continue
        wanted.setdefault(item_id, []).append(context)
    requests = 0
    for batch in batches(list(wanted), max_chars):
        rows = await ops.ps.list("products", display="full", filters={"reference": F.any_of(*batch)}, sort=["id_ASC"])
        requests += 1
        found: dict[str, dict[str, Any]] = {}
        for row in rows:  # the shop compares case-insensitively; the ItemId must match exactly
            found.setdefault(str(row.get("reference") or ""), dict(row))
        for item_id in batch:
            for context in wanted[item_id]:
                context["ps_product_row"] = found.get(item_id)
    return requests
