"""The ingress's behaviours over real HTTP, in the Serve mode of the session (tests/conftest.py:
Serve's fast mode, HAProxy in front, whenever HAProxy is usable, as users get it): signatures,
each refusal (401/400/415/413/422, the size limit with and without ``Content-Length``), the
journal write that survives a client vanishing before its answer, duplicates, ``/healthz``, the
admin API, and the trace continued from the sender's ``traceparent``.
``test_ingress_fast_mode_other.py`` runs this module once more in the other mode. One bridge
serves the whole module (deploying is the slow part), so each test compares the journal before
and after rather than expecting it empty."""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from runtime.ports import port_holder
from runtime.store import Store
from tests.e2e.support import SECRET, TOKEN, signed, wait_until

pytestmark = pytest.mark.e2e

AUTH = {"Authorization": f"Bearer {TOKEN}"}
HOOK = "/webhooks/prestashop"


@pytest.fixture(scope="module")
def bridge(serve_port: int, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One bridge for the module, its spans written to ``<data_dir>/spans.jsonl``."""
    from runtime.config import Settings
    from runtime.server import start_bridge, stop_bridge

    data = tmp_path_factory.mktemp("ingress") / "data"
    running = start_bridge(Settings.model_validate({
        "data_dir": str(data), "namespace": f"t-{uuid.uuid4().hex[:8]}",
        "server": {"port": serve_port, "webhook_secrets": [SECRET], "admin_token": TOKEN},
        "flows": ["tests.flows_for_tests"],
        "tracing": {"exporter": "jsonl", "endpoint": str(data / "spans.jsonl")},
    }), start_serve=False)
    yield running
    stop_bridge(running)


async def _journaled(c: httpx.AsyncClient) -> int:
    counts = (await c.get("/api/v1/health", headers=AUTH)).json()["counts"]
    return sum(sum(by_status.values()) for by_status in counts.values())


def test_the_session_runs_serve_in_the_mode_it_claims(serve_mode: str, serve_port: int) -> None:
    holder = port_holder(serve_port) or ""
    if serve_mode == "fast":
        assert holder.startswith("haproxy"), holder
    else:
        assert "ProxyActor" in holder, holder


def test_the_probe_of_a_running_ray_reads_the_mode_its_nodes_started_in(serve_mode: str, serve_port: int) -> None:
    from runtime.fast_mode import cluster_is_fast

    assert cluster_is_fast() is (serve_mode == "fast")  # what `serve --address` reports for a cluster


async def test_signatures_are_checked_before_anything_is_stored(bridge) -> None:
    from connectors.prestashop.signing import signature_headers

    body, headers = signed("order.created", {"id": 11})
    stale = {**headers, **signature_headers(SECRET, headers["webhook-id"], body, timestamp=int(time.time()) - 3600)}
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as c:
        before = await _journaled(c)
        for hdrs, reason in [({**headers, "webhook-signature": "v1,AAAA"}, "invalid"),
                             (stale, "stale"),
                             ({"content-type": "application/json"}, "missing")]:
            r = await c.post(HOOK, content=body, headers=hdrs)
            assert r.status_code == 401, (reason, r.text)
            assert r.json()["error"].startswith("signature"), r.text
        assert await _journaled(c) == before
        ok = await c.post(HOOK, content=body, headers=headers)
        assert ok.status_code == 202 and ok.json()["message_id"]
        assert await _journaled(c) == before + 1


async def _chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


async def test_each_refusal_answers_json_and_stores_nothing(bridge) -> None:
    body, headers = signed("order.created", {"id": 5})
    bad_json = b'{"type": "order.created", "data": {'
    unknown_body, unknown_headers = signed("order.melted", {"id": 5})
    bad_id_body, bad_id_headers = signed("order.created", {"id": "abc"})
    big_body, big_headers = signed("order.created", {"id": 5, "pad": "x" * (1024 * 1024)})
    from connectors.prestashop.signing import signature_headers
    cases = [
        ("bad json", {"content-type": "application/json", **signature_headers(SECRET, "evt_bad", bad_json)},
         bad_json, 400, "malformed_json"),
        ("content type", {**headers, "content-type": "application/xml"}, body, 415, None),
        ("unknown event", unknown_headers, unknown_body, 422, "unknown_event_type"),
        ("invalid id", bad_id_headers, bad_id_body, 422, "invalid_field"),
        ("too large, Content-Length", big_headers, big_body, 413, None),
    ]
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=20) as c:
        before = await _journaled(c)
        for what, hdrs, b, status, code in cases:
            r = await c.post(HOOK, content=b, headers=hdrs)
            assert r.status_code == status, (what, r.status_code, r.text)
            assert r.json()["error"] and (code is None or r.json()["error"] == code), (what, r.text)
        # no Content-Length: the body arrives chunked and the limit applies while it streams
        chunked = await c.post(HOOK, content=_chunks(big_body), headers=big_headers)
        assert "content-length" not in {k.lower() for k in chunked.request.headers}
        assert chunked.status_code == 413, chunked.text
        assert chunked.json()["error"]
        small = await c.post(HOOK, content=_chunks(body, 16), headers=headers)  # chunked and within the limit
        assert small.status_code == 202, small.text
        assert await _journaled(c) == before + 1  # only the accepted one


async def test_a_duplicate_answers_200_with_the_original_message_id(bridge) -> None:
    body, headers = signed("customer.updated", {"id": 42})
    async with httpx.AsyncClient(base_url=bridge.url, headers=AUTH, timeout=10) as c:
        before = await _journaled(c)
        first = await c.post(HOOK, content=body, headers=headers)
        again = await c.post(HOOK, content=body, headers=headers)
        assert first.status_code == 202 and again.status_code == 200
        assert again.json() == {"message_id": first.json()["message_id"], "duplicate": True}
        assert await _journaled(c) == before + 1


async def test_healthz_and_the_admin_api_behind_the_ingress(bridge) -> None:
    async with httpx.AsyncClient(base_url=bridge.url, timeout=10) as c:
        health = await c.get("/healthz")
        assert health.status_code == 200
        refused = await c.get("/api/v1/messages")
        assert refused.status_code == 401
        wrong = await c.get("/api/v1/messages", headers={"Authorization": "Bearer not-the-token"})
        assert wrong.status_code == 401
        listed = await c.get("/api/v1/messages", headers=AUTH, params={"entity": "customer"})
        assert listed.status_code == 200
        assert all(m["entity"] == "customer" for m in listed.json()["items"])
        assert TOKEN not in refused.text + wrong.text


def _send_and_vanish(url: str, body: bytes, headers: dict[str, str]) -> None:
    """Send one complete request and reset the connection at once, never reading the answer."""
    parts = urlsplit(url)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    raw = (f"POST {HOOK} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}Content-Length: {len(body)}\r\n\r\n").encode() + body
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as sock:
        sock.sendall(raw)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = RST


async def test_a_sender_that_vanishes_before_the_answer_loses_nothing_and_duplicates_nothing(bridge) -> None:
    hooks = [signed("order.created", {"id": 7000 + i}) for i in range(40)]
    store = Store(bridge.settings.store_url())
    try:
        def total() -> int:
            return sum(sum(v.values()) for v in store.counts().values())
        base = total()

        def journaled() -> int:  # of this test's webhooks (the module's bridge holds others)
            return total() - base
        await asyncio.gather(*(asyncio.to_thread(_send_and_vanish, bridge.url, b, h) for b, h in hooks))
        # writes that started finish although their client is gone: wait for the count to settle
        settled, last = 0, -1
        while settled < 5:
            await asyncio.sleep(0.2)
            now = journaled()
            settled, last = (settled + 1, now) if now == last else (0, now)
        # the sender retries every webhook it got no answer for, as a real sender does
        async with httpx.AsyncClient(base_url=bridge.url, timeout=10) as c:
            answers = [await c.post(HOOK, content=b, headers=h) for b, h in hooks]
        statuses = [r.status_code for r in answers]
        assert set(statuses) <= {200, 202}, statuses
        assert statuses.count(200) == last  # whatever was journaled is complete: found by its webhook id
        assert journaled() == len(hooks)  # and each webhook is in the journal exactly once
        assert len({r.json()["message_id"] for r in answers}) == len(hooks)
    finally:
        store.close()


async def test_the_trace_continues_from_the_senders_traceparent(bridge) -> None:
    spans_file = Path(bridge.settings.data_dir) / "spans.jsonl"
    running = bridge
    trace_id, parent = "5bf92f3577b34da6a3ce929d0e0e4737", "10f067aa0ba902b8"
    body, headers = signed("order.created", {"id": 8123})
    headers["traceparent"] = f"00-{trace_id}-{parent}-01"
    async with httpx.AsyncClient(base_url=running.url, timeout=10) as c:
        r = await c.post(HOOK, content=body, headers=headers)
    assert r.status_code == 202

    def ingest_spans() -> list[dict[str, Any]]:
        if not spans_file.exists():
            return []
        spans = []
        for line in spans_file.read_text().splitlines():
            try:
                spans.append(json.loads(line))
            except ValueError:
                continue  # blank, or a line another process is writing right now
        return [s for s in spans if s.get("name") == "webhook ingest" and s.get("trace_id") == trace_id]

    async def ingest_span_written() -> bool:
        return bool(ingest_spans())
    await wait_until(ingest_span_written, timeout_s=20)
    ingest = ingest_spans()[0]
    assert ingest["trace_id"] == trace_id and ingest["parent_id"] == parent
    assert ingest["attributes"]["message.id"] == r.json()["message_id"]
