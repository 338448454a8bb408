"""Application metrics of the bridge, through Ray's own metrics API (:mod:`ray.util.metrics`).

Every actor, replica and task records into its own process; Ray's metrics agent on each node
exports them on the node's Prometheus port next to Ray's and Serve's own metrics, with a
``ray_`` prefix and a ``WorkerId`` label (so aggregate with ``sum by (...)``). What only the
journal knows (messages by entity and status, the oldest pending message, dead letters) is
exported by the bridge's ``/metrics`` route from the store instead (:mod:`runtime.metrics_journal`),
and so is the pollers' lag (the age of each poll cursor: a poll stores it only when done).

Where the numbers come from (contract):

* **spans** — :class:`SpanMetrics` is a span processor that :func:`runtime.tracing.setup_tracing`
  adds to every process; at span end it only buffers the numbers, a daemon thread hands them to
  Ray once a second (off the span owner's path). For an attempt span (``process <entity>
  <event>``) it counts the message by entity, flow and outcome, observes the processing latency,
  and counts retries and dead letters; for a CLIENT span of a connector (``prestashop ...``,
  ``ax ...``) it counts the call by system, operation and outcome and observes its latency. Spans
  are recorded for every message even when the head sampler exports only some traces (see
  :mod:`runtime.tracing`), so these counts never depend on sampling;
* **explicit calls** — :func:`webhook_result` (the webhook routes, through :func:`counted_webhook`),
  :func:`bulk_progress` (each progress report of a bulk run: records by outcome, share done, the
  shop's adaptive write limit as :func:`target_concurrency`), and :func:`circuit_state`, set by
  each target's breaker actor (:mod:`runtime.breaker_actor`) when it starts and on every
  transition (one process per target sets it, so ``max by (system)`` reads it).

Outside Ray (a CLI, a unit test) every call is a no-op. Label values are bounded sets (entity,
flow, outcome, system, operation, reason code): never a key, an id or anything personal.
"""

from __future__ import annotations

import atexit
import threading
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.trace import SpanKind, StatusCode

__all__ = ["METRICS", "SpanMetrics", "webhook_result", "counted_webhook", "circuit_state", "target_concurrency",
           "bulk_progress", "exported_name"]

#: seconds; processing spans from a cached no-op (~1 ms) to a slow AX create (tens of seconds)
LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0]

#: name -> (kind, description, tag keys); the dashboard test checks its queries against this table
METRICS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "presta_ax_webhooks_total": (
        "counter", "Webhooks received, by route and outcome (accepted, duplicate, refused) and refusal reason.",
        ("route", "outcome", "reason")),
    "presta_ax_messages_processed_total": (
        "counter", "Processing attempts finished, by entity, flow and outcome (done, skipped_*, retry, dead).",
        ("entity", "flow", "outcome")),
    "presta_ax_processing_seconds": (
        "histogram", "Duration of one processing attempt of a message, by entity and flow.", ("entity", "flow")),
    "presta_ax_retries_total": (
        "counter", "Attempts that failed with a transient error and were scheduled again.", ("entity", "flow")),
    "presta_ax_dead_letters_total": (
        "counter", "Messages sent to the dead-letter queue.", ("entity", "flow")),
    "presta_ax_system_calls_total": (
        "counter", "Calls to PrestaShop and AX, by system, operation and outcome (ok or the error class).",
        ("system", "operation", "outcome")),
    "presta_ax_system_call_seconds": (
        "histogram", "Duration of one call to PrestaShop or AX, by system and operation.", ("system", "operation")),
    "presta_ax_circuit_open": (
        "gauge", "1 while the circuit breaker of a target system is open or half-open, else 0.", ("system",)),
    "presta_ax_target_concurrency": (
        "gauge", "Concurrent requests currently allowed to a target system (adaptive limit).", ("system",)),
    "presta_ax_bulk_records_total": (
        "counter", "Records handled by bulk sync runs, by flow (kind) and outcome (created, updated, unchanged, "
        "dropped, held, failed, stale).",
        ("kind", "outcome")),
    "presta_ax_bulk_progress_ratio": (
        "gauge", "Share of the listed records a running bulk sync has finished (0 to 1).", ("kind",)),
}

_lock = threading.Lock()
_made: dict[str, Any] = {}
_ray_checked: bool | None = None


def exported_name(name: str) -> str:
    """The name under which Ray's Prometheus endpoint exports an application metric."""
    return "ray_" + name


def _ray_ready() -> bool:
    global _ray_checked
    if _ray_checked is None:
        try:
            import ray

            _ray_checked = ray.is_initialized()
        except Exception:  # noqa: BLE001 - metrics are never worth failing a caller
            _ray_checked = False
        if not _ray_checked:
            _ray_checked = None  # ask again later: ray.init may come after the first call
            return False
    return _ray_checked


def _metric(name: str) -> Any:
    """The process's Ray metric object (made once), or None outside Ray."""
    found = _made.get(name)
    if found is not None or not _ray_ready():
        return found
    from ray.util import metrics as rm

    with _lock:
        found = _made.get(name)
        if found is None:
            kind, description, tags = METRICS[name]
            if kind == "counter":
                found = rm.Counter(name, description=description, tag_keys=tags)
            elif kind == "gauge":
                found = rm.Gauge(name, description=description, tag_keys=tags)
            else:
                found = rm.Histogram(name, description=description, boundaries=LATENCY_BUCKETS, tag_keys=tags)
            _made[name] = found
    return found


# Counter increments are summed here, histogram values queued, and both handed to Ray once a
# second by a daemon thread: a dict update or an append costs a fraction of a microsecond where a
# Ray ``Counter.inc``/``Histogram.observe`` costs 3-5 (measured here; benchmarks/span_metrics.py
# measures the whole), and Ray's agents report only every few seconds anyway. A process killed
# between two flushes loses at most a second of counts.
_FLUSH_S = 1.0
_pending: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
#: histogram values waiting for the flusher (bounded: under overload the oldest are dropped)
_observed: deque[tuple[str, tuple[tuple[str, str], ...], float]] = deque(maxlen=100_000)
_flusher: threading.Thread | None = None


def _flush() -> None:
    global _pending
    while _observed:  # the histogram values recorded since the last flush
        name, tags, value = _observed.popleft()
        m = _metric(name)
        if m is not None:
            m.observe(value, tags=dict(tags))
    with _lock:
        batch, _pending = _pending, {}
    for (name, tags), value in batch.items():
        m = _metric(name)
        if m is not None:
            m.inc(value, tags=dict(tags))


def _flush_forever() -> None:
    import time

    while True:
        time.sleep(_FLUSH_S)
        try:
            _flush()
        except Exception:  # noqa: BLE001 - a lost batch of counts must not stop the next ones
            pass


def _start_flusher() -> None:
    global _flusher
    with _lock:
        if _flusher is None:
            _flusher = threading.Thread(target=_flush_forever, name="presta-ax-metrics", daemon=True)
            _flusher.start()
            atexit.register(_flush)  # a clean exit hands over what is left


def _inc(name: str, tags: dict[str, str], value: float = 1.0) -> None:
    if not _ray_ready():
        return
    key = (name, tuple(tags.items()))
    with _lock:
        _pending[key] = _pending.get(key, 0.0) + value
    if _flusher is None:
        _start_flusher()


def _set(name: str, tags: dict[str, str], value: float) -> None:
    m = _metric(name)
    if m is not None:
        m.set(value, tags=tags)


def webhook_result(route: str, status: int, reason: str | None) -> None:
    """One webhook answered: 202 accepted, 200 duplicate, anything else refused with ``reason``
    (the error code of the answer, e.g. ``signature_invalid``)."""
    outcome = "accepted" if status == 202 else "duplicate" if status == 200 else "refused"
    _inc("presta_ax_webhooks_total", {"route": route, "outcome": outcome, "reason": reason or ""})


def circuit_state(system: str, open_: bool) -> None:
    """The breaker of ``system`` is open or half-open (``True``: calls stop) or closed."""
    _set("presta_ax_circuit_open", {"system": system}, 1.0 if open_ else 0.0)


def target_concurrency(system: str, allowed: float) -> None:
    _set("presta_ax_target_concurrency", {"system": system}, allowed)


_BULK_OUTCOMES = ("created", "updated", "unchanged", "dropped", "held", "failed", "stale")
_bulk_seen: dict[str, dict[str, int]] = {}


def bulk_progress(run: Mapping[str, Any]) -> None:
    """A bulk run's progress report (the run record :func:`pipelines.bulk.driver.run_bulk` hands
    its ``on_progress``): the records counted since the last report by outcome, the share done
    once the listing is complete, and the shop's adaptive write limit (the run's ``limiter``)."""
    kind = str(run.get("flow") or "bulk")
    counts = run.get("counts") or {}
    seen = _bulk_seen.setdefault(str(run.get("run_id")), {})
    for outcome in _BULK_OUTCOMES:
        n = int(counts.get(outcome) or 0)
        if n > seen.get(outcome, 0):
            _inc("presta_ax_bulk_records_total", {"kind": kind, "outcome": outcome}, n - seen.get(outcome, 0))
            seen[outcome] = n
    listed = run.get("listed")
    if run.get("listing_done") and listed:
        done = int(run.get("records_done") or 0) + int(run.get("resumed_records") or 0)
        _set("presta_ax_bulk_progress_ratio", {"kind": kind}, min(1.0, done / int(listed)))
    limiter = run.get("limiter") or {}
    if isinstance(limiter, Mapping) and limiter.get("limit") is not None:
        target_concurrency("prestashop", float(limiter["limit"]))


Key = tuple[tuple[str, str], ...]


def _count(name: str, key: Key) -> None:
    """:func:`_inc` by 1 for an already-built label tuple (the span path: no dict per call)."""
    with _lock:
        _pending[(name, key)] = _pending.get((name, key), 0.0) + 1.0


def _client_call(attrs: Any, status: Any) -> tuple[str, str, str] | None:
    """``(system, operation, outcome)`` of a connector's CLIENT span, None for any other span."""
    if "ax.operation" in attrs:
        system, operation = "ax", f"{attrs.get('ax.service')!s}.{attrs['ax.operation']!s}"
    elif "prestashop.resource" in attrs:
        system, operation = "prestashop", f"{attrs.get('http.request.method')!s} {attrs['prestashop.resource']!s}"
    else:
        return None
    if status.status_code is StatusCode.ERROR:
        outcome = str(attrs.get("error.type") or (status.description or "error").split(" ", 1)[0])
    else:
        outcome = "ok"
    return system, operation, outcome


_COUNTED = ("process ", "ax ", "prestashop ")


class SpanMetrics(SpanProcessor):
    """Turns finished spans into the counters and histograms above (see the module docstring)."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if not span.name.startswith(_COUNTED) or not _ray_ready():
            return
        if _flusher is None:
            _start_flusher()
        try:
            self.record(span)
        except Exception:  # noqa: BLE001 - a metric must never break the span's owner
            pass

    def record(self, span: ReadableSpan) -> None:
        """Count one finished span (into this process's buffers, see :func:`_flush`)."""
        start, end = span.start_time, span.end_time
        if start is None or end is None:
            return
        seconds = (end - start) / 1e9
        attrs = span.attributes or {}
        if span.kind is SpanKind.CONSUMER:
            pair = (("entity", str(attrs.get("entity") or "")), ("flow", str(attrs.get("flow") or "")))
            outcome = attrs.get("message.outcome")
            if not outcome:
                outcome = "error" if span.status.status_code is StatusCode.ERROR else "unknown"
            _count("presta_ax_messages_processed_total", (*pair, ("outcome", str(outcome))))
            _observed.append(("presta_ax_processing_seconds", pair, seconds))
            if outcome == "retry":
                _count("presta_ax_retries_total", pair)
            elif outcome == "dead":
                _count("presta_ax_dead_letters_total", pair)
        else:
            call = _client_call(attrs, span.status)
            if call is not None:
                system, operation, outcome = call
                pair = (("system", system), ("operation", operation))
                _count("presta_ax_system_calls_total", (*pair, ("outcome", outcome)))
                _observed.append(("presta_ax_system_call_seconds", pair, seconds))

    def shutdown(self) -> None:
        return None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


Handler = Callable[[Any], Any]


def counted_webhook(route: str, handler: Handler) -> Handler:
    """Wrap a webhook route handler so each answer counts in ``presta_ax_webhooks_total``; a
    refusal's reason is the ``error`` code of its JSON body (parsed only for refusals)."""
    import json

    async def wrapper(request: Any) -> Any:
        response = await handler(request)
        reason = None
        if response.status_code not in (200, 202):
            try:
                reason = str(json.loads(response.body).get("error") or "")[:40]
            except (ValueError, AttributeError):
                reason = "unknown"
        webhook_result(route, response.status_code, reason)
        return response

    return wrapper
