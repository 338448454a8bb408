"""The AX poller: AX has no push, so changed documents are listed and journaled on an interval.

:class:`AxPoller` (a plain class, usable without Ray) runs one :meth:`AxPoller.poll` per call:
for each poll-triggered YAML flow with ``source: ax`` (:func:`poll_routes`) it lists the keys
of the documents of the trigger's ``service`` changed since a durable cursor, and appends one
journal :class:`~runtime.messages.Message` per changed document: the posted journals (packing
slips, invoices), the settlement of invoices (customer transactions, see below) and master data
with change tracking (customers, products, items, trade agreements; :func:`poll_event`). On-hand
stock has no change tracking: :mod:`runtime.pollers_stock` polls it by paging and content hash.

:func:`run_pollers` runs it beside the PrestaShop poller (:mod:`runtime.pollers_ps`), each route
at its own trigger's ``every:`` (:mod:`runtime.poll_schedule`).

Contracts (DESIGN.md, "Pollers"; docs/architecture.md, "Pollers"):

* the cursor of a service is kept in the store as ``ax:<Service>`` (``{"since": <epoch s>}``);
  it is the time taken **before** the first ``getChangedKeys`` call of a poll, stored only after
  every page was journaled, so a poll that fails part-way lists the same changes again;
* each poll lists from ``since - overlap_s`` (clock skew between the bridge and the AOS, and
  changes committed while the previous poll ran); the first poll of a service starts at
  ``now - overlap_s`` (older documents are the business of a bulk sync);
* every page (bookmark paging, ``page_size`` keys) is read back in one ``read`` call for the
  documents' ``RecId`` and ``RecVersion``; the message's idempotency key is
  ``ax:<Service>:<key>:<RecId>:<RecVersion>``, so a document listed again inside the overlap
  window is not journaled twice, while a document that really changed again is. The RecId is
  what keeps keys of different documents apart when the source is reset: a rebuilt database
  (the demo's sandbox restarted from its seed) hands out the same document numbers and
  RecVersions again, but an AOS never reuses a RecId (the sandbox starts each life's RecIds
  above the last);
* a page saying the cursor is too old (``ChangedDateTimeOutOfRange``) or tracking was reset
  makes the poll list every key (``getKeys``); the idempotency keys absorb what was seen before;
* settlements: ``CustomerTransactionService`` has no change tracking (find, findKeys, read
  only), so its poll is a ``find`` of the transactions whose ``LastSettleDate`` is on or after
  the UTC day of ``since - overlap_s`` (same cursor rules); only invoice transactions (an
  ``Invoice`` and a positive ``AmountCur``) with something settled are journaled, as
  ``invoice.settled`` keyed by the transaction's RecId (payload ``Invoice`` too). A payment
  changes the transaction's RecVersion, so each settlement is one message;
* one service failing (a port without CustomerTransactionService) is logged and does not stop
  the others; its cursor does not move;
* trade agreement lines (``PriceDiscTableService``, key RecId) are journaled as price messages
  keyed by the line's ``ItemRelation`` (sales lines of one item only), idempotency key
  ``ax:PriceDiscTableService:<ItemRelation>:<RecId>:<RecVersion>``;
* routes of several flows on one service share one listing and one cursor; each flow gets its
  own message, its idempotency key then ending with ``:<entity>``;
* messages: ``source="ax"``, ``entity`` = the flow's entity, ``key`` = the document key,
  ``event`` = :func:`poll_event` of the service, payload ``{"service", "key", "rec_id",
  "rec_version", "SalesId"}``, traceparent of the poll's ``poll`` span (the trace starts at the
  poll) — except for a document of a sales order the bridge created from a shop order (found
  through the ``order`` cross-reference): that one carries the ``traceparent`` of the order's
  ``order.created`` message, so its processing continues the **order's** trace and the order's
  trace runs from the webhook to the tracking number (:meth:`AxPoller._order_traceparent`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.client import ENTITIES as AX_ENTITIES
from connectors.dynamics_ax.query import Criterion, Operator
from connectors.errors import BridgeError, ConfigError, NotFoundError
from connectors.prestashop import Client as PsClient
from runtime.messages import Message, new_message_id
from runtime.poll_schedule import PollJob, run_schedule, trigger_interval_s
from runtime.trace_links import invoice_traceparent
from runtime.tracing import get_tracer, traceparent_of_current

__all__ = ["HASH_POLLED", "AxPoller", "PollRoute", "cursor_name", "poll_event", "poll_routes", "poll_jobs", "run_ax_poller",
           "run_pollers"]

log = logging.getLogger("presta_ax.pollers")

#: the AX services polled, with the event of a new document (see :func:`poll_event`)
#: how far back each poll lists again, before the cursor (clock skew, slow commits)
OVERLAP_S = 120.0

_EVENTS = {"SalesPackingSlipService": "packing_slip.posted", "SalesInvoiceService": "invoice.posted",
           "CustomerTransactionService": "invoice.settled",
           # master data (docs/architecture.md, "Pollers")
           "CustomerService": "customer.changed", "EcoResProductService": "product.changed",
           "ItemService": "item.changed", "PriceDiscTableService": "price.changed",
           "InventoryOnHandService": "stock.changed"}
#: services without change tracking, polled with ``find`` on their settlement date instead
_SETTLEMENTS = frozenset({"CustomerTransactionService"})
#: services without change tracking whose published records are read in pages and compared by
#: content hash (:mod:`runtime.pollers_stock`), not listed by ``getChangedKeys``
HASH_POLLED = frozenset({"InventoryOnHandService"})
#: trade agreement lines: a message per changed line, keyed by the item it prices
_PRICE_LINES = frozenset({"PriceDiscTableService"})


def poll_event(service: str) -> str | None:
    """The message event for a new or changed document of AX ``service`` (the flows route on
    it, per ``(entity, event)``), or ``None`` for a service the poller does not list.

    Posted journals (``packing_slip.posted``, ``invoice.posted``) and settlements
    (``invoice.settled``) are made by AX alone. Master data (``customer.changed``,
    ``product.changed``, ``item.changed``, ``price.changed``, ``stock.changed``) also lists what
    the bridge itself wrote to AX (customers): the flows' echo suppression finishes those as
    ``skipped_echo`` instead of writing them back (docs/architecture.md, "Echo suppression").
    """
    return _EVENTS.get(service)


def cursor_name(service: str) -> str:
    return f"ax:{service}"


@dataclass(frozen=True)
class PollRoute:
    """One AX service to poll, for the flow ``flow`` of ``entity``; ``every`` as the trigger says."""

    flow: str
    entity: str
    service: str
    #: not part of the route's identity: the same service polled at another interval is the same route
    every: str | None = field(default=None, compare=False)

    @property
    def event(self) -> str:
        return poll_event(self.service) or f"{self.service}.changed"


def poll_routes(flows: Any) -> list[PollRoute]:
    """The AX poll triggers of ``flows`` (a name -> :class:`pipelines.registry.LoadedFlow` dict)
    on the services :func:`poll_event` knows; other poll triggers are left alone."""
    routes = []
    for loaded in flows.values():
        for trigger in loaded.spec.triggers:
            if (trigger.type == "poll" and trigger.source == "ax" and trigger.service
                    and poll_event(trigger.service) is not None):
                routes.append(PollRoute(loaded.name, loaded.spec.entity, trigger.service, trigger.every))
    return routes


def _ax_entity(config: AxConfig, service: str) -> str:
    """The connector's entity name for an AX service name (as the port calls it)."""
    names = config.services.model_dump()
    for entity, (attr, *_rest) in AX_ENTITIES.items():
        if names.get(attr) == service:
            return entity
    known = ", ".join(sorted(names[a] for a, *_ in AX_ENTITIES.values()))
    raise ConfigError(f"A flow polls the AX service {service}, which the bridge cannot list changes of. "
                      f"Pollable services: {known}.")


class AxPoller:
    """Lists changed AX documents per :class:`PollRoute` and journals them (module docstring).

    ``store`` is a :class:`runtime.store.AsyncStore`; ``clock`` returns epoch seconds (tests).
    Routes on a service without change tracking (:data:`HASH_POLLED`) are not its business
    (:mod:`runtime.pollers_stock`) and are left out of :attr:`routes`. Routes of several flows on
    one service share one listing and one cursor; each flow gets its own message.
    """

    def __init__(self, store: Any, ax: AxClient, routes: list[PollRoute], *, overlap_s: float = OVERLAP_S,
                 page_size: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ax = ax
        self.routes = [r for r in routes if r.service not in HASH_POLLED]
        self.overlap_s = overlap_s
        self.page_size = page_size
        self.clock = clock
        self.entities = {r.service: _ax_entity(ax.config, r.service) for r in self.routes}

    def _by_service(self, routes: list[PollRoute]) -> dict[str, list[PollRoute]]:
        out: dict[str, list[PollRoute]] = {}
        for route in routes:
            if route.service not in HASH_POLLED and route not in out.setdefault(route.service, []):
                out[route.service].append(route)
        return out

    async def poll(self, routes: list[PollRoute] | None = None) -> dict[str, int]:
        """One poll of ``routes`` (default: every route); returns the number of new messages per
        service. Raises the first error when every service failed (AX out of reach)."""
        out: dict[str, int] = {}
        services = self._by_service(self.routes if routes is None else routes)
        with get_tracer().start_as_current_span("poll") as span:
            span.set_attribute("poll.source", "ax")
            failed: list[BaseException] = []
            for service, service_routes in services.items():
                try:
                    out[service] = await self.poll_service(service, service_routes)
                except BridgeError as exc:  # the other services still get their poll
                    log.warning("AX poll of %s failed: %s", service, exc)
                    failed.append(exc)
                    continue
                span.set_attribute(f"poll.new.{service}", out[service])
            if failed and len(failed) == len(services):
                raise failed[0]  # AX itself is out of reach: the caller logs and retries
        return out

    async def poll_route(self, route: PollRoute) -> int:
        """One poll of ``route``'s service for every route of this poller on that service."""
        return await self.poll_service(route.service, self._by_service(self.routes).get(route.service, [route]))

    async def poll_service(self, service: str, routes: list[PollRoute]) -> int:
        started = self.clock()
        cursor = await self.store.get_cursor(cursor_name(service))
        since = (float(cursor["since"]) if cursor else started) - self.overlap_s
        entity = self.entities.get(service) or _ax_entity(self.ax.config, service)
        if service in _SETTLEMENTS:
            new = 0
            shared = len({r.entity for r in routes}) > 1  # one message per flow entity, as _journal does
            for route in routes:
                new += await self._poll_settlements(route, entity, since, shared)
            await self.store.put_cursor(cursor_name(service), {"since": started})
            return new
        new = 0
        full = False
        async for page in self.ax.changed_keys(entity, dt.datetime.fromtimestamp(since, dt.UTC),
                                               page_size=self.page_size):
            if page.needs_full_resync:
                full = True
                break
            new += await self._journal(routes, entity, page.keys)
        if full:
            log.warning("AX %s change tracking cannot answer since the cursor; listing every key", service)
            async for page in self.ax.all_keys(entity, page_size=self.page_size):
                new += await self._journal(routes, entity, page.keys)
        # only now: every change up to ``started`` is in the journal
        await self.store.put_cursor(cursor_name(service), {"since": started})
        return new

    async def _poll_settlements(self, route: PollRoute, entity: str, since: float, shared: bool = False) -> int:
        day = dt.datetime.fromtimestamp(since, dt.UTC).date()
        try:
            docs = await self.ax.service(entity).find(
                [Criterion("CustTrans", "LastSettleDate", Operator.GREATER_OR_EQUAL, day)])
        except NotFoundError:
            docs = []  # some AX builds fault on an empty find instead of returning no document
        traceparent = traceparent_of_current()
        new = 0
        for doc in docs:
            invoice = str(doc.get("Invoice") or "")
            try:
                invoiced, settled = Decimal(str(doc.get("AmountCur") or 0)), Decimal(str(doc.get("SettleAmountCur") or 0))
            except InvalidOperation:
                continue
            if not invoice or invoiced <= 0 or settled <= 0:
                continue  # a payment's own transaction, or nothing settled yet
            new += await self._append(route, str(doc.get("RecId") or ""), doc, await invoice_traceparent(
                self, invoice, traceparent), shared=shared, Invoice=invoice)  # the order's trace
        return new

    async def _append(self, route: PollRoute, key: str, doc: dict[str, Any], traceparent: str | None,
                      *, shared: bool = False, **extra: Any) -> int:
        rec_id = str(doc.get("RecId") or "")
        version = str(doc.get("RecVersion") or "")
        # a service feeding flows of several entities: each flow's message is its own
        suffix = f":{route.entity}" if shared else ""
        payload = {"service": route.service, "key": key, "rec_id": rec_id, "rec_version": version, **extra}
        if route.service not in _PRICE_LINES:
            payload["SalesId"] = doc.get("SalesId")
            traceparent = await self._order_traceparent(payload["SalesId"], traceparent)
        message = Message(
            id=new_message_id(), entity=route.entity, key=key, source="ax", event=route.event,
            payload=payload,
            idempotency_key=f"{cursor_name(route.service)}:{key}:{rec_id}:{version}{suffix}",
            # no nudge follows a poll: due at once, for the dispatcher's next tick
            next_attempt_at=time.time(), traceparent=traceparent, source_version=read_version(),
        )
        _, created = await self.store.append(message)
        return int(created)

    async def _order_traceparent(self, sales_id: Any, poll_traceparent: str | None) -> str | None:
        """The trace a posted document of ``sales_id`` joins: the ``traceparent`` of the shop
        order's ``order.created`` message (else of its oldest message), found through the
        ``order`` cross-reference; ``poll_traceparent`` for an AX order the shop did not place.
        No span is made here: a document listed again inside the overlap window must not add
        spans to the order's trace."""
        if not sales_id:
            return poll_traceparent
        xref = await self.store.get_xref("order", ax_id=str(sales_id))
        if xref is None:
            return poll_traceparent
        messages = [m for m in await self.store.list_messages(entity="order", key=str(xref["ps_id"]), limit=100)
                    if m.traceparent]
        first = next((m for m in reversed(messages) if m.event == "order.created"),
                     messages[-1] if messages else None)
        return first.traceparent if first is not None else poll_traceparent

    async def _journal(self, routes: list[PollRoute], entity: str, keys: list[EntityKey]) -> int:
        if not keys:
            return 0
        key_fields = AX_ENTITIES[entity][3]
        docs: dict[tuple[str, ...], dict[str, Any]] = {}
        for read in await self.ax.service(entity).read(keys, skip_missing=True):
            docs[tuple(str(read.get(f)) for f in key_fields)] = read
        traceparent = traceparent_of_current()
        shared = len({r.entity for r in routes}) > 1
        new = 0
        for key in keys:
            doc = docs.get(tuple(key.get(f) or "" for f in key_fields))
            if doc is None:
                continue  # deleted since it was listed: nothing left to send
            for route in routes:
                if route.service in _PRICE_LINES:
                    new += await self._append_price_line(route, doc, traceparent, shared)
                else:
                    new += await self._append(route, key.value, doc, traceparent, shared=shared)
        return new

    async def _append_price_line(self, route: PollRoute, doc: dict[str, Any], traceparent: str | None,
                                 shared: bool) -> int:
        """A changed trade agreement line: a price message of the item it prices (its
        ``ItemRelation``). Lines for an item group or of another relation than a sales price are
        not an item's price and are left out (the price flow reads the same lines)."""
        item = str(doc.get("ItemRelation") or "")
        if (not item or (doc.get("ItemCode") or "Table") != "Table"
                or (doc.get("Relation") or "PriceSales") != "PriceSales"):
            return 0
        return await self._append(route, item, doc, traceparent, shared=shared, line=str(doc.get("RecId") or ""))


def read_version() -> str:
    """The source version of a polled AX document: when the bridge read it (epoch seconds, as a
    number). AX's ``RecVersion`` is a random integer, not a counter, so it cannot say which of
    two reads is the newer one; the read time can, and the worker orders a record's messages by
    it (an older read never lands after a newer one)."""
    return f"{time.time():.6f}"


def _flows(settings: Any, flows: Any) -> Any:
    if flows is not None:
        return flows
    from pipelines.registry import FlowRegistry as YamlRegistry

    return YamlRegistry(list(settings.flow_dirs)).flows()


def poll_jobs(settings: Any, flows: Any, *, ax_poller: AxPoller | None = None,
              ps_pollers: dict[str, Any] | None = None, stock_poller: Any = None) -> list[PollJob]:
    """One :class:`~runtime.poll_schedule.PollJob` per AX service and per shop resource, each at
    its trigger's interval (:func:`~runtime.poll_schedule.trigger_interval_s`; a service or
    resource polled by several flows runs at the shortest), and one for ``stock_poller`` (a
    :class:`runtime.pollers_stock.StockPoller`, fixed rate: due one interval after its last
    *start*, so a change waits at most one interval). ``ax_poller`` / ``ps_pollers`` (resource
    -> poller) run them; a side without its poller gets no job."""
    from runtime.pollers_ps import ps_poll_routes

    cap = settings.limits.poll_interval_s
    jobs: list[PollJob] = []
    if ax_poller is not None:
        grouped: dict[str, list[PollRoute]] = {}
        every_s: dict[str, float] = {}
        for route in ax_poller.routes:
            every = trigger_interval_s(route.every, cap, where=f"flow {route.flow}, poll trigger on {route.service}")
            grouped.setdefault(route.service, []).append(route)
            every_s[route.service] = min(every, every_s.get(route.service, every))
        for service, routes in grouped.items():
            flows_of = "+".join(dict.fromkeys(r.flow for r in routes))
            jobs.append(PollJob(f"ax:{flows_of}:{service}", every_s[service],
                                functools.partial(ax_poller.poll, routes)))
    if stock_poller is not None:
        route = stock_poller.route
        every = trigger_interval_s(route.every or stock_poller.default_every, cap,
                                   where=f"flow {route.flow}, poll trigger on {route.service}")
        jobs.append(PollJob(f"ax:{route.flow}:{route.service}", every, stock_poller.poll, fixed_rate=True))
    if ps_pollers:
        shortest: dict[str, float] = {}
        for ps_route in ps_poll_routes(flows):
            every = trigger_interval_s(ps_route.every, cap,
                                       where=f"flow {ps_route.flow}, poll trigger on {ps_route.resource}")
            shortest[ps_route.resource] = min(every, shortest.get(ps_route.resource, every))
        for resource, every in shortest.items():
            if resource in ps_pollers:
                jobs.append(PollJob(f"ps:{resource}", every, ps_pollers[resource].poll))
    return jobs


async def run_pollers(settings: Any, store: Any, stop: asyncio.Event, flows: Any = None,
                      on_new: Callable[[], None] | None = None) -> None:
    """Run the AX poller, the AX stock poller and the PrestaShop poller until ``stop`` is set
    (the dispatcher's loop, while it holds the dispatcher lease), each route at its own
    interval. The three run side by side, so a long listing on one (a full resync of customers)
    never holds back a stock poll. Does nothing for a side no flow polls. A failing poll is
    logged and retried at the route's next interval. ``on_new``: called after a poll that
    journaled something (the dispatcher's wake-up)."""
    from runtime.pollers_ps import PsPoller, ps_poll_routes
    from runtime.pollers_stock import run_stock_poller

    flows = _flows(settings, flows)
    runs: dict[str, Any] = {}
    routes = poll_routes(flows)
    if settings.systems.ax is not None:
        if any(r.service not in HASH_POLLED for r in routes):
            runs["AX"] = run_ax_poller(settings, store, stop, flows, on_new=on_new)
        if any(r.service in HASH_POLLED for r in routes) and settings.systems.prestashop is not None:
            runs["AX stock"] = run_stock_poller(settings, store, stop, flows, on_new=on_new)
    resources = sorted({r.resource for r in ps_poll_routes(flows)})
    if resources and settings.systems.prestashop is not None:
        async def run_ps() -> None:
            async with PsClient(settings.systems.prestashop) as shop:
                pollers = {res: PsPoller(store, shop, res) for res in resources}
                await run_schedule(poll_jobs(settings, flows, ps_pollers=pollers), stop, on_new=on_new)
        runs["PrestaShop"] = run_ps()
    results = await asyncio.gather(*runs.values(), return_exceptions=True)
    for side, result in zip(runs, results, strict=True):
        if isinstance(result, Exception):  # a broken flow or client: the other side keeps polling
            log.error("the %s poller stopped: %s", side, result)


async def run_ax_poller(settings: Any, store: Any, stop: asyncio.Event, flows: Any = None,
                        on_new: Callable[[], None] | None = None) -> None:
    """Poll each change-tracked AX service at its triggers' interval until ``stop`` is set (see
    :func:`poll_jobs`).

    Does nothing when no YAML flow polls AX. A failing poll (AX briefly down) is logged and
    retried at the route's next interval; the cursor did not move, so nothing is lost.
    """
    routes = [r for r in poll_routes(_flows(settings, flows)) if r.service not in HASH_POLLED]
    if not routes:
        return
    async with AxClient(settings.systems.ax) as ax:
        poller = AxPoller(store, ax, routes)
        await run_schedule(poll_jobs(settings, flows, ax_poller=poller), stop, on_new=on_new)
