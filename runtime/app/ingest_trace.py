"""The ``webhook ingest`` span of a webhook request and the trace context it gives its message.

Kept apart from :mod:`runtime.app.webhooks` because it is on every request's path and measured
on its own (``benchmarks/ingest_cpu.py --parts``): the span is not made the current span and the
message's ``traceparent`` is formatted from it, which together cost less than the SDK's
``start_as_current_span`` and a propagator inject (docs/performance.md, "The journal path").
"""

from __future__ import annotations

from typing import Any

from opentelemetry.trace import SpanKind
from starlette.requests import Request

from runtime.tracing import context_from_traceparent, get_tracer

__all__ = ["carrier_of", "ingest_span"]


def ingest_span(request: Request, route: str) -> Any:
    """The ``webhook ingest`` SERVER span of one request, child of the sender's ``traceparent``
    (a new root without one), to be used as a context manager: it ends the span and records an
    escaping exception. It is not made the current span: nothing under it opens spans, and the
    message's ``traceparent`` is formatted from it (:func:`carrier_of`); attaching and detaching
    the context cost as much as the span's attributes."""
    parent = context_from_traceparent(request.headers.get("traceparent"))
    return get_tracer().start_span("webhook ingest", context=parent, kind=SpanKind.SERVER,
                                   attributes={"http.route": route})


def carrier_of(span: Any) -> dict[str, str]:
    """The W3C trace context of ``span`` as a carrier dict, as ``inject_carrier`` would give
    inside it (``traceparent``, and ``tracestate`` when the sender sent one)."""
    ctx = span.get_span_context()
    carrier = {"traceparent": f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"}
    if ctx.trace_state:
        carrier["tracestate"] = ctx.trace_state.to_header()
    return carrier
