"""The admin API of the AI features (no Ray): suggestions, the review queue; `guard score`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from runtime.app import build_app
from runtime.cli import app as cli
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "admin-token-for-ai-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
def env(tmp_path: Path):
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}", grace_s=0.0))
    nudged: list[tuple[str, str]] = []
    app = build_app(store, webhook_secrets=["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], admin_token=TOKEN,
                    nudge=lambda e, k, c: nudged.append((e, k)))
    with TestClient(app) as client:
        yield client, store.sync, nudged
    store.close()


def _held(store: Store, key: str) -> str:
    m = Message(id=new_message_id(), entity="order", key=key, source="prestashop", event="order.created",
                payload={"id": key}, idempotency_key=f"k-{key}")
    store.append(m)
    claimed, token = store.claim_next("order", key, 30)
    rid = store.hold(claimed.id, token, flow="ps_order_to_ax", detail={
        "status": "held", "step": "guard", "reason": "Order total 9000.00 is 90× this customer's largest.",
        "review": {"input": {"id": key, "customer": {"email": "jane@example.com"}, "total_paid": "9000.00"}}})
    assert rid is not None
    return rid


def test_suggest_endpoint(env) -> None:
    client, _, _ = env
    body = {"source": {"system": "a", "entity": "c", "fields": [{"name": "email", "samples": ["a@b.de"]}]},
            "target": {"system": "b", "entity": "k", "fields": [{"name": "E-Mail"}, {"name": "PLZ"}]}}
    assert client.post("/api/v1/mappings/suggest", json=body).status_code == 401
    r = client.post("/api/v1/mappings/suggest", json=body, headers=AUTH)
    assert r.status_code == 200
    assert [s["target"] for s in r.json()["suggestions"]] == ["E-Mail", "PLZ"]
    assert r.json()["suggestions"][0]["candidates"][0]["source"] == "email"
    bad = client.post("/api/v1/mappings/suggest", json={"source": body["source"], "target": {"fields": [{}]}},
                      headers=AUTH)
    assert bad.status_code == 400 and "target.system: missing" in bad.json()["detail"]


def test_review_endpoints(env) -> None:
    client, store, nudged = env
    rid = _held(store, "5")
    items = client.get("/api/v1/review", headers=AUTH).json()["items"]
    assert [i["id"] for i in items] == [rid] and "snapshot" not in items[0]
    one = client.get(f"/api/v1/review/{rid}", headers=AUTH).json()
    assert one["record"]["total_paid"] == "9000.00" and one["record"]["customer"]["email"] != "jane@example.com"
    assert client.get("/api/v1/review/nope", headers=AUTH).status_code == 404
    assert client.post(f"/api/v1/review/{rid}/edit-and-release", json={}, headers=AUTH).status_code == 400
    assert client.post(f"/api/v1/review/{rid}/reject", json={}, headers=AUTH).status_code == 400
    r = client.post(f"/api/v1/review/{rid}/edit-and-release", json={"edit": {"total_paid": "90.00"}}, headers=AUTH)
    assert r.status_code == 200 and r.json()["status"] == "released" and nudged == [("order", "5")]
    again = client.post(f"/api/v1/review/{rid}/reject", json={"reason": "no"}, headers=AUTH)
    assert again.status_code == 409 and "released already" in again.json()["detail"]
    assert client.get("/api/v1/review?status=bogus", headers=AUTH).status_code == 400


def _price(i: int, new: float, old: float) -> str:
    return json.dumps({"id": f"e{i}", "type": "price.changed", "timestamp": 1000 + i,
                       "data": {"ItemId": "A", "old_price": old, "new_price": new, "extra": [1]}})


def test_guard_score_prints_one_line_per_event(tmp_path: Path) -> None:
    lines = [_price(i, 49.9, 49.9) for i in range(10)] + [_price(10, 4.99, 49.9), _price(11, 49.9, 4.99)]
    (tmp_path / "e.jsonl").write_text("\n".join(lines) + "\n")
    r = CliRunner().invoke(cli, ["guard", "score", "--input", str(tmp_path / "e.jsonl"), "--format", "json"])
    assert r.exit_code == 0, r.output
    out = [json.loads(x) for x in r.output.splitlines()]
    assert [o["id"] for o in out] == [f"e{i}" for i in range(12)]
    assert [o["hold"] for o in out] == [False] * 10 + [True, False]
    assert "10×" in out[10]["reason"] and out[10]["score"] >= 0.5 and out[11]["reason"] == ""
    (tmp_path / "bad.jsonl").write_text(lines[0] + "\n" + '{"type": "refund.created", "data": {}}\n')
    r = CliRunner().invoke(cli, ["guard", "score", "--input", str(tmp_path / "bad.jsonl")])
    assert r.exit_code == 2 and "line 2: unknown event type 'refund.created'" in r.output
    order = json.dumps({"id": "o1", "type": "order.created", "timestamp": 1,
                        "data": {"id_customer": "1", "currency": "JPY", "total_paid": "10", "order_rows": []}})
    (tmp_path / "o.jsonl").write_text(order + "\n")
    r = CliRunner().invoke(cli, ["guard", "score", "--input", str(tmp_path / "o.jsonl"), "--currencies", "EUR,USD"])
    assert json.loads(r.output)["hold"] is True
