"""The ingest's cheaper span and answer give what the SDK's current span + inject and a
``JSONResponse`` gave: same trace context, same bytes and headers."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from starlette.requests import Request
from starlette.responses import JSONResponse

from runtime.app.ingest_trace import carrier_of, ingest_span
from runtime.app.webhooks import _Answer, _encode
from runtime.tracing import inject_carrier, setup_tracing

pytestmark = pytest.mark.unit

SENDER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _request(headers: dict[str, str]) -> Request:
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "POST", "path": "/webhooks/prestashop", "headers": raw})


@pytest.mark.parametrize("headers", [{}, {"traceparent": SENDER}, {"traceparent": SENDER, "tracestate": "shop=1"}])
def test_the_message_gets_the_trace_context_a_propagator_would_inject(headers: dict[str, str]) -> None:
    setup_tracing()
    with ingest_span(_request(headers), "/webhooks/prestashop") as span:
        with trace.use_span(span, end_on_exit=False):
            injected = inject_carrier()
        carrier = carrier_of(span)
    assert carrier["traceparent"] == injected["traceparent"]
    if "traceparent" in headers:  # the sender's trace goes on
        assert carrier["traceparent"].split("-")[1] == SENDER.split("-")[1]
    # the tracestate comes with the parent only when the sender's traceparent is read with it:
    # whatever the propagator injects, the carrier holds too
    assert carrier.get("tracestate") == injected.get("tracestate")
    assert span.attributes["http.route"] == "/webhooks/prestashop"
    assert span.kind is trace.SpanKind.SERVER and span.name == "webhook ingest"


def test_an_exception_in_the_span_is_recorded_and_the_span_ends() -> None:
    setup_tracing()
    with pytest.raises(RuntimeError), ingest_span(_request({}), "/webhooks/prestashop") as span:
        raise RuntimeError("store down")
    assert span.end_time is not None
    assert span.status.status_code is trace.StatusCode.ERROR
    assert [e.name for e in span.events] == ["exception"]


@pytest.mark.parametrize("content", [{"message_id": "01KBX5G2J1ZQ7T3M4N5P6Q7R8S"},
                                     {"message_id": "01KBX5G2J1ZQ7T3M4N5P6Q7R8S", "duplicate": True}])
def test_the_answer_has_the_bytes_and_headers_of_a_json_response(content: dict) -> None:
    ours, theirs = _Answer(_encode(content), 202), JSONResponse(content, status_code=202)
    assert ours.body == theirs.body
    assert ours.raw_headers == theirs.raw_headers
    assert ours.status_code == 202
