"""The journal's metrics on ``/metrics`` parse with the Prometheus client's own parser and say what
the journal holds; the Grafana dashboard queries only metrics the bridge exports."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from runtime.app import build_app
from runtime.messages import Message, new_message_id
from runtime.metrics import METRICS, exported_name
from runtime.metrics_journal import JOURNAL_METRICS
from runtime.store import AsyncStore, Store

pytestmark = pytest.mark.unit

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "presta-ax-bridge.json"


def _append(store: Store, entity: str, key: str, received_at: float) -> str:
    return store.append(Message(id=new_message_id(), entity=entity, key=key, source="prestashop",
                                event=f"{entity}.created", payload={"id": key}, idempotency_key=new_message_id(),
                                received_at=received_at))[0]


async def test_journal_metrics_parse_and_count_statuses_dead_letters_pending_age_and_cursors(store_url: str) -> None:
    store = AsyncStore(Store(store_url))
    s = store.sync
    now = time.time()
    _append(s, "order", "1", now - 120)  # pending for two minutes
    _append(s, "order", "2", now - 5)
    dead = _append(s, "customer", "7", now - 30)
    _, token = s.claim_next("customer", "7", 30)
    s.fail(dead, token, {"type": "PermanentError", "message": "no"}, retry_at=None)
    s.put_cursor("ax:SalesPackingSlipService", {"since": now})
    app = build_app(store, webhook_secrets=["whsec_dGVzdHNlY3JldHRlc3RzZWNyZXQ="], admin_token="t",
                    nudge=lambda e, k, c: None)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bridge") as c:
            assert (await c.get("/metrics")).status_code == 401  # the journal's figures need the admin token
            r = await c.get("/metrics", headers={"Authorization": "Bearer t"})
    finally:
        store.close()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    samples = {(smp.name, tuple(sorted(smp.labels.items()))): smp.value
               for fam in text_string_to_metric_families(r.text) for smp in fam.samples}
    assert samples[("presta_ax_messages", (("entity", "order"), ("status", "new")))] == 2
    assert samples[("presta_ax_messages", (("entity", "customer"), ("status", "dead")))] == 1
    assert samples[("presta_ax_dead_letters", (("entity", "customer"),))] == 1
    assert samples[("presta_ax_dead_letters", (("entity", "order"),))] == 0
    age = samples[("presta_ax_oldest_pending_age_seconds", (("entity", "order"),))]
    assert 119 <= age < 3600  # the older of the two pending orders, not the newer one
    assert ("presta_ax_oldest_pending_age_seconds", (("entity", "customer"),)) not in samples  # dead is finished
    assert 0 <= samples[("presta_ax_poll_cursor_age_seconds", (("cursor", "ax:SalesPackingSlipService"),))] < 3600
    assert samples[("presta_ax_webhook_duplicate_mismatches_total", ())] == 0


def _names_in(expr: str) -> set[str]:
    """Metric names in a PromQL expression: identifiers that are neither functions, keywords nor
    label names (inside braces or by/without lists)."""
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\b(by|without)\s*\([^)]*\)", "", expr)
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    words = set(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr))
    functions = {"sum", "rate", "increase", "histogram_quantile", "max", "min", "avg", "count", "irate"}
    return {w for w in words if w not in functions}


def test_every_dashboard_query_names_a_metric_the_bridge_exports() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    known: set[str] = set(JOURNAL_METRICS)
    for name, (kind, _, _) in METRICS.items():
        exported = exported_name(name)
        known |= {exported, f"{exported}_bucket", f"{exported}_count", f"{exported}_sum"} \
            if kind == "histogram" else {exported}
    used: set[str] = set()
    for panel in dashboard["panels"]:
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            names = _names_in(target["expr"])
            assert names, (panel["title"], target["expr"])
            assert names <= known, (panel["title"], sorted(names - known))
            used |= names
    # and every application metric has a panel
    assert {exported_name(n) for n in METRICS} <= {re.sub(r"_(bucket|count|sum)$", "", u) for u in used}
