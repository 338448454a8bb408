"""What each step of a real run produced, journaled masked and capped (pipelines.step_payloads),
kept with its attempt by the store on both backends and out of the timeline and last_error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pipelines.masking import PERSONAL_FIELDS
from pipelines.registry import FlowRegistry
from pipelines.step_payloads import journal_payloads
from pipelines.steps import run_map
from runtime.messages import Message, new_message_id
from runtime.store import Store

pytestmark = pytest.mark.unit

FLOWS = Path(__file__).resolve().parents[3] / "pipelines" / "flows"


def _order_run() -> tuple[Any, list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """The default order flow's extract and map steps on its shipped sample (no system called)."""
    flow = FlowRegistry([]).get("ps_order_to_ax")
    record = json.loads((FLOWS / "samples" / "ps_order_to_ax.json").read_text())["record"]
    state: dict[str, Any] = {"record": record}
    ctx: dict[str, Any] = {"ax_customer_account": None, "message": {"key": "42"}, "results": {}}
    steps = [{"id": "extract", "kind": "extract", "status": "ok"}]
    outputs: dict[str, Any] = {"extract": record}
    for step in flow.spec.steps:
        if step.id in ("map-customer", "map-order"):
            outputs[step.id] = run_map(flow, step, state, ctx)
            steps.append({"id": step.id, "kind": "map", "status": "ok"})
    steps.append({"id": "validate", "kind": "validate", "status": "ok"})  # produced nothing: no row
    return flow, steps, outputs, record


def test_payloads_are_masked_in_every_step_and_keep_the_rest() -> None:
    flow, steps, outputs, record = _order_run()
    rows = journal_payloads(flow, steps, outputs, also=PERSONAL_FIELDS)
    assert [r["step"] for r in rows] == ["extract", "map-customer", "map-order"]
    text = " ".join(r["payload"] for r in rows)
    for personal in ("jane.doe@example.com", "Jane", "Doe", "12 rue de la Paix", "75002"):
        assert personal not in text
    extracted = json.loads(rows[0]["payload"])
    assert extracted["reference"] == record["reference"]  # not personal: shown as it is
    assert extracted["customer"]["email"] == "***"
    order = json.loads(rows[2]["payload"])
    assert order["PurchOrderFormNum"] == record["reference"]
    assert not any(r["truncated"] for r in rows)
    assert all(r["size"] == len(r["payload"].encode()) for r in rows)


def test_a_payload_over_the_cap_is_cut_and_marked() -> None:
    flow, steps, outputs, _ = _order_run()
    rows = journal_payloads(flow, steps, outputs, also=PERSONAL_FIELDS, cap=200)
    extract = rows[0]
    assert extract["truncated"] and extract["size"] > 200
    assert len(extract["payload"].encode()) <= 200


def test_the_store_keeps_payloads_per_attempt_outside_the_timeline(store_url: str) -> None:
    store = Store(store_url, grace_s=0.0)
    try:
        m = Message(id=new_message_id(), entity="order", key="42", source="prestashop", event="order.created",
                    payload={"id": 42}, idempotency_key=new_message_id())
        store.append(m)
        first = [{"step": "extract", "kind": "extract", "payload": '{"a":1}', "truncated": False, "size": 7},
                 {"step": "map-order", "kind": "map", "payload": '{"b":', "truncated": True, "size": 90000}]
        claimed = store.claim_next("order", "42", 30)
        assert claimed is not None
        store.fail(m.id, claimed[1], {"type": "TransientError", "message": "AX busy", "step_payloads": first},
                   retry_at=0.0)
        got = store.get(m.id)
        assert got is not None and got.last_error == {"type": "TransientError", "message": "AX busy"}
        assert store.step_payloads(m.id) == {"attempt": 1, "steps": [
            {"step": "extract", "kind": "extract", "at": store.step_payloads(m.id)["steps"][0]["at"],
             "payload": {"a": 1}, "truncated": False, "size": 7},
            {"step": "map-order", "kind": "map", "at": store.step_payloads(m.id)["steps"][1]["at"],
             "payload": '{"b":', "truncated": True, "size": 90000}]}

        claimed = store.claim_next("order", "42", 30)
        assert claimed is not None
        second = [{"step": "extract", "kind": "extract", "payload": '{"a":2}', "truncated": False, "size": 7}]
        assert store.complete(m.id, claimed[1], detail={"status": "done", "step_payloads": second})
        latest = store.step_payloads(m.id)
        assert latest["attempt"] == 2 and [s["payload"] for s in latest["steps"]] == [{"a": 2}]
        assert all("step_payloads" not in (e["detail"] or {}) for e in store.timeline(m.id))
        assert store.step_payloads("no-such-message") == {"attempt": None, "steps": []}
    finally:
        store.close()
