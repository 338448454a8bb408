"""The console's read-only endpoints (runtime/app/stats_api.py) and its static files
(runtime/app/console.py) on the Starlette app over a real SQLite store, without Ray."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from runtime.app import build_app
from runtime.app.console import console_routes
from runtime.app.stats_api import throughput
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "admin-token-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
TRACE = "0af7651916cd43dd8448eb211c80319c"


def msg(entity: str, key: str, payload: dict | None = None, received_at: float | None = None, **kw) -> Message:
    return Message(id=new_message_id(), entity=entity, key=key, source="prestashop", event=f"{entity}.created",
                   payload=payload or {"id": key}, idempotency_key=f"{entity}-{key}-{new_message_id()}",
                   received_at=received_at or time.time(), **kw)


@pytest.fixture
def env(tmp_path: Path):
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    app = build_app(store, webhook_secrets=["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    with TestClient(app) as client:
        yield client, store.sync
    store.close()


def run(store: Store, entity: str, key: str, *, ok: bool, flow: str = "order_to_ax", dead: bool = False) -> None:
    claimed = store.claim_next(entity, key, 30)
    assert claimed is not None
    m, token = claimed
    if ok:
        assert store.complete(m.id, token, flow=flow)
    else:
        store.fail(m.id, token, {"type": "ValidationError", "message": "bad"}, flow=flow,
                   retry_at=None if dead else time.time() + 60)


def test_overview_counts_queue_depth_and_oldest_pending_age(env) -> None:
    client, store = env
    now = time.time()
    store.append(msg("order", "1", received_at=now - 120))   # pending, the oldest
    store.append(msg("order", "2", received_at=now - 10))
    store.append(msg("order", "3"))
    run(store, "order", "3", ok=False)                        # retrying
    store.append(msg("stock", "A"))
    run(store, "stock", "A", ok=False, dead=True)             # dead
    store.append(msg("stock", "B"))
    run(store, "stock", "B", ok=True)                         # done: not in the queue
    store.add_alert("warning", "order", "something to look at")

    body = client.get("/api/v1/stats/overview", headers=AUTH).json()
    assert body["totals"]["pending"] == 2 and body["totals"]["retrying"] == 1 and body["totals"]["dead"] == 1
    assert body["entities"]["order"]["pending"] == 2 and body["entities"]["order"]["retrying"] == 1
    assert body["entities"]["stock"] == {"pending": 0, "retrying": 0, "dead": 1, "held": 0, "oldest_pending_s": None}
    assert 119 <= body["totals"]["oldest_pending_s"] < 200
    assert body["alerts"]["count"] == 1
    assert client.get("/api/v1/stats/overview").status_code == 401


def test_throughput_buckets_per_flow_and_entity(env) -> None:
    client, store = env
    for k in ("1", "2", "3"):
        store.append(msg("order", k))
    run(store, "order", "1", ok=True)
    run(store, "order", "2", ok=True)
    run(store, "order", "3", ok=False)
    body = client.get("/api/v1/stats/throughput?window=600&bucket=60", headers=AUTH).json()
    assert body["buckets"] == 10 and body["bucket_s"] == 60
    series = {(s["flow"], s["entity"]): s for s in body["series"]}
    assert sum(series[(None, "order")]["received"]) == 3
    assert sum(series[("order_to_ax", "order")]["done"]) == 2
    assert sum(series[("order_to_ax", "order")]["failed"]) == 1
    # everything happened now: in the last bucket
    assert series[("order_to_ax", "order")]["done"][-1] == 2
    assert client.get("/api/v1/stats/throughput?window=600&bucket=0", headers=AUTH).status_code == 400


def test_throughput_buckets_by_time_and_leaves_out_the_past_on_both_backends(store_url: str) -> None:
    store = Store(store_url)
    now = 1_800_000_030.0   # a fixed clock; buckets start at multiples of 60: the last one at now - 30
    at = {"old": now - 7200, "b0": now - 3560, "b58": now - 65, "b59a": now - 29, "b59b": now - 1}
    for key in at:
        store.append(msg("order", key))
    with store.backend.tx() as cur:
        for key, t in at.items():
            cur.execute("UPDATE message_events SET at = ? WHERE message_id = (SELECT id FROM messages WHERE key = ?)",
                        (t, key))
    body = throughput(store, 3600, 60, now=now)
    (series,) = body["series"]
    assert body["start"] == now + 30 - 3600 and body["buckets"] == 60
    received = series["received"]
    assert sum(received) == 4   # the event two hours ago is out of the window
    assert received[0] == 1 and received[58] == 1 and received[59] == 2
    store.close()


def test_search_by_reference_ax_id_trace_and_time(env) -> None:
    client, store = env
    now = time.time()
    store.append(msg("order", "7", {"id": 7, "reference": "XKBKNABJK", "email": "jane@example.com"},
                     received_at=now - 3600, traceparent=f"00-{TRACE}-b7ad6b7169203331-01"))
    store.append(msg("order", "8", {"id": 8, "reference": "OTHERREF"}))
    store.put_xref("order", "7", "SO-000123")

    def ids(**q) -> list[str]:
        r = client.get("/api/v1/search/messages", params=q, headers=AUTH)
        assert r.status_code == 200, r.text
        return [m["key"] for m in r.json()["items"]]

    assert ids(reference="XKBKNABJK") == ["7"]
    assert ids(ax_id="SO-000123") == ["7"]
    assert ids(trace_id=TRACE) == ["7"]
    assert ids(since=str(now - 60)) == ["8"]
    assert ids(until=str(now - 60)) == ["7"]
    assert ids(entity="order") == ["8", "7"]
    item = client.get("/api/v1/search/messages", params={"key": "7"}, headers=AUTH).json()["items"][0]
    assert item["payload"]["email"] == "***" and item["trace_id"] == TRACE
    bad = client.get("/api/v1/search/messages", params={"reference": "x%' OR 1=1"}, headers=AUTH)
    assert bad.status_code == 400 and "reference" in bad.json()["detail"]
    assert client.get("/api/v1/search/messages", params={"status": "nope"}, headers=AUTH).status_code == 400


def test_trace_without_jaeger_says_not_configured_and_refuses_bad_ids(env) -> None:
    client, _ = env
    body = client.get(f"/api/v1/traces/{TRACE}", headers=AUTH).json()
    assert body == {"configured": False, "trace_id": TRACE, "spans": [], "ui_url": None}
    assert client.get("/api/v1/traces/not-a-trace", headers=AUTH).status_code == 400


def test_trace_with_jaeger_down_is_a_clear_502(tmp_path: Path) -> None:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    app = build_app(store, webhook_secrets=[], admin_token=TOKEN, nudge=lambda e, k, c: None,
                    trace_ui_url="http://127.0.0.1:9/")   # the discard port: nothing answers
    with TestClient(app) as client:
        r = client.get(f"/api/v1/traces/{TRACE}", headers=AUTH)
    store.close()
    assert r.status_code == 502 and "tracing.ui_url" in r.json()["detail"]


def test_console_serves_index_for_any_screen_and_assets_without_token(tmp_path: Path) -> None:
    from starlette.applications import Starlette

    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><div id=root></div>")
    (dist / "assets" / "index-abc.js").write_text("console.log(1)")
    client = TestClient(Starlette(routes=console_routes(dist)))
    r = client.get("/console", follow_redirects=False)
    assert r.status_code == 308 and r.headers["location"] == "/console/"
    for path in ("/console/", "/console/messages/123"):
        r = client.get(path)
        assert r.status_code == 200 and "id=root" in r.text
        assert "default-src 'self'" in r.headers["content-security-policy"]
    assert client.get("/console/assets/index-abc.js").text == "console.log(1)"
    assert client.get("/console/assets/missing.js").status_code == 404


def test_console_without_a_build_says_how_to_build(tmp_path: Path) -> None:
    from starlette.applications import Starlette

    client = TestClient(Starlette(routes=console_routes(tmp_path / "nothing")))
    r = client.get("/console/")
    assert r.status_code == 503 and "make console" in r.text
    assert client.get("/console/assets/x.js").status_code == 404
