"""OpenTelemetry set-up and W3C trace-context helpers.

Every process of the bridge (Serve replica, entity actors, dispatcher, CLI) calls
:func:`setup_tracing` once; it installs an SDK ``TracerProvider`` unless one is already there
(Serve installs its own when its tracing variables are set, and a second one would be refused).
The trace of a message travels **inside the message** as its ``traceparent`` string, so spans
made after a restart, in another process, still join the trace. Ray's own tracing hook is not
used (alpha, unmaintained). Spans carry ids and names only, never secrets or personal data.
"""

from __future__ import annotations

import atexit
import json
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
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["setup_tracing", "get_tracer", "context_from_traceparent", "traceparent_of_current",
           "inject_carrier", "shutdown_tracing", "JsonLinesSpanExporter"]

_PROPAGATOR = TraceContextTextMapPropagator()
_lock = threading.Lock()
_installed: TracerProvider | None = None


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
            }))
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


def setup_tracing(settings: Any = None, processors: Sequence[SpanProcessor] = ()) -> trace.TracerProvider:
    """Install the bridge's tracer provider in this process (idempotent); return the provider in force.

    ``settings`` is a :class:`runtime.config.TracingSettings` (or None: no exporter). Extra
    ``processors`` (tests: an in-memory exporter) are added to the provider in force.
    """
    global _installed
    with _lock:
        current = trace.get_tracer_provider()
        if isinstance(current, TracerProvider):
            provider = current
        else:
            ratio = float(getattr(settings, "sampling_ratio", 1.0))
            service = getattr(settings, "service_name", "presta-ax-bridge")
            provider = TracerProvider(resource=Resource.create({"service.name": service}),
                                      sampler=ParentBased(TraceIdRatioBased(ratio)))
            exporter, batch = _exporter(settings)
            if exporter is not None:
                provider.add_span_processor(BatchSpanProcessor(exporter) if batch else SimpleSpanProcessor(exporter))
            trace.set_tracer_provider(provider)
            _installed = provider
            atexit.register(shutdown_tracing)
        for p in processors:
            provider.add_span_processor(p)
        return provider


def get_tracer() -> trace.Tracer:
    return trace.get_tracer("presta_ax_bridge")


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
