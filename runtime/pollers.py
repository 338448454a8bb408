"""The AX poller: AX has no push, so changed documents are listed and journaled on an interval.

:class:`AxPoller` (a plain class, usable without Ray) runs one :meth:`AxPoller.poll` per call:
for each poll-triggered YAML flow with ``source: ax`` (:func:`poll_routes`) it lists the keys
of the documents of the trigger's ``service`` changed since a durable cursor, and appends one
journal :class:`~runtime.messages.Message` per changed document. Only the posted journals are
polled for now (packing slips, invoices; :func:`poll_event` says why), and the settlement of
invoices (customer transactions, see below).

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
* messages: ``source="ax"``, ``entity`` = the flow's entity, ``key`` = the document key,
  ``event`` = :func:`poll_event` of the service, payload ``{"service", "key", "rec_id",
  "rec_version", "SalesId"}``, traceparent of the poll's ``poll`` span (the trace starts at the poll).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.dynamics_ax import AxConfig, EntityKey
from connectors.dynamics_ax import Client as AxClient
from connectors.dynamics_ax.client import ENTITIES as AX_ENTITIES
from connectors.dynamics_ax.query import Criterion, Operator
from connectors.errors import BridgeError, ConfigError, NotFoundError
from runtime.messages import Message, new_message_id
from runtime.tracing import get_tracer, traceparent_of_current

__all__ = ["AxPoller", "PollRoute", "cursor_name", "poll_event", "poll_routes", "run_ax_poller"]

log = logging.getLogger("presta_ax.pollers")

#: the AX services polled, with the event of a new document (see :func:`poll_event`)
#: how far back each poll lists again, before the cursor (clock skew, slow commits)
OVERLAP_S = 120.0

_EVENTS = {"SalesPackingSlipService": "packing_slip.posted", "SalesInvoiceService": "invoice.posted",
           "CustomerTransactionService": "invoice.settled"}
#: services without change tracking, polled with ``find`` on their settlement date instead
_SETTLEMENTS = frozenset({"CustomerTransactionService"})


def poll_event(service: str) -> str | None:
    """The message event for a new document of AX ``service`` (the flows route on it), or
    ``None`` for a service the poller does not list yet.

    Only the posted journals (packing slips, invoices) and the settlement of invoices are
    polled: they are only ever made by AX alone. Polling master data (customers, items) also lists the bridge's own writes, which
    would come back to the shop as changes; that needs echo suppression first.
    """
    return _EVENTS.get(service)


def cursor_name(service: str) -> str:
    return f"ax:{service}"


@dataclass(frozen=True)
class PollRoute:
    """One AX service to poll, for the flow ``flow`` of ``entity``."""

    flow: str
    entity: str
    service: str

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
                routes.append(PollRoute(loaded.name, loaded.spec.entity, trigger.service))
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
    """

    def __init__(self, store: Any, ax: AxClient, routes: list[PollRoute], *, overlap_s: float = OVERLAP_S,
                 page_size: int | None = None, clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.ax = ax
        self.routes = routes
        self.overlap_s = overlap_s
        self.page_size = page_size
        self.clock = clock
        self.entities = {r.service: _ax_entity(ax.config, r.service) for r in routes}

    async def poll(self) -> dict[str, int]:
        """One poll of every route; returns the number of new messages per service."""
        out: dict[str, int] = {}
        with get_tracer().start_as_current_span("poll") as span:
            span.set_attribute("poll.source", "ax")
            failed: list[BaseException] = []
            for route in self.routes:
                try:
                    out[route.service] = await self.poll_route(route)
                except BridgeError as exc:  # the other services still get their poll
                    log.warning("AX poll of %s failed: %s", route.service, exc)
                    failed.append(exc)
                    continue
                span.set_attribute(f"poll.new.{route.service}", out[route.service])
            if failed and len(failed) == len(self.routes):
                raise failed[0]  # AX itself is out of reach: the caller logs and retries
        return out

    async def poll_route(self, route: PollRoute) -> int:
        started = self.clock()
        cursor = await self.store.get_cursor(cursor_name(route.service))
        since = (float(cursor["since"]) if cursor else started) - self.overlap_s
        entity = self.entities[route.service]
        if route.service in _SETTLEMENTS:
            new = await self._poll_settlements(route, entity, since)
            await self.store.put_cursor(cursor_name(route.service), {"since": started})
            return new
        new = 0
        full = False
        async for page in self.ax.changed_keys(entity, dt.datetime.fromtimestamp(since, dt.UTC),
                                               page_size=self.page_size):
            if page.needs_full_resync:
                full = True
                break
            new += await self._journal(route, entity, page.keys)
        if full:
            log.warning("AX %s change tracking cannot answer since the cursor; listing every key", route.service)
            async for page in self.ax.all_keys(entity, page_size=self.page_size):
                new += await self._journal(route, entity, page.keys)
        # only now: every change up to ``started`` is in the journal
        await self.store.put_cursor(cursor_name(route.service), {"since": started})
        return new

    async def _poll_settlements(self, route: PollRoute, entity: str, since: float) -> int:
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
            new += await self._append(route, str(doc.get("RecId") or ""), doc, traceparent, Invoice=invoice)
        return new

    async def _append(self, route: PollRoute, key: str, doc: dict[str, Any], traceparent: str | None,
                      **extra: Any) -> int:
        rec_id = str(doc.get("RecId") or "")
        version = str(doc.get("RecVersion") or "")
        message = Message(
            id=new_message_id(), entity=route.entity, key=key, source="ax", event=route.event,
            payload={"service": route.service, "key": key, "rec_id": rec_id, "rec_version": version,
                     "SalesId": doc.get("SalesId"), **extra},
            idempotency_key=f"{cursor_name(route.service)}:{key}:{rec_id}:{version}",
            traceparent=traceparent, source_version=version or rec_id or None,
        )
        _, created = await self.store.append(message)
        return int(created)

    async def _journal(self, route: PollRoute, entity: str, keys: list[EntityKey]) -> int:
        if not keys:
            return 0
        key_fields = AX_ENTITIES[entity][3]
        docs: dict[tuple[str, ...], dict[str, Any]] = {}
        for read in await self.ax.service(entity).read(keys, skip_missing=True):
            docs[tuple(str(read.get(f)) for f in key_fields)] = read
        traceparent = traceparent_of_current()
        new = 0
        for key in keys:
            doc = docs.get(tuple(key.get(f) or "" for f in key_fields))
            if doc is None:
                continue  # deleted since it was listed: nothing left to send
            new += await self._append(route, key.value, doc, traceparent)
        return new


async def run_ax_poller(settings: Any, store: Any, stop: asyncio.Event, flows: Any = None) -> None:
    """Poll every ``settings.limits.poll_interval_s`` until ``stop`` is set (the dispatcher's loop).

    Does nothing when no YAML flow polls AX. A failing poll (AX briefly down) is logged and
    retried next interval; the cursor did not move, so nothing is lost.
    """
    if flows is None:
        from pipelines.registry import FlowRegistry as YamlRegistry

        flows = YamlRegistry(list(settings.flow_dirs)).flows()
    routes = poll_routes(flows)
    if not routes:
        return
    async with AxClient(settings.systems.ax) as ax:
        poller = AxPoller(store, ax, routes)
        while not stop.is_set():
            try:
                await poller.poll()
            except Exception as exc:  # noqa: BLE001 - the next interval retries from the same cursor
                log.warning("AX poll failed: %s", exc)
            try:
                await asyncio.wait_for(stop.wait(), timeout=settings.limits.poll_interval_s)
            except TimeoutError:
                pass
