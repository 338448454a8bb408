"""The AX stock poller: on-hand has no change tracking, so what the shop sells is read and compared.

AX 2012's ``InventoryOnHandService`` offers ``read`` only (no ``getChangedKeys``; reference
§8), so :class:`StockPoller` (a plain class, usable without Ray) cannot ask AX what changed.
Each :meth:`StockPoller.poll` instead:

* lists what is published to the shop: the ``reference`` of each shop product (the AX ItemId,
  as the catalog flow writes it), in pages of ``page_size`` (``products``, sorted by id); a
  reference that is no AX released item (the shop's own products) is left alone;
* reads the on-hand of a whole page from AX in **one** ``find`` call (one ``ItemId`` criterion
  per item: criteria on one field are OR-ed in every reading of AIF's rules);
* computes, per item, the figure the shop is given: the stock flow's own mapping
  (``ax_onhand_to_ps_stock``: the warehouses and the rule it sums by) run on the rows, without
  the shop ids; an item with no row has the figure of no row (quantity 0);
* journals a ``stock.changed`` message only for items whose figure's hash differs from the one
  kept from the last poll. The flow reads the on-hand again when it runs, so the shop gets the
  figure current then; ``stock_availables.update`` orders figures by that read time and refuses
  an older one (never a newer figure overwritten by an older one).

Contracts:

* the per-item hashes are a cursor state in the store, ``ax:InventoryOnHandService`` =
  ``{"hashes": {ItemId: hash}, "polled_at": <epoch s>}``, saved after every page that journaled
  something (a poll failing part-way compares the rest again next time); an item no longer
  published loses its hash, so it is sent again when it comes back. The first poll (no state)
  journals every published item: the shop has never had a figure from this bridge;
* the message: ``source="ax"``, ``entity`` of the flow (``stock``), ``key`` = the ItemId,
  ``event`` ``stock.changed``, payload ``{"service", "key", "figure", "rows_version",
  "found_by": "poll"}`` (``figure`` is the hash), ``rows_version`` a hash of the on-hand rows'
  ``RecId:RecVersion`` (every change of a row moves its RecVersion); ``source_version`` = the
  read time (:func:`runtime.pollers.read_version`: a hash cannot order two figures, a time can);
  idempotency key ``ax:InventoryOnHandService:<ItemId>:<figure>:<rows_version>``: the same
  figure read twice (a poll repeated after a crash) is one message, while a figure that changes
  and changes back (5, 3, 5) is three, as its rows changed each time. An item without rows has
  the poll's time as its rows version;
* the interval is the flow's poll trigger's ``every:`` (``5s`` by default,
  :data:`DEFAULT_EVERY`), run at a fixed rate, beside the other pollers (not behind them).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.query import eq
from connectors.errors import NotFoundError
from connectors.prestashop import Client as PsClient
from pipelines.hashing import content_hash
from runtime.messages import Message, new_message_id
from runtime.poll_schedule import run_schedule
from runtime.pollers import HASH_POLLED, PollRoute, cursor_name, poll_jobs, poll_routes, read_version
from runtime.tracing import get_tracer, traceparent_of_current

__all__ = ["DEFAULT_EVERY", "StockPoller", "run_stock_poller", "stock_figure"]

log = logging.getLogger("presta_ax.pollers")

#: the stock poll interval of a trigger without ``every:``
DEFAULT_EVERY = "5s"
#: the shop ids the mapping puts in the document: not part of the figure
_SHOP_IDS = ("id", "id_product", "id_product_attribute")
#: what the figure is when the flow has no mapping the poller can run
_RAW_FIELDS = ("InventDimId", "AvailPhysical", "PhysicalInvent")


def _short(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def stock_figure(mapping: Any, item_id: str, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """What the shop is given for ``item_id`` with on-hand ``rows`` (documents as the extract
    hands them to the mapping): the mapped stock row without the shop ids. Without a mapping, or
    when it cannot run outside a flow, the rows' quantities per inventory dimension (a change
    the mapping would ignore then costs one message that writes nothing)."""
    if mapping is not None:
        try:
            doc = mapping({"ItemId": item_id, "InventSum": rows},
                          {"ps_product_id": "0", "ps_combination_id": None, "ps_stock_available_id": None})
            return {k: v for k, v in doc.items() if k not in _SHOP_IDS}
        except Exception as exc:  # noqa: BLE001 - a mapping needing the flow's context: compare raw rows
            log.debug("stock figure of %s by raw rows: the mapping did not run (%s)", item_id, type(exc).__name__)
    return {"rows": sorted([str(r.get(f) or "") for f in _RAW_FIELDS] for r in rows)}


def _stock_mapping(loaded: Any) -> Any:
    for step in loaded.spec.steps:
        if step.kind == "map" and step.mapping:
            return loaded.compiled(step.mapping)
    return None


class StockPoller:
    """Pages the shop's published items, reads their AX on-hand, journals changed figures
    (module docstring). ``mapping`` is the stock flow's compiled mapping (or ``None``)."""

    default_every = DEFAULT_EVERY

    def __init__(self, store: Any, ax: AxClient, shop: PsClient, route: PollRoute, mapping: Any = None, *,
                 page_size: int = 100, clock: Callable[[], float] = time.time) -> None:
        if route.service not in HASH_POLLED:
            raise ValueError(f"{route.service} is polled by change tracking, not by the stock poller.")
        self.store = store
        self.ax = ax
        self.shop = shop
        self.route = route
        self.mapping = mapping
        self.page_size = page_size
        self.clock = clock

    @property
    def cursor(self) -> str:
        return cursor_name(self.route.service)

    async def published(self) -> AsyncIterator[list[str]]:
        """Pages of the ItemIds the shop sells: its products' references, each once."""
        seen: set[str] = set()
        page: list[str] = []
        async for product in self.shop.iter_all("products", display=["id", "reference"], page_size=self.page_size):
            reference = str(product.get("reference") or "").strip()
            if reference and reference not in seen:
                seen.add(reference)
                page.append(reference)
                if len(page) == self.page_size:
                    yield page
                    page = []
        if page:
            yield page

    async def on_hand(self, items: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The on-hand rows of ``items`` (one ``find``), per item, as the flow's extract has them."""
        from pipelines.operations.common import ax_document as _ax_document

        try:
            rows = await self.ax.service("on_hand").find([eq("InventSum", "ItemId", item) for item in items])
        except NotFoundError:
            rows = []  # some AX builds fault on an empty find instead of returning no document
        wanted = {item.lower(): item for item in items}
        out: dict[str, list[dict[str, Any]]] = {item: [] for item in items}
        for row in rows:
            item = wanted.get(str(row.get("ItemId") or "").lower())
            if item is not None:
                out[item].append(_ax_document(row))
        empty = [item for item, found in out.items() if not found]
        if empty:
            # no on-hand row: an AX item without stock, or a shop product AX does not have (its
            # stock is the shop's own business: left alone)
            known = await self._released(empty)
            for item in empty:
                if item.lower() not in known:
                    del out[item]
        return out

    async def _released(self, items: list[str]) -> set[str]:
        try:
            found = await self.ax.service("item").find([eq("InventTable", "ItemId", item) for item in items])
        except NotFoundError:
            return set()
        return {str(f.get("ItemId") or "").lower() for f in found}

    async def poll(self) -> dict[str, int]:
        """One pass over every published item; returns ``{service: new messages}``."""
        started = self.clock()
        with get_tracer().start_as_current_span("poll") as span:
            span.set_attribute("poll.source", "ax")
            span.set_attribute("poll.service", self.route.service)
            state = await self.store.get_cursor(self.cursor) or {}
            hashes: dict[str, str] = dict(state.get("hashes") or {})
            kept: dict[str, str] = {}
            traceparent = traceparent_of_current()
            new = 0
            async for items in self.published():
                page_new = 0
                for item, rows in (await self.on_hand(items)).items():
                    figure = content_hash(stock_figure(self.mapping, item, rows))
                    if hashes.get(item) != figure:
                        page_new += await self._append(item, figure, rows, started, traceparent)
                    kept[item] = figure
                    hashes[item] = figure
                if page_new:
                    await self.store.put_cursor(self.cursor, {"hashes": hashes, "polled_at": started})
                new += page_new
            # items no longer published lose their hash
            if kept != dict(state.get("hashes") or {}):
                await self.store.put_cursor(self.cursor, {"hashes": kept, "polled_at": started})
            span.set_attribute(f"poll.new.{self.route.service}", new)
        return {self.route.service: new}

    async def _append(self, item: str, figure: str, rows: list[dict[str, Any]], started: float,
                      traceparent: str | None) -> int:
        versions = sorted(f"{r.get('RecId') or ''}:{r.get('RecVersion') or ''}" for r in rows)
        rows_version = _short(";".join(versions)) if versions else f"t{int(started * 1000)}"
        message = Message(
            id=new_message_id(), entity=self.route.entity, key=item, source="ax", event=self.route.event,
            payload={"service": self.route.service, "key": item, "figure": figure, "rows_version": rows_version,
                     "found_by": "poll"},
            idempotency_key=f"{self.cursor}:{item}:{figure}:{rows_version}",
            # no nudge follows a poll: due at once, for the dispatcher's next tick
            next_attempt_at=time.time(), traceparent=traceparent, source_version=read_version(),
        )
        _, created = await self.store.append(message)
        return int(created)


async def run_stock_poller(settings: Any, store: Any, stop: asyncio.Event, flows: Any = None,
                           on_new: Callable[[], None] | None = None) -> None:
    """Poll the on-hand of the shop's items at the stock flow's interval until ``stop`` is set.

    Does nothing when no flow polls a :data:`~runtime.pollers.HASH_POLLED` service. One flow's
    route is polled (the first; a second flow on on-hand gets the same messages' entity only if
    it shares it)."""
    from pipelines.registry import FlowRegistry as YamlRegistry

    flows = flows if flows is not None else YamlRegistry(list(settings.flow_dirs)).flows()
    routes = [r for r in poll_routes(flows) if r.service in HASH_POLLED]
    if not routes:
        return
    if len(routes) > 1:
        log.warning("several flows poll AX on-hand (%s); the stock poller runs for %s",
                    ", ".join(r.flow for r in routes), routes[0].flow)
    route = routes[0]
    async with AxClient(settings.systems.ax) as ax, PsClient(settings.systems.prestashop) as shop:
        poller = StockPoller(store, ax, shop, route, _stock_mapping(flows[route.flow]))
        await run_schedule(poll_jobs(settings, flows, stock_poller=poller), stop, on_new=on_new)
