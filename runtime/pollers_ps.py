"""The PrestaShop poller: the safety net under the shop's webhooks.

PrestaShop's core sends no webhooks; a module does, and a module can be switched off, time out
or drop a request after its retries. So every ``poll`` trigger of a YAML flow with ``source:
prestashop`` (:func:`ps_poll_routes`) has its resource listed on ``date_upd`` by the connector's
:class:`connectors.prestashop.Poller` (``date=1``, sorted by ``date_upd, id``, ``{cursor, seen
ids}`` state, so records sharing one second are neither missed nor handed over twice), and each
change becomes one journal :class:`~runtime.messages.Message`. :class:`PsPoller` (a plain class,
usable without Ray) runs one pass per :meth:`PsPoller.poll`.

Contracts (docs/architecture.md, "Pollers"):

* resources: ``orders`` (entity ``order``), ``customers`` (``customer``) and ``addresses`` (a
  change of an address is a ``customer.updated`` of its customer, keyed by ``id_customer``;
  addresses of no customer are left alone); a trigger on another resource is not polled;
* the state of a resource is kept in the store as the cursor ``ps:<resource>``: the
  connector's ``{cursor, seen_ids}`` plus ``watch_since``, the cursor the poller started from.
  The connector saves it after each page whose changes are all journaled, so a pass that fails
  part-way lists the rest again;
* the first pass of a resource starts :data:`OVERLAP_S` before now (older records are a bulk
  sync's business). Shop timestamps are shop-local and the shop's zone is not known here: the
  bridge's UTC clock stands in for it, and when the shop's newest ``date_upd`` is older than
  that, the poller starts right after it (that second's ids counted as seen), so a quiet shop
  is never replayed and a shop in a zone behind UTC misses nothing;
* idempotency key ``prestashop:<entity>:<id>:<date_upd>`` (:func:`ps_change_key`, entity of the
  record: ``order``, ``customer``, ``address``), the same key the webhook ingress gives a
  ``<entity>.created`` / ``<entity>.updated`` webhook carrying ``data.date_upd``: a change found
  by both paths is one message, whichever comes first;
* event ``<entity>.created`` when ``date_add == date_upd``, or when the record was added since
  the poller started watching (``date_add >= watch_since``) and the journal holds no message of
  it yet (its creation was never heard of: the order flow subscribes to ``order.created`` only);
  otherwise ``<entity>.updated``;
* payload: ``resource``, ``id``, ``date_add``, ``date_upd`` and a few non-personal fields the
  flows' context reads (an order's ``id_customer``, ``reference``, ``current_state``), and
  ``found_by: "poll"`` (the webhook ingress tells a polled original from a webhook's by it);
  the flows read the full record themselves. ``source="prestashop"``, ``source_version=date_upd``,
  traceparent of the pass's ``poll`` span.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec

from connectors.prestashop import Client
from connectors.prestashop.poller import Change, Poller, PollState
from runtime.messages import Message, new_message_id
from runtime.tracing import get_tracer, traceparent_of_current

__all__ = ["OVERLAP_S", "PsPollRoute", "PsPoller", "ps_change_key", "ps_cursor_name", "ps_poll_routes"]

log = logging.getLogger("presta_ax.pollers")

#: how far before now the first pass of a resource starts (changes made just before the bridge
#: started, whose webhooks it may not have received)
OVERLAP_S = 120.0

#: resource -> (entity of the record, entity of the message, field holding the message key, fields read)
_RESOURCES: dict[str, tuple[str, str, str, tuple[str, ...]]] = {
    "orders": ("order", "order", "id", ("id", "id_customer", "reference", "current_state", "date_add", "date_upd")),
    "customers": ("customer", "customer", "id", ("id", "date_add", "date_upd")),
    "addresses": ("address", "customer", "id_customer", ("id", "id_customer", "date_add", "date_upd")),
}
_SHOP_TIME = "%Y-%m-%d %H:%M:%S"


def ps_change_key(entity: str, record_id: Any, date_upd: str) -> str:
    """The idempotency key of one version of a shop record, shared by the webhook ingress and
    the poller: ``prestashop:<entity>:<id>:<date_upd>``."""
    return f"prestashop:{entity}:{record_id}:{date_upd}"


def ps_cursor_name(resource: str) -> str:
    return f"ps:{resource}"


@dataclass(frozen=True)
class PsPollRoute:
    """One shop resource to poll, for the flow ``flow``; ``every`` as the trigger says."""

    flow: str
    resource: str
    every: str | None = None

    @property
    def entity(self) -> str:
        """The entity of the messages this resource's changes become."""
        return _RESOURCES[self.resource][1]


def ps_poll_routes(flows: Any) -> list[PsPollRoute]:
    """The PrestaShop poll triggers of ``flows`` (name -> :class:`pipelines.registry.LoadedFlow`)
    on the resources the poller can journal (orders, customers, addresses); others are left alone."""
    routes = []
    for loaded in flows.values():
        for trigger in loaded.spec.triggers:
            if (trigger.type == "poll" and trigger.source == "prestashop" and trigger.resource
                    and trigger.resource in _RESOURCES):
                routes.append(PsPollRoute(loaded.name, trigger.resource, trigger.every))
    return routes


class _StoreCursor:
    """The connector's :class:`~connectors.prestashop.poller.CursorStore` in the bridge's store,
    with ``watch_since`` kept beside the state."""

    def __init__(self, store: Any, name: str) -> None:
        self.store = store
        self.name = name
        self.watch_since: str | None = None

    async def load(self) -> PollState | None:
        raw = await self.store.get_cursor(self.name)
        if not raw:
            return None
        self.watch_since = raw.get("watch_since")
        return msgspec.convert({k: raw[k] for k in ("cursor", "seen_ids") if k in raw}, PollState)

    async def save(self, state: PollState) -> None:
        await self.store.put_cursor(self.name, {**msgspec.to_builtins(state), "watch_since": self.watch_since})


class PsPoller:
    """Journals the changes of one shop ``resource`` (module docstring). ``store`` is a
    :class:`runtime.store.AsyncStore`; ``client`` an open :class:`connectors.prestashop.Client`;
    ``clock`` returns epoch seconds (tests)."""

    def __init__(self, store: Any, client: Client, resource: str, *, overlap_s: float = OVERLAP_S,
                 page_size: int = 100, clock: Callable[[], float] = time.time) -> None:
        if resource not in _RESOURCES:
            raise ValueError(f"The PrestaShop poller cannot journal '{resource}'.")
        self.store = store
        self.client = client
        self.resource = resource
        self.record_entity, self.entity, self.key_field, self.fields = _RESOURCES[resource]
        self.overlap_s = overlap_s
        self.page_size = page_size
        self.clock = clock

    def _poller(self, cursor: _StoreCursor, since: str) -> Poller:
        return Poller(self.client, self.resource, cursor, display=list(self.fields), page_size=self.page_size,
                      since=since)

    async def _first_state(self, cursor: _StoreCursor) -> PollState:
        start = dt.datetime.fromtimestamp(self.clock() - self.overlap_s, dt.UTC).strftime(_SHOP_TIME)
        newest = await self._poller(cursor, start).newest_state()
        return newest if newest.cursor < start else PollState(cursor=start)

    async def poll(self) -> int:
        """One pass over the changes since the stored state; returns the number of new messages."""
        with get_tracer().start_as_current_span("poll") as span:
            span.set_attribute("poll.source", "prestashop")
            span.set_attribute("poll.resource", self.resource)
            cursor = _StoreCursor(self.store, ps_cursor_name(self.resource))
            state = await cursor.load()
            if state is None:
                state = await self._first_state(cursor)
                cursor.watch_since = state.cursor
                await cursor.save(state)  # the watch starts now, whatever the first pass finds
            watch_since = cursor.watch_since or state.cursor
            traceparent = traceparent_of_current()
            new = 0
            async for change in self._poller(cursor, state.cursor).changes():
                new += await self._journal(change, watch_since, traceparent)
            span.set_attribute("poll.new", new)
        return new

    async def _created(self, key: str, record: dict[str, Any], watch_since: str) -> bool:
        date_add, date_upd = str(record.get("date_add") or ""), str(record.get("date_upd") or "")
        if date_add == date_upd:
            return True
        if date_add < watch_since:
            return False
        return not await self.store.list_messages(entity=self.entity, key=key, limit=1)

    async def _journal(self, change: Change, watch_since: str, traceparent: str | None) -> int:
        record = change.record
        key = str(record.get(self.key_field) or "0")
        if key == "0":
            return 0  # an address of no customer (a supplier's, a manufacturer's)
        if self.resource == "addresses":
            event = "customer.updated"
            payload: dict[str, Any] = {"resource": self.resource, "id": int(key), "id_address": change.id,
                                       "date_add": record.get("date_add"), "date_upd": change.date_upd,
                                       "found_by": "poll"}
        else:
            created = await self._created(key, record, watch_since)
            event = f"{self.entity}.{'created' if created else 'updated'}"
            payload = {"resource": self.resource, **{f: record.get(f) for f in self.fields}, "id": change.id,
                       "found_by": "poll"}
        message = Message(
            id=new_message_id(), entity=self.entity, key=key, source="prestashop", event=event, payload=payload,
            idempotency_key=ps_change_key(self.record_entity, change.id, change.date_upd),
            # no nudge follows a poll: due at once, for the dispatcher's next tick
            next_attempt_at=time.time(), traceparent=traceparent, source_version=change.date_upd or None,
        )
        _, created_now = await self.store.append(message)
        return int(created_now)
