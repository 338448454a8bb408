"""Processing of one entity's messages: the logic inside an entity actor, as a plain class.

Contract of :meth:`EntityWorker.nudge` (what an actor call does):

* it takes the record's next message **from the journal** (never from the call's arguments), so
  calls may arrive in any order, twice, or not at all (the dispatcher nudges again);
* one message at a time per record (one running nudge per key inside the process, a lease in
  the store across processes), up to ``concurrency`` records at once (the others wait for a
  slot before they claim, leaving their messages in the journal);
* a nudge for a record that already has a nudge running or waiting for a slot returns 0 at
  once and makes that one claim again before it ends: under a backlog the dispatcher re-nudges
  every waiting record each tick, and queueing each of those nudges (each a claim, a store
  write, when its turn came) used to cost more than the work itself;
* a message older (by source version) than what was already applied is finished as
  ``skipped_stale`` instead of being applied; one whose flow recognised the bridge's own write
  coming back (``{"status": "skipped_echo"}``, :mod:`pipelines.sync`) as ``skipped_echo``;
* before each message the registry is brought up to date (:meth:`FlowRegistry.refresh`: a new
  deploy), and every attempt's event names the ``flow_version`` that ran it;
* on failure the error's class decides: retry with backoff, or ``dead`` with the reason; the
  record's later messages wait behind a retrying one, which keeps journal order;
* with ``breakers`` (:mod:`runtime.breaker_board`), a message whose flow calls a target whose
  circuit breaker is open is put back to wait (``retry`` until after the next probe, the claim's
  attempt given back, event ``deferred``) before any call, and so is one whose call the breaker
  refused mid-flow: a target's outage never uses up attempts or sends a message to the
  dead-letter queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from connectors.errors import BridgeError, classify
from connectors.prestashop.read_memo import read_memo
from runtime.alerts import Alerter
from runtime.breaker import CircuitOpenError
from runtime.flows import FlowRegistry, NoFlowError
from runtime.messages import Message
from runtime.retry import RetryPolicy
from runtime.review_flow import held_part
from runtime.store import AsyncStore
from runtime.tracing import annotate_message, context_from_traceparent, get_tracer

__all__ = ["EntityWorker", "FlowContext"]


def _error_dict(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, BridgeError):
        return exc.to_dict()
    # an unexpected exception is a bug: keep its type and text, which never carry secrets here
    return {"type": type(exc).__name__, "message": str(exc) or type(exc).__name__}


def _flow_systems(flow: Any) -> tuple[str, ...]:
    """The target systems a flow's steps call (a YAML flow's spec; empty for other flows, whose
    calls the breakers check one by one), cached on the flow object."""
    found = getattr(flow, "_breaker_systems", None)
    if found is None:
        spec = getattr(getattr(flow, "loaded", None), "spec", None)
        found = tuple(sorted({s.system for s in getattr(spec, "steps", ()) if getattr(s, "system", None)}))
        try:
            flow._breaker_systems = found
        except AttributeError:
            pass
    return found  # type: ignore[no-any-return]


def _version_detail(flow_version: str | None) -> dict[str, Any]:
    return {"flow_version": flow_version} if flow_version else {}


@dataclass
class FlowContext:
    """What a flow gets besides the message: the store, its attempt number, and step spans."""

    message: Message
    attempt: int
    store: AsyncStore
    flow_name: str

    @contextmanager
    def step(self, name: str, **attributes: Any) -> Iterator[trace.Span]:
        """A span for one flow step, child of the attempt span."""
        with get_tracer().start_as_current_span(f"step {name}") as span:
            span.set_attribute("flow.step", name)
            span.set_attribute("flow", self.flow_name)
            span.set_attribute("message.id", self.message.id)
            for k, v in attributes.items():
                span.set_attribute(k, v)
            yield span


class EntityWorker:
    """Works through the messages of one entity type; see the module docstring."""

    def __init__(self, entity: str, store: AsyncStore, registry: FlowRegistry, retry: RetryPolicy,
                 lease_s: float = 60.0, unhandled: str = "skip",
                 alerter: Alerter | None = None, concurrency: int = 16, breakers: Any = None) -> None:
        self.entity = entity
        self.store = store
        self.registry = registry
        self.retry = retry
        self.lease_s = lease_s
        #: what happens to a message no flow handles: "skip" (done, noted) or "dead" (dead-letter queue)
        self.unhandled = unhandled
        self.alerter = alerter or Alerter(store)
        #: records with a nudge running or waiting for a slot -> "nudged again meanwhile"
        self._busy: dict[str, bool] = {}
        #: records worked on at once (``limits.entity_concurrency``); a record waits for a slot
        #: before it claims anything, so a waiting record holds no lease
        self._slots = asyncio.Semaphore(concurrency)
        self.processed = 0
        #: the process's :class:`runtime.breaker_board.BreakerBoard` (None: no breakers)
        self.breakers = breakers

    def coalesce(self, key: str) -> bool:
        """True when ``key`` already has a nudge running or waiting: that one is told to claim
        again before it ends, and this nudge has nothing to do."""
        if key in self._busy:
            self._busy[key] = True
            return True
        return False

    async def nudge(self, key: str) -> int:
        """Process the record's due messages in journal order; return how many attempts ran
        (0 for a nudge coalesced into one already running for the record)."""
        if self.coalesce(key):
            return 0
        self._busy[key] = False
        try:
            async with self._slots:
                ran = 0
                while True:
                    claimed = await self.store.claim_next(self.entity, key, self.lease_s)
                    if claimed is None:
                        if self._busy[key]:  # nudged while this one worked: the news may be newer
                            self._busy[key] = False
                            continue
                        return ran
                    msg, token = claimed
                    ran += 1
                    if not await self._attempt(msg, token):
                        return ran
        finally:
            del self._busy[key]  # the table stays as small as the set of busy records

    async def _keep_lease(self, message_id: str, token: str) -> None:
        """Extend the claim every third of the lease while a flow runs, so a slow target does not
        make the dispatcher hand the message to a second worker; a dead process stops beating."""
        while True:
            await asyncio.sleep(self.lease_s / 3)
            if not await self.store.extend_lease(message_id, token, self.lease_s):
                return

    async def _attempt(self, msg: Message, token: str) -> bool:
        """Run one attempt; True when the message is finished (done or skipped)."""
        tracer = get_tracer()
        # Parent: the span that caused this attempt (a dispatch or nudge) when it belongs to the
        # message's own trace; otherwise (a nudge for another message of the record, or none)
        # the message's stored traceparent, which also joins attempts made after a restart.
        parent = context_from_traceparent(msg.traceparent)
        current = trace.get_current_span().get_span_context()
        if parent is not None and current.is_valid and \
                current.trace_id == trace.get_current_span(parent).get_span_context().trace_id:
            parent = None
        with tracer.start_as_current_span(f"process {msg.entity} {msg.event}", context=parent,
                                          kind=SpanKind.CONSUMER) as span:
            span.set_attribute("message.id", msg.id)
            span.set_attribute("entity", msg.entity)
            span.set_attribute("record.key", msg.key)
            span.set_attribute("message.attempt", msg.attempts)
            annotate_message(span, msg)  # shop order id/reference, AX SalesId: find the trace by them
            flow_name = None
            flow_version = None
            try:
                await self.registry.refresh()  # a new deploy runs from the next message on
                try:
                    flow = self.registry.resolve(msg.entity, msg.event)
                except NoFlowError as exc:
                    if self.unhandled != "skip":
                        # the reason names this message in the commands it suggests
                        raise NoFlowError(exc.entity, exc.event, echo=exc.echo, unhandled="dead",
                                          message_id=msg.id) from None
                    # an event nobody subscribed to (e.g. the shop's own echo of a write-back) is
                    # not a failure: finish it, and say so in its timeline (a finished message
                    # cannot be replayed, so the reason offers only what works)
                    span.set_attribute("message.outcome", "skipped_no_flow")
                    await self.store.complete(msg.id, token, kind="skipped_no_flow",
                                              detail={"reason": exc.explain("skip", msg.id), "echo": exc.echo})
                    return True
                flow_name = flow.name
                flow_version = getattr(flow, "version_id", None) or \
                    getattr(getattr(flow, "loaded", None), "version_id", None)  # a FlowGroup names each
                span.set_attribute("flow", flow_name)
                if flow_version:
                    span.set_attribute("flow.version", flow_version)
                version_of = getattr(flow, "version_of", None)
                version = version_of(msg) if version_of else msg.source_version
                # the version is claimed before any write (as the stock and bulk paths do): of two
                # updates of one record racing from two processes, the older cannot land last
                if version is not None and not await self.store.put_sync_state(msg.entity, msg.key,
                                                                                source_version=version):
                    state = await self.store.get_sync_state(msg.entity, msg.key) or {}
                    span.set_attribute("message.outcome", "skipped_stale")
                    await self.store.complete(msg.id, token, flow=flow_name, kind="skipped_stale",
                                              detail={"version": version, "applied": state.get("source_version"),
                                                      **_version_detail(flow_version)})
                    return True
                if self.breakers is not None:
                    waiting = self.breakers.blocked(_flow_systems(flow))
                    if waiting is not None:
                        raise waiting  # deferred below, before any call
                ctx = FlowContext(msg, msg.attempts, self.store, flow_name)
                heartbeat = asyncio.create_task(self._keep_lease(msg.id, token))
                try:
                    # the flows of one attempt (a group runs several) read a shop object once
                    # until one of them writes (connectors/prestashop/read_memo.py)
                    with read_memo():
                        result = await flow.run(ctx, msg)
                finally:
                    heartbeat.cancel()
                detail = result if isinstance(result, dict) else None
                if flow_version and (detail is None or "flow_version" not in detail):
                    detail = {**(detail or {}), "flow_version": flow_version}
                # the bridge's own write coming back (pipelines.sync): finished without effect
                kind = "skipped_echo" if detail and detail.get("status") == "skipped_echo" else "attempt_succeeded"
                held = held_part(detail)  # a guard held the record: into the review queue
                if held is not None:
                    kind = "held"
                    await self.store.hold(msg.id, token, flow=flow_name, detail=held)
                else:
                    await self.store.complete(msg.id, token, flow=flow_name, detail=detail, kind=kind)
                self.processed += 1
                span.set_attribute("message.outcome", "done" if kind == "attempt_succeeded" else kind)
                return True
            except asyncio.CancelledError:
                raise  # the lease expires and the dispatcher hands the message out again
            except CircuitOpenError as exc:
                # the target was not called: the message waits, its attempt given back
                span.set_attribute("message.outcome", "deferred")
                await self.store.defer(msg.id, token, exc.retry_at,
                                       {**_error_dict(exc), **_version_detail(flow_version)})
                return False
            except Exception as exc:  # noqa: BLE001 - every failure is classified and journaled
                span.record_exception(exc, attributes={"exception.message": _error_dict(exc)["message"]})
                span.set_status(Status(StatusCode.ERROR, type(exc).__name__))
                delay = self.retry.next_retry_in(msg.attempts, exc)
                retry_at = time.time() + delay if delay is not None else None
                # a YAML flow's failed run carries what its steps produced (journaled with the attempt)
                journaled = getattr(exc, "step_payloads", None)
                payloads = {"step_payloads": journaled} if journaled else {}
                status = await self.store.fail(msg.id, token, {**_error_dict(exc), **_version_detail(flow_version),
                                                               **payloads},
                                               retry_at=retry_at, flow=flow_name)
                source = getattr(exc, "system", None) or msg.entity
                if classify(exc) == "stop":
                    # credentials refused: retrying alone cannot fix it, an operator must know
                    await self.alerter.alert("error", source, _error_dict(exc)["message"])
                elif status == "dead":
                    await self.alerter.alert("warning", source, f"Message {msg.id} ({msg.entity} {msg.key}, "
                                             f"{msg.event}) is in the dead-letter queue: {_error_dict(exc)['message']}")
                span.set_attribute("message.outcome", status or "claim_lost")
                return False

