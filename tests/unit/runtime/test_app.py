"""The Starlette app without Ray: webhook refusals store nothing; admin API; OpenAPI matches routes."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from starlette.routing import Route
from starlette.testclient import TestClient

from connectors.prestashop.signing import signature_headers
from runtime.app import build_app
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

SECRET = "whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="
TOKEN = "admin-token-for-tests"


@pytest.fixture
def env(tmp_path: Path):
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    nudged: list[tuple[str, str]] = []
    app = build_app(store, webhook_secrets=[SECRET], admin_token=TOKEN,
                    nudge=lambda e, k, c: nudged.append((e, k)), max_body_bytes=4096)
    with TestClient(app) as client:
        yield client, store.sync, nudged
    store.close()


def post(client: TestClient, body: bytes, *, wid: str = "evt_1", secret: str = SECRET, ts: int | None = None,
         ctype: str = "application/json", extra: dict[str, str] | None = None):
    headers = {"content-type": ctype, **signature_headers(secret, wid, body, ts), **(extra or {})}
    return client.post("/webhooks/prestashop", content=body, headers=headers)


def order(id_: object = 7, type_: str = "order.created") -> bytes:
    return json.dumps({"type": type_, "timestamp": 1, "data": {"id": id_, "email": "jane@example.com",
                                                                "date_upd": "2026-11-26 10:00:00"}}).encode()


def test_signed_webhook_is_persisted_acknowledged_and_nudged(env) -> None:
    client, store, nudged = env
    r = post(client, order())
    assert r.status_code == 202
    mid = r.json()["message_id"]
    m = store.get(mid)
    assert (m.entity, m.key, m.event, m.status, m.source_version) == ("order", "7", "order.created", "new",
                                                                      "2026-11-26 10:00:00")
    assert m.traceparent and m.traceparent.startswith("00-")
    assert nudged == [("order", "7")]
    dup = post(client, order())
    assert dup.status_code == 200 and dup.json() == {"message_id": mid, "duplicate": True}
    assert store.counts() == {"order": {"new": 1}} and nudged == [("order", "7")]


@pytest.mark.parametrize("case,status,code", [
    ("no_signature", 401, "signature_missing"),
    ("wrong_secret", 401, "signature_mismatch"),
    ("stale", 401, "signature_stale"),
    ("bad_json", 400, "malformed_json"),
    ("missing_fields", 400, "invalid_body"),
    ("missing_id", 400, "missing_field"),
    ("unknown_type", 422, "unknown_event_type"),
    ("content_type", 415, "unsupported_media_type"),
    ("too_large", 413, "payload_too_large"),
])
def test_refusals_store_nothing_and_say_why(env, case: str, status: int, code: str) -> None:
    client, store, nudged = env
    if case == "no_signature":
        r = client.post("/webhooks/prestashop", content=order(), headers={"content-type": "application/json"})
    elif case == "wrong_secret":
        r = post(client, order(), secret="whsec_b3RoZXI=")
    elif case == "stale":
        r = post(client, order(), ts=int(time.time()) - 3600)
    elif case == "bad_json":
        r = post(client, b'{"type": "order.created", "data": {')
    elif case == "missing_fields":
        r = post(client, b'{"type": "order.created"}')
    elif case == "missing_id":
        r = post(client, b'{"type": "order.created", "data": {"reference": "X"}}')
    elif case == "unknown_type":
        r = post(client, order(type_="order.exploded"))
    elif case == "content_type":
        r = post(client, order(), ctype="text/plain")
    else:
        r = post(client, json.dumps({"type": "order.created", "data": {"id": 1, "pad": "x" * 5000}}).encode())
    assert r.status_code == status, r.text
    assert r.json()["error"] == code and r.json()["detail"].endswith(".")
    assert store.counts() == {} and nudged == []


def test_admin_api_requires_the_token(env) -> None:
    client, _, _ = env
    assert client.get("/api/v1/messages").status_code == 401
    r = client.get("/api/v1/messages", headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    assert client.get("/healthz").status_code == 200  # unauthenticated


def test_admin_api_messages_timeline_masking_dlq(env) -> None:
    client, store, nudged = env
    auth = {"Authorization": f"Bearer {TOKEN}"}
    mid = post(client, order()).json()["message_id"]
    listed = client.get("/api/v1/messages?status=new&entity=order", headers=auth).json()["items"]
    assert [m["id"] for m in listed] == [mid]
    assert listed[0]["payload"]["email"] == "***"  # personal data masked
    assert client.get("/api/v1/messages?status=bogus", headers=auth).status_code == 400
    # fail it permanently, then replay it through the API
    _, token = store.claim_next("order", "7", 30)
    store.fail(mid, token, {"type": "ValidationError", "message": "bad"}, retry_at=None)
    detail = client.get(f"/api/v1/messages/{mid}", headers=auth).json()
    assert [e["kind"] for e in detail["timeline"]] == ["received", "attempt_started", "attempt_failed", "dead"]
    assert [m["id"] for m in client.get("/api/v1/dlq", headers=auth).json()["items"]] == [mid]
    r = client.post("/api/v1/dlq/replay", json={"ids": [mid, "nope"]}, headers=auth)
    assert r.json() == {"replayed": [mid], "skipped": [], "not_found": ["nope"], "statuses": {}}
    assert store.get(mid).status == "new" and nudged[-1] == ("order", "7")
    assert client.post(f"/api/v1/messages/{mid}/replay", headers=auth).status_code == 409
    assert client.get("/api/v1/messages/missing", headers=auth).status_code == 404
    assert client.post("/api/v1/dlq/discard", content=b"[", headers=auth).status_code == 400


def test_xrefs_lookup(env) -> None:
    client, store, _ = env
    auth = {"Authorization": f"Bearer {TOKEN}"}
    store.put_xref("customer", "12", "C-0001")
    r = client.get("/api/v1/xrefs?entity=customer&ax_id=C-0001", headers=auth).json()
    assert r["items"][0]["ps_id"] == "12"
    assert client.get("/api/v1/xrefs?ps_id=12", headers=auth).status_code == 400


def test_openapi_document_lists_exactly_the_served_admin_routes(env) -> None:
    client, _, _ = env
    doc = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    documented = {(path, method.upper()) for path, ops in doc["paths"].items() for method in ops}
    served = set()
    for route in client.app.routes:
        if isinstance(route, Route) and route.path.startswith("/api/v1"):
            served |= {(route.path, m) for m in route.methods if m != "HEAD"}
    assert documented == served


def test_ps_webhooks_format_needs_the_url_token(tmp_path: Path) -> None:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'p.db'}"))
    app = build_app(store, webhook_secrets=[SECRET], admin_token=TOKEN, nudge=lambda e, k, c: None,
                    url_tokens=["url-token-123"])
    body = json.dumps({"action": "add", "entity": "Customer", "data": {"id": 9, "email": "a@b.c"}}).encode()
    with TestClient(app) as client:
        url = "/webhooks/ps_webhooks"
        assert client.post(url, content=body, headers={"content-type": "application/json"}).status_code == 401
        assert client.post(url + "?token=nope", content=body,
                           headers={"content-type": "application/json"}).status_code == 401
        assert store.sync.counts() == {}
        r = client.post(url + "?token=url-token-123", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 202
        m = store.sync.get(r.json()["message_id"])
        assert (m.entity, m.key, m.event) == ("customer", "9", "customer.created")
        again = client.post(url + "?token=url-token-123", content=body, headers={"content-type": "application/json"})
        assert again.status_code == 200  # same content: deduplicated by its hash
    store.close()


def test_flows_are_listed_and_test_run_through_the_admin_api(tmp_path: Path) -> None:
    cases = Path(__file__).resolve().parents[2] / "mappings" / "ps_order_to_ax_sales_order"
    record = json.loads((cases / "normal_order.input.json").read_text())["record"]
    record["customer"]["addresses"] = [dict(record["address_delivery"], country={"iso_code": "FR"}, deleted="0")]
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'f.db'}"))
    store.sync.record_flow_version("ps_order_to_ax", "sha256:old", "{}")
    app = build_app(store, webhook_secrets=[SECRET], admin_token=TOKEN, nudge=lambda e, k, c: None)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with TestClient(app) as client:
        assert client.get("/api/v1/flows").status_code == 401
        flows = {f["name"]: f for f in client.get("/api/v1/flows", headers=auth).json()["items"]}
        assert "ps_order_to_ax" in flows and flows["ps_order_to_ax"]["entity"] == "order"
        assert flows["ps_order_to_ax"]["version_id"].startswith("sha256:")
        assert flows["ps_order_to_ax"]["deployed"] is False  # the recorded version is an older one
        r = client.post("/api/v1/flows/ps_order_to_ax/test", headers=auth,
                        json={"sample": {"record": record, "message": {"source": "prestashop", "event": "order.created"}}})
        assert r.status_code == 200, r.text
        result = r.json()
        assert result["ok"] and {s["id"]: s["status"] for s in result["steps"]}["load-order"] == "skipped"
        order = next(s for s in result["steps"] if s["id"] == "map-order")["output"]
        assert order["PurchOrderFormNum"] == record["reference"] and order["Email"] != record["customer"].get("email")
        assert client.post("/api/v1/flows/ps_order_to_axx/test", headers=auth, json={"sample": {}}).status_code == 404
        assert client.post("/api/v1/flows/ps_order_to_ax/test", headers=auth, json={"sample": 3}).status_code == 400
    store.close()


def _dead_message(client: TestClient, store: Store, key: int) -> str:
    mid = post(client, order(key), wid=f"evt_{key}").json()["message_id"]
    _, token = store.claim_next("order", str(key), 30)
    store.fail(mid, token, {"type": "ValidationError", "message": "bad"}, retry_at=None)
    return mid


def test_replay_and_discard_tell_an_unknown_id_from_a_message_not_in_the_dlq(env) -> None:
    client, store, nudged = env
    auth = {"Authorization": f"Bearer {TOKEN}"}
    dead = _dead_message(client, store, 21)
    alive = post(client, order(22), wid="evt_22").json()["message_id"]  # status new
    r = client.post("/api/v1/messages/01NOSUCHMESSAGE/replay", headers=auth)
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = client.post(f"/api/v1/messages/{alive}/replay", headers=auth)
    assert r.status_code == 409 and "status new" in r.json()["detail"]
    r = client.post("/api/v1/dlq/discard", json={"ids": [dead, alive, "01NOSUCH"], "reason": "test"}, headers=auth)
    assert r.status_code == 200
    assert r.json() == {"discarded": [dead], "skipped": [alive], "not_found": ["01NOSUCH"],
                        "statuses": {alive: "new"}}
    assert store.get(dead).status == "discarded" and store.get(alive).status == "new"
    r = client.post("/api/v1/dlq/replay", json={"ids": ["01NOSUCH", alive, dead]}, headers=auth)
    assert r.json() == {"replayed": [dead], "skipped": [alive], "not_found": ["01NOSUCH"],
                        "statuses": {alive: "new"}}
    assert nudged[-1] == ("order", "21")
    r = client.post(f"/api/v1/messages/{dead}/replay", headers=auth)  # replayed already: status new
    assert r.status_code == 409


def test_openapi_documents_not_found_for_replay(env) -> None:
    client, _, _ = env
    doc = client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {TOKEN}"}).json()
    assert set(doc["paths"]["/api/v1/messages/{id}/replay"]["post"]["responses"]) >= {"200", "404", "409"}
    for schema in ("ReplayResult", "DiscardResult"):
        assert {"skipped", "not_found", "statuses"} <= set(doc["components"]["schemas"][schema]["properties"])
