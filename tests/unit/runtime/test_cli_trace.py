"""``presta-ax trace`` without Jaeger: a real admin API (the Starlette app over a real store, served
on the loopback interface) and the CLI as a user runs it. The order is found by its shop id or
its AX SalesId; its messages, trace ids and the journal's timeline come out; the AX fulfilment
message of the order is in the order's trace. (With Jaeger: tests/e2e/test_jaeger_order_trace.py.)"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from connectors._serving import serve_in_thread
from runtime.app import build_app
from runtime.cli import app
from runtime.messages import Message, new_message_id
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

TOKEN = "admin-token-for-trace-tests"
T1 = "4bf92f3577b34da6a3ce929d0e0e4736"
T2 = "0af7651916cd43dd8448eb211c80319c"
runner = CliRunner()


def _append(store: Store, entity: str, key: str, event: str, trace_id: str, **payload: Any) -> str:
    return store.append(Message(id=new_message_id(), entity=entity, key=key, source="prestashop", event=event,
                                payload={"id": key, **payload}, idempotency_key=new_message_id(),
                                traceparent=f"00-{trace_id}-00f067aa0ba902b7-01", received_at=time.time()))[0]


@pytest.fixture
def bridge(tmp_path: Path) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    s = store.sync
    ids = {"created": _append(s, "order", "11", "order.created", T1, reference="HFXSDEIMZ"),
           "echo": _append(s, "order", "11", "order.updated", T2),
           "slip": _append(s, "shipment", "PS-000011", "packing_slip.posted", T1, SalesId="SO-000011"),
           "other": _append(s, "order", "12", "order.created", "1" * 32)}
    _, token = s.claim_next("order", "11", 30)
    s.fail(ids["created"], token, {"type": "TransientError", "message": "503"}, retry_at=time.time())
    _, token = s.claim_next("order", "11", 30)
    s.complete(ids["created"], token, flow="ps_order_to_ax")
    s.put_xref("order", "11", "SO-000011")
    api = build_app(store, webhook_secrets=["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], admin_token=TOKEN,
                    nudge=lambda e, k, c: None)
    with serve_in_thread(api, name="admin API") as url:
        yield ids, {"PRESTA_AX_URL": url, "PRESTA_AX_ADMIN_TOKEN": TOKEN, "COLUMNS": "160",
                    "PRESTA_AX_DATA_DIR": str(tmp_path / "data")}
    store.close()


@pytest.mark.parametrize("ref", ["11", "SO-000011"])
def test_trace_finds_the_order_by_shop_id_or_sales_id_and_draws_the_journal_timeline(bridge, ref: str) -> None:
    ids, env = bridge
    r = runner.invoke(app, ["trace", ref], env=env)
    assert r.exit_code == 0, r.output
    out = r.output.splitlines()
    assert out[0].startswith(f"Order {ref}") and "shop order id 11" in out[0]
    listed = [line.split()[0] for line in out if line.startswith("  ") and line.split()[0] in ids.values()]
    assert sorted(listed) == sorted([ids["created"], ids["echo"], ids["slip"]])  # not order 12's
    assert [line for line in out if line.startswith("trace ")] == [f"trace {T1}", f"trace {T2}"]  # no link
    block = out[out.index(f"trace {T1}") + 1:out.index(f"trace {T2}")]
    assert block[0].startswith("(from the journal")
    text = "\n".join(block)
    assert f"order 11 order.created  message {ids['created']}  status done  flow ps_order_to_ax" in text
    assert f"shipment PS-000011 packing_slip.posted  message {ids['slip']}" in text
    kinds = [line.split()[2:] for line in block if line.startswith("  +")]  # "+", offset, event...
    created = kinds[:kinds.index(["received"], 1)] if kinds.count(["received"]) > 1 else kinds
    assert created == [["received"], ["attempt_started", "attempt", "1"],
                       ["attempt_failed", "attempt", "1", "TransientError"], ["attempt_started", "attempt", "2"],
                       ["attempt_succeeded", "attempt", "2"]]


def test_trace_of_an_unknown_order_exits_1_and_bad_input_exits_2(bridge) -> None:
    _, env = bridge
    r = runner.invoke(app, ["trace", "99"], env=env)
    assert r.exit_code == 1 and "No order found for '99'" in r.output
    assert runner.invoke(app, ["trace", "two words"], env=env).exit_code == 2


def test_the_message_view_links_to_jaeger_when_configured(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    store = AsyncStore(Store(f"sqlite:///{tmp_path / 'j.db'}"))
    mid = _append(store.sync, "order", "11", "order.created", T1)
    try:
        for ui_url, expected in (("http://jaeger.example:16686/", f"http://jaeger.example:16686/trace/{T1}"),
                                 (None, None)):
            api = build_app(store, webhook_secrets=[], admin_token=TOKEN, nudge=lambda e, k, c: None,
                            trace_ui_url=ui_url)
            with TestClient(api) as c:
                body = c.get(f"/api/v1/messages/{mid}", headers={"Authorization": f"Bearer {TOKEN}"}).json()
            assert (body["trace_id"], body["trace_url"]) == (T1, expected)
    finally:
        store.close()
