"""One webhook that fails once and succeeds on retry yields one trace with correct parents:
ingest -> attempt 1 (+ its steps); ingest -> dispatch -> attempt 2 (+ its steps), where attempt 2
runs in a fresh worker (as after a process restart)."""

from __future__ import annotations

import asyncio
import json
import random
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.testclient import TestClient

from connectors.prestashop.signing import signature_headers
from runtime.app import build_app
from runtime.dispatcher import Dispatcher
from runtime.flows import FlowRegistry
from runtime.retry import RetryPolicy
from runtime.store import AsyncStore, Store
from runtime.tracing import setup_tracing
from runtime.worker import EntityWorker
from tests import flows_for_tests

pytestmark = pytest.mark.unit
SECRET = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="


async def test_retry_joins_the_webhook_trace_with_correct_parents(tmp_path: Path) -> None:
    exporter = InMemorySpanExporter()
    setup_tracing(None, processors=[SimpleSpanProcessor(exporter)])
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}", grace_s=0.0))
    registry = FlowRegistry()
    flows_for_tests.register(registry)
    policy = RetryPolicy(base_s=0.01, cap_s=0.02, max_attempts=5, rng=random.Random(3))
    app = build_app(store, webhook_secrets=[SECRET], admin_token="t", nudge=lambda e, k, c: None)
    body = json.dumps({"type": "order.created", "data": {"id": 42, "fail_times": 1}}).encode()
    client_trace = "00-" + "1f" * 16 + "-" + "2e" * 8 + "-01"
    with TestClient(app) as client:
        r = client.post("/webhooks/prestashop", content=body, headers={
            "content-type": "application/json", "traceparent": client_trace,
            **signature_headers(SECRET, "evt_trace", body)})
    assert r.status_code == 202
    mid = r.json()["message_id"]

    first = EntityWorker("order", store, registry, policy, lease_s=30)
    await first.nudge("42")  # attempt 1 fails (transient) -> retry
    assert (await store.get(mid)).status == "retry"
    await asyncio.sleep(0.05)

    restarted = EntityWorker("order", store, registry, policy, lease_s=30)  # as after a crash
    tasks: list[asyncio.Task[int]] = []
    dispatcher = Dispatcher(store, lambda e, k, c: tasks.append(asyncio.create_task(restarted.nudge(k))))
    assert await dispatcher.tick() == 1
    await asyncio.gather(*tasks)
    assert (await store.get(mid)).status == "done"
    store.close()

    spans = [s for s in exporter.get_finished_spans() if s.context.trace_id == int("1f" * 16, 16)]
    by_name: dict[str, list] = {}
    for s in spans:
        by_name.setdefault(s.name, []).append(s)
    ingest = by_name["webhook ingest"][0]
    assert ingest.parent.span_id == int("2e" * 8, 16)  # continues the sender's trace
    dispatch = by_name["dispatch"][0]
    attempts = sorted(by_name["process order order.created"], key=lambda s: s.attributes["message.attempt"])
    assert [a.attributes["message.attempt"] for a in attempts] == [1, 2]
    assert attempts[0].parent.span_id == ingest.context.span_id
    assert attempts[0].status.status_code.name == "ERROR"
    assert dispatch.parent.span_id == ingest.context.span_id
    assert attempts[1].parent.span_id == dispatch.context.span_id
    assert attempts[1].attributes["message.outcome"] == "done"
    for attempt in attempts:
        steps = [s for s in spans if s.parent and s.parent.span_id == attempt.context.span_id]
        assert {s.name for s in steps} == {"step validate", "step load"}
        assert all(s.attributes["message.id"] == mid for s in steps)
    for s in spans:  # ids only: no payload values, no personal data
        assert "fail_times" not in json.dumps(dict(s.attributes or {}))
