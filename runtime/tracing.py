"""OpenTelemetry set-up and W3C trace-context helpers.

Every process of the bridge (Serve replica, entity actors, dispatcher, CLI) calls
:func:`setup_tracing` once; it installs an SDK ``TracerProvider`` unless one is already there
(Serve installs its own when its tracing variables are set, and a second one would be refused).
The trace of a message travels **inside the message** as its ``traceparent`` string, so spans
made after a restart, in another process, still join the trace. Ray's own tracing hook is not
used (alpha, unmaintained). Spans carry ids and names only, never secrets or personal data.

Each process describes itself in the trace's resource (Jaeger shows it as the span's process):
``process.pid``, ``host.name``, and inside Ray the actor's name (``ray.actor.name``: ``entity:order``,
``dispatcher``, ``SERVE_REPLICA::...``) with a short ``presta_ax.role`` (``serve-replica``,
``entity-actor``, ``dispatcher``, ``ray-worker``, ``driver``) and the Ray node id: an operator sees
which process and node ran each step, and a restarted actor shows up as a new pid. Batched
exports flush every second (``OTEL_BSP_SCHEDULE_DELAY`` overrides): a killed process loses at
most about a second of finished spans.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import threading
from collections.abc import Sequence
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["setup_tracing", "get_tracer", "process_attributes", "annotate_message", "context_from_traceparent", "traceparent_of_current",
           "inject_carrier", "shutdown_tracing", "JsonLinesSpanExporter"]

_PROPAGATOR = TraceContextTextMapPropagator()
_lock = threading.Lock()
_installed: TracerProvider | None = None
_metrics_added = False


class RecordUnsampled(Sampler):
    """Decides export like ``inner`` but records every span: a span the head sample drops is
    still recorded (``RECORD_ONLY``: span processors see it, exporters do not), so the metrics
    derived from spans (:class:`runtime.metrics.SpanMetrics`) count every message whatever the
    sampling ratio. The cost of an unsampled span is then that of a recorded one, minus export."""

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(self, parent_context: Any, trace_id: int, name: str, kind: Any = None,
                      attributes: Any = None, links: Any = None, trace_state: Any = None) -> SamplingResult:
        result = self.inner.should_sample(parent_context, trace_id, name, kind, attributes, links, trace_state)
        if result.decision is Decision.DROP:
            return SamplingResult(Decision.RECORD_ONLY, result.attributes, result.trace_state)
        return result

    def get_description(self) -> str:
        return f"RecordUnsampled{{{self.inner.get_description()}}}"


class JsonLinesSpanExporter(SpanExporter):
    """Appends one JSON object per span to a file: a debugging and testing exporter that
    collects spans from many processes in one place (each write is one ``O_APPEND`` line)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = []
        for s in spans:
            ctx = s.get_span_context()
            if ctx is None:
                continue
            lines.append(json.dumps({
                "name": s.name,
                "trace_id": format(ctx.trace_id, "032x"),
                "span_id": format(ctx.span_id, "016x"),
                "parent_id": format(s.parent.span_id, "016x") if s.parent else None,
                "attributes": dict(s.attributes or {}),
                "status": s.status.status_code.name,
                "start_ns": s.start_time, "end_ns": s.end_time,
                # what an OTLP backend gets too: the status text and the events (exceptions, retries)
                "status_description": s.status.description,
                "events": [{"name": e.name, "attributes": dict(e.attributes or {})} for e in s.events],
            }, default=str))
        with open(self.path, "a", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


def _exporter(settings: Any) -> tuple[SpanExporter | None, bool]:
    """Build the configured exporter; the bool says whether to batch (network) or not."""
    kind = getattr(settings, "exporter", "none")
    endpoint = getattr(settings, "endpoint", None)
    headers = {k: v.get_secret_value() for k, v in (getattr(settings, "headers", {}) or {}).items()}
    if kind == "otlp_http":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

        url = endpoint
        if url and not url.rstrip("/").endswith("/v1/traces"):
            url = url.rstrip("/") + "/v1/traces"
        return HttpExporter(endpoint=url, headers=headers or None), True
    if kind == "otlp_grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter

        return GrpcExporter(endpoint=endpoint, headers=headers or None, insecure=True), True
    if kind == "console":
        return ConsoleSpanExporter(), False
    if kind == "jsonl" and endpoint:
        return JsonLinesSpanExporter(endpoint), False
    return None, False


def _role(actor_name: str | None) -> str:
    if not actor_name:
        return "ray-worker"
    if actor_name.startswith("SERVE_REPLICA"):
        return "serve-replica"
    if actor_name.startswith("entity:"):
        return "entity-actor"
    return actor_name if actor_name == "dispatcher" else "ray-actor"


def process_attributes() -> dict[str, Any]:
    """Resource attributes naming this process (ids only: no command line, no user name)."""
    attrs: dict[str, Any] = {"process.pid": os.getpid(), "host.name": socket.gethostname()}
    try:
        import ray

        if ray.is_initialized():
            ctx = ray.get_runtime_context()
            if ctx.worker.mode == ray.WORKER_MODE:
                name = ctx.get_actor_name()
                attrs["presta_ax.role"] = _role(name)
                if name:
                    attrs["ray.actor.name"] = name
            else:
                attrs["presta_ax.role"] = "driver"
            attrs["ray.node.id"] = ctx.get_node_id()
        else:
            attrs["presta_ax.role"] = "driver"
    except Exception:  # noqa: BLE001 - a process description is never worth failing a start
        attrs.setdefault("presta_ax.role", "unknown")
    return attrs


def _batch(exporter: SpanExporter) -> BatchSpanProcessor:
    delay = int(os.environ.get("OTEL_BSP_SCHEDULE_DELAY") or 1000)
    return BatchSpanProcessor(exporter, schedule_delay_millis=delay)


def setup_tracing(settings: Any = None, processors: Sequence[SpanProcessor] = ()) -> trace.TracerProvider:
    """Install the bridge's tracer provider in this process (idempotent); return the provider in force.

    ``settings`` is a :class:`runtime.config.TracingSettings` (or None: no exporter). Extra
    ``processors`` (tests: an in-memory exporter) are added to the provider in force.
    """
    global _installed, _metrics_added
    with _lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            provider = current
        else:
            ratio = float(getattr(settings, "sampling_ratio", 1.0))
            service = getattr(settings, "service_name", "presta-ax-bridge")
            provider = TracerProvider(resource=Resource.create({"service.name": service, **process_attributes()}),
                                      sampler=RecordUnsampled(ParentBased(TraceIdRatioBased(ratio))))
            exporter, batch = _exporter(settings)
            if exporter is not None:
                provider.add_span_processor(_batch(exporter) if batch else SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            _installed = provider
            atexit.register(shutdown_tracing)
        if not _metrics_added:  # once per process, whoever installed the provider
            from runtime.metrics import SpanMetrics

            provider.add_span_processor(SpanMetrics())
            _metrics_added = True
        for p in processors:
            provider.add_span_processor(p)
        return provider


def annotate_message(span: trace.Span, msg: Any) -> None:
    """Put the order's numbers on an attempt span, so the trace is found by any of them: the
    shop's order id (an ``order`` message from the shop is keyed by it), the shop's order
    reference and AX's ``SalesId`` when the payload carries them. Ids only, no personal data."""
    if msg.entity == "order" and msg.source == "prestashop":
        span.set_attribute("shop.order_id", msg.key)
    payload = msg.payload
    if isinstance(payload, dict):
        if msg.entity == "order" and isinstance(payload.get("reference"), str):
            span.set_attribute("shop.order_reference", payload["reference"])
        if payload.get("SalesId"):
            span.set_attribute("ax.sales_id", str(payload["SalesId"]))


_TRACER: tuple[Any, trace.Tracer] | None = None


def get_tracer() -> trace.Tracer:
    """The bridge's tracer, made once per tracer provider (the SDK builds a new tracer on every
    ``get_tracer`` call, which cost the webhook path ~60 us a request)."""
    global _TRACER
    provider = trace.get_tracer_provider()
    cached = _TRACER
    if cached is None or cached[0] is not provider:
        cached = _TRACER = (provider, provider.get_tracer("presta_ax_bridge"))
    return cached[1]


def context_from_traceparent(traceparent: str | None) -> otel_context.Context | None:
    """An OTel context whose parent is ``traceparent``; None (a new root) when absent or invalid."""
    if not traceparent:
        return None
    ctx = _PROPAGATOR.extract({"traceparent": traceparent})
    span = trace.get_current_span(ctx)
    return ctx if span.get_span_context().is_valid else None


def traceparent_of_current() -> str | None:
    """The current span's W3C ``traceparent`` (stored in each message)."""
    return inject_carrier().get("traceparent")


def inject_carrier() -> dict[str, str]:
    """The current context as a small picklable dict, to pass to an actor or a task."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier


def shutdown_tracing() -> None:
    """Flush and stop exporters so no buffered span is lost on a clean exit."""
    provider = trace.get_tracer_provider()
    if isinstance(provider, TracerProvider):
        try:
            provider.force_flush(timeout_millis=5000)
            provider.shutdown()
        except Exception:  # noqa: BLE001 - never fail an exit because a collector is down
            pass
