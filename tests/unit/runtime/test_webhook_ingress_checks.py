"""What the webhook ingress refuses at the door (422 with the field, nothing stored), and how a
reused ``webhook-id`` with another body is recorded (timeline event, log line, metric) while it
is still answered as the duplicate the standard asks for. Real store on both backends, the
Starlette app over httpx.ASGITransport."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from connectors.prestashop.signing import signature_headers
from runtime.app import build_app
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

SECRET = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="
URL_TOKEN = "url-token-for-ingress-tests"
MISMATCH_METRIC = "presta_ax_webhook_duplicate_mismatches_total"


class Bridge:
    """The app over a real store, with the nudges it made."""

    def __init__(self, client: httpx.AsyncClient, store: Store, nudged: list[tuple[str, str]]) -> None:
        self.client = client
        self.store = store
        self.nudged = nudged

    async def post(self, body: bytes, wid: str = "evt_1") -> httpx.Response:
        headers = {"content-type": "application/json", **signature_headers(SECRET, wid, body)}
        return await self.client.post("/webhooks/prestashop", content=body, headers=headers)

    async def post_ps_webhooks(self, body: bytes) -> httpx.Response:
        return await self.client.post(f"/webhooks/ps_webhooks?token={URL_TOKEN}", content=body,
                                      headers={"content-type": "application/json"})

    async def mismatches(self) -> int:
        text = (await self.client.get("/metrics", headers={"Authorization": "Bearer admin-token-for-tests"})).text
        line = next(ln for ln in text.splitlines() if ln.startswith(MISMATCH_METRIC + " "))
        return int(float(line.split()[1]))  # the exposition writes floats ("1.0")


@pytest.fixture
async def bridge(store_url: str) -> AsyncIterator[Bridge]:
    store = AsyncStore(Store(store_url))
    nudged: list[tuple[str, str]] = []
    app = build_app(store, webhook_secrets=[SECRET], admin_token="admin-token-for-tests",
                    nudge=lambda e, k, c: nudged.append((e, k)), url_tokens=[URL_TOKEN])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as client:
        yield Bridge(client, store.sync, nudged)
    store.close()


def event(type_: str = "customer.updated", **data: Any) -> bytes:
    return json.dumps({"type": type_, "timestamp": 1, "data": data}).encode()


@pytest.mark.parametrize("key", ["abc", "12abc", "-5", -5, 0, "0", "007", 4.5, "1e3", 2**40, " 42"])
async def test_a_record_id_that_is_no_prestashop_id_is_refused_and_nothing_is_stored(bridge: Bridge, key: Any) -> None:
    r = await bridge.post(event(id=key, email="jane@example.com"))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "invalid_field" and body["field"] == "data.id"
    assert body["detail"].startswith("data.id must be a positive integer (a PrestaShop id), got ")
    assert repr(key) in body["detail"]
    assert bridge.store.counts() == {} and bridge.nudged == []


@pytest.mark.parametrize("date_upd", ["yesterday", "2026-11-26T10:00:00Z", "2026-13-01 00:00:00", "26/11/2026", 20261126])
async def test_a_malformed_date_upd_is_refused_and_nothing_is_stored(bridge: Bridge, date_upd: Any) -> None:
    r = await bridge.post(event(id=42, date_upd=date_upd))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "data.date_upd"
    assert "YYYY-MM-DD HH:MM:SS" in r.json()["detail"] and repr(date_upd) in r.json()["detail"]
    assert bridge.store.counts() == {} and bridge.nudged == []


@pytest.mark.parametrize("type_,key,stored", [
    ("customer.updated", "42", "42"),
    ("customer.updated", 42, "42"),
    ("order.created", 4294967295, "4294967295"),
    ("stock.changed", "12-0", "12-0"),  # a stock row of a product without combinations
])
async def test_valid_ids_and_dates_are_accepted(bridge: Bridge, type_: str, key: Any, stored: str) -> None:
    r = await bridge.post(event(type_, id=key, date_upd="2026-11-26 10:00:00"))
    assert r.status_code == 202, r.text
    m = bridge.store.get(r.json()["message_id"])
    assert m is not None and m.key == stored and m.source_version == "2026-11-26 10:00:00"


async def test_a_stock_key_form_is_refused_for_other_entities(bridge: Bridge) -> None:
    r = await bridge.post(event("customer.updated", id="12-0"))
    assert r.status_code == 422 and r.json()["field"] == "data.id"
    assert bridge.store.counts() == {}


@pytest.mark.parametrize("entity,data,field", [
    ("Customer", {"id": "abc"}, "data.id"),
    ("OrderHistory", {"id": 3, "id_order": "x1", "id_order_state": 2}, "data.id_order"),
    ("Customer", {"id": 9, "date_upd": "soon"}, "data.date_upd"),
])
async def test_the_ps_webhooks_route_refuses_the_same_fields(
    bridge: Bridge, entity: str, data: dict[str, Any], field: str
) -> None:
    body = json.dumps({"action": "update", "entity": entity, "data": data}).encode()
    r = await bridge.post_ps_webhooks(body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "invalid_field" and r.json()["field"] == field
    assert field in r.json()["detail"]
    assert bridge.store.counts() == {} and bridge.nudged == []


async def test_a_reused_webhook_id_with_another_body_is_recorded_on_the_original(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    first = event(id=42, email="jane@example.com", date_upd="2026-11-26 10:00:00")
    r = await bridge.post(first, wid="evt_reused")
    assert r.status_code == 202
    original = r.json()["message_id"]
    other = event(id=43, email="john@example.com", date_upd="2026-11-26 11:00:00")
    with caplog.at_level(logging.WARNING, logger="presta_ax.ingest"):
        dup = await bridge.post(other, wid="evt_reused")
    # the standard's answer is kept: 200 with the original message id, the new body not journaled
    assert dup.status_code == 200 and dup.json() == {"message_id": original, "duplicate": True}
    assert bridge.store.counts() == {"customer": {"new": 1}}
    assert bridge.nudged == [("customer", "42")]
    # ... but the mismatch is on the original message's timeline, with the new body's hash
    events = [e for e in bridge.store.timeline(original) if e["kind"] == "duplicate_mismatch"]
    assert len(events) == 1
    detail = events[0]["detail"]
    assert detail["body_sha256"] == hashlib.sha256(other).hexdigest()
    assert detail["idempotency_key"] == "prestashop:webhook:evt_reused"
    assert events[0]["at"] > 0
    assert "john@example.com" not in json.dumps(detail)
    # ... in the log, with ids and hashes only
    logged = [rec.getMessage() for rec in caplog.records if "different body" in rec.getMessage()]
    assert len(logged) == 1
    assert original in logged[0] and hashlib.sha256(other).hexdigest() in logged[0]
    assert "john@example.com" not in logged[0] and "jane@example.com" not in logged[0]
    # ... and counted
    assert await bridge.mismatches() == 1


async def test_a_duplicate_with_the_same_content_records_nothing_extra(
    bridge: Bridge, caplog: pytest.LogCaptureFixture
) -> None:
    first = event(id=42, email="jane@example.com", date_upd="2026-11-26 10:00:00")
    original = (await bridge.post(first, wid="evt_same")).json()["message_id"]
    # the same content with other whitespace and key order is the same message
    data = {"date_upd": "2026-11-26 10:00:00", "email": "jane@example.com", "id": 42}
    same = json.dumps({"timestamp": 1, "data": data, "type": "customer.updated"}, indent=1).encode()
    with caplog.at_level(logging.WARNING, logger="presta_ax.ingest"):
        for body in (first, same):
            r = await bridge.post(body, wid="evt_same")
            assert r.status_code == 200 and r.json()["message_id"] == original
    kinds = [e["kind"] for e in bridge.store.timeline(original)]
    assert kinds == ["received"]
    assert not [rec for rec in caplog.records if "different body" in rec.getMessage()]
    assert await bridge.mismatches() == 0


def test_record_event_appends_to_an_existing_message_only(store_url: str) -> None:
    from runtime.messages import Message, new_message_id

    store = Store(store_url)
    try:
        mid = new_message_id()
        store.append(Message(id=mid, entity="order", key="7", source="prestashop", event="order.created",
                             payload={"id": 7}, idempotency_key="k-7"))
        assert store.record_event(mid, "duplicate_mismatch", {"body_sha256": "ab" * 32}) is True
        assert [e["kind"] for e in store.timeline(mid)] == ["received", "duplicate_mismatch"]
        assert store.timeline(mid)[-1]["detail"] == {"body_sha256": "ab" * 32}
        assert store.get(mid).status == "new"  # the message itself is unchanged
        assert store.record_event("no-such-message", "duplicate_mismatch") is False
        assert store.timeline("no-such-message") == []
    finally:
        store.close()
