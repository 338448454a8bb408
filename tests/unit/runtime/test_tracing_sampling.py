"""The head sample decides what is exported, not what is recorded: a span the 1 % sample drops
still reaches the span processors (the span-derived metrics count every message), never the
exporter; a sampled trace is exported whole; each process names itself in the resource."""

from __future__ import annotations

import os

import pytest
from opentelemetry.context import Context
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from runtime.tracing import RecordUnsampled, process_attributes

pytestmark = pytest.mark.unit


class _Seen(SpanProcessor):
    def __init__(self) -> None:
        self.ended: list[str] = []

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        self.ended.append(span.name)


@pytest.mark.parametrize(("ratio", "exported"), [(0.0, []), (1.0, ["child", "root"])])
def test_unsampled_spans_are_recorded_for_processors_but_not_exported(ratio: float, exported: list[str]) -> None:
    provider = TracerProvider(sampler=RecordUnsampled(ParentBased(TraceIdRatioBased(ratio))))
    exporter, seen = InMemorySpanExporter(), _Seen()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    provider.add_span_processor(seen)
    tracer = provider.get_tracer("t")
    with tracer.start_as_current_span("root") as root:
        assert root.is_recording()
        assert root.get_span_context().trace_flags.sampled is (ratio == 1.0)
        with tracer.start_as_current_span("child"):
            pass
    assert seen.ended == ["child", "root"]
    assert sorted(s.name for s in exporter.get_finished_spans()) == exported
    provider.shutdown()


def test_the_process_describes_itself_by_ids_only() -> None:
    attrs = process_attributes()
    assert attrs["process.pid"] == os.getpid() and attrs["presta_ax.role"] == "driver"
    assert set(attrs) <= {"process.pid", "host.name", "presta_ax.role", "ray.node.id", "ray.actor.name"}
