"""Tracing across Ray processes: the webhook's trace continues in the Serve replica, the
dispatcher and the entity actor, through a failed attempt and its retry."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.support import TOKEN, signed, wait_until

pytestmark = pytest.mark.e2e


async def test_one_trace_from_the_sender_through_replica_dispatcher_and_actor(bridge_factory, tmp_path: Path) -> None:
    spans_file = tmp_path / "spans.jsonl"
    running = bridge_factory(tracing={"exporter": "jsonl", "endpoint": str(spans_file)},
                             limits={"lease_s": 3, "dispatch_interval_s": 0.3,
                                     "retry": {"base_s": 0.5, "cap_s": 0.6, "max_attempts": 6}})
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    body, headers = signed("order.created", {"id": 5150, "fail_times": 1})
    headers["traceparent"] = f"00-{trace_id}-00f067aa0ba902b7-01"
    async with httpx.AsyncClient(base_url=running.url, timeout=10,
                                 headers={"Authorization": f"Bearer {TOKEN}"}) as c:
        mid = (await c.post("/webhooks/prestashop", content=body, headers=headers)).json()["message_id"]

        async def done() -> bool:
            return (await c.get(f"/api/v1/messages/{mid}")).json()["status"] == "done"
        await wait_until(done)
        listed = (await c.get("/api/v1/messages", params={"trace_id": trace_id})).json()["items"]
        assert [m["id"] for m in listed] == [mid]  # the admin API finds the message by its trace

    def spans() -> list[dict]:
        if not spans_file.exists():
            return []
        return [json.loads(line) for line in spans_file.read_text().splitlines() if line.strip()]

    deadline = time.time() + 20  # simple span processors write at span end; allow for scheduling
    while time.time() < deadline and len({s["name"] for s in spans() if s["trace_id"] == trace_id}) < 5:
        time.sleep(0.2)
    mine = [s for s in spans() if s["trace_id"] == trace_id]
    by_id = {s["span_id"]: s for s in mine}
    names = {s["name"] for s in mine}
    assert {"webhook ingest", "process order order.created", "step load", "dispatch"} <= names, names
    ingest = next(s for s in mine if s["name"] == "webhook ingest")
    assert ingest["parent_id"] == "00f067aa0ba902b7"
    attempts = sorted((s for s in mine if s["name"] == "process order order.created"),
                      key=lambda s: s["attributes"]["message.attempt"])
    assert [a["attributes"]["message.attempt"] for a in attempts] == [1, 2]
    assert attempts[0]["status"] == "ERROR" and attempts[1]["attributes"]["message.outcome"] == "done"
    for a in attempts:  # every attempt hangs under the ingest span, possibly through nudge/dispatch spans
        node = a
        while node["parent_id"] in by_id:
            node = by_id[node["parent_id"]]
        assert node is ingest
        assert a["attributes"]["message.id"] == mid and a["attributes"]["flow"] == "test_sink"
