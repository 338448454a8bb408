"""One order's trace in a real Jaeger: Ray + Serve + both sandboxes, one shop order through the
whole cycle (webhook -> AX sales order -> write-back -> packing slip -> tracking -> invoice ->
payment), read back from Jaeger's query API (``/api/traces/{id}`` and the search by tags).

Checked: the cycle is one trace (every message of it carries the trace id; the search by shop
order reference, shop order id and AX SalesId finds it, and every other trace it finds is only the
shop's echo of our own write-back, finished without effect); spans from every process involved
(Serve replica, entity actors, dispatcher); the AX and PrestaShop calls as CLIENT spans with the
semantic conventions' HTTP/RPC attributes; every span's parent present; the retry of the
write-back as a second attempt in the same trace; no personal data and no secret anywhere in the
trace. The first test also finds the order with ``presta-ax trace REFERENCE`` (trace id, Jaeger
link, the waterfall read from Jaeger), checks the admin API's message view links to Jaeger, and
scrapes the cycle's metrics from Ray's Prometheus endpoint and the journal's from ``/metrics``,
parsed by the Prometheus client's parser. The second test does the same trace checks across a
restart of the entity actor (killed while the order's retry waits): the attempts before and after
it are in one trace, from two processes.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest
import ray
from prometheus_client.parser import text_string_to_metric_families
from typer.testing import CliRunner

from runtime.cli import app
from runtime.metrics import bulk_progress
from runtime.store import Store
from runtime.trace_view import Span, spans_of
from tests.contract.runtime_operations.support import PS_KEY, sandbox_flow_dir
from tests.e2e.jaeger_cycle import (
    PERSON,
    SECRETS,
    Cycle,
    every_string,
    parents_missing,
    raw_trace,
    ray_metrics_url,
    read_trace,
    run_cycle,
    scrape_until,
    search,
)
from tests.e2e.support import TOKEN
from tests.e2e.test_order_to_cash import sandboxes  # noqa: F401 - the shared sandboxes fixture
from tests.jaeger_support import Jaeger, jaeger  # noqa: F401 - the Jaeger fixture

pytestmark = pytest.mark.e2e

ATTEMPT = "process order order.created"
FULFILMENT = {"process shipment packing_slip.posted", "process shipment invoice.posted",
              "process shipment invoice.settled"}


def _bridge(bridge_factory: Any, tmp_path: Path, ps_url: str, ax_url: str, jaeger: Jaeger, exporter: str,  # noqa: F811
            retry_s: float) -> tuple[Any, Store]:
    endpoint = jaeger.otlp_grpc if exporter == "otlp_grpc" else jaeger.otlp_http
    bridge = bridge_factory(
        systems={"prestashop": {"base_url": ps_url, "api_key": PS_KEY},
                 "ax": {"base_url": ax_url + "/MicrosoftDynamicsAXAif60", "port_name": "WebShop", "company": "DAT"}},
        flows=[], flow_dirs=[str(sandbox_flow_dir(tmp_path))],
        limits={"lease_s": 3, "dispatch_interval_s": 0.3, "poll_interval_s": 0.5,
                "retry": {"base_s": 0.05, "cap_s": retry_s, "max_attempts": 6}},
        tracing={"exporter": exporter, "endpoint": endpoint, "ui_url": jaeger.query_url})
    return bridge, Store(bridge.settings.store_url())


def _fault(retry_after_s: int) -> dict[str, Any]:
    """The shop answers the order's write-back (POST order_histories) once with 503 + Retry-After."""
    return {"unavailable_next": 1, "retry_after_s": retry_after_s, "only_methods": ["POST"],
            "only_resources": ["order_histories"]}


def _complete(spans: list[Span]) -> bool:
    names = [s.name for s in spans]
    return (names.count(ATTEMPT) >= 2 and FULFILMENT <= set(names) and "webhook ingest" in names
            and not parents_missing(spans))


def _writes(span: Span) -> bool:
    """A call that changes a system: a shop request other than GET, an AX create/update/delete."""
    if span.name.startswith("prestashop "):
        return span.tags.get("http.request.method") != "GET"
    return span.name.startswith("ax ") and span.tags.get("ax.operation") in ("create", "update", "delete")


def _attempts(spans: list[Span]) -> list[Span]:
    return sorted((s for s in spans if s.name == ATTEMPT), key=lambda s: s.tags["message.attempt"])


async def _check_cycle_trace(jaeger: Jaeger, cycle: Cycle) -> list[Span]:  # noqa: F811
    """Everything both tests check; returns the trace's spans."""
    assert {m.traceparent.split("-")[1] for m in cycle.messages} == {cycle.trace_id}, \
        [(m.event, m.traceparent) for m in cycle.messages]
    spans = await read_trace(jaeger.query_url, cycle.trace_id, _complete)

    # every span's parent is in the trace; the one root is the webhook's ingest span
    assert parents_missing(spans) == []
    roots = [s for s in spans if not s.parent_id]
    assert [r.name for r in roots] == ["webhook ingest"], [r.name for r in roots]

    # the retry: attempt 1 failed on the shop's 503, attempt 2 finished the order, same trace
    first, second = _attempts(spans)
    assert (first.tags["message.attempt"], second.tags["message.attempt"]) == (1, 2)
    assert first.tags.get("otel.status_code") == "ERROR" and first.tags["message.outcome"] == "retry"
    assert second.tags["message.outcome"] == "done"
    assert any(s.name == "prestashop POST order_histories" and s.tags.get("http.response.status_code") == 503
               for s in spans)

    # processes: the Serve replica, the order and shipment entity actors, the dispatcher
    roles = {(s.process.get("presta_ax.role"), s.process.get("ray.actor.name")) for s in spans}
    assert ("serve-replica",) == tuple({r for r, _ in roles if r == "serve-replica"}), roles
    assert {("entity-actor", "entity:order"), ("entity-actor", "entity:shipment"),
            ("dispatcher", "dispatcher")} <= roles, roles
    ingest = next(s for s in spans if s.name == "webhook ingest")
    assert ingest.process["presta_ax.role"] == "serve-replica" and ingest.tags["span.kind"] == "server"

    # the calls to both systems: CLIENT spans with the semantic conventions' attributes
    ax_calls = [s for s in spans if s.name.startswith("ax ")]
    shop_calls = [s for s in spans if s.name.startswith("prestashop ")]
    assert any(s.name == "ax SalesOrderService.create" for s in ax_calls), sorted({s.name for s in ax_calls})
    assert {"ax SalesPackingSlipService.read", "ax SalesInvoiceService.read"} & {s.name for s in ax_calls}
    for s in ax_calls:
        assert s.tags["span.kind"] == "client"
        assert s.tags["rpc.system"] == "dotnet_wcf" and s.tags["rpc.method"] == s.tags["ax.operation"]
        assert s.tags["http.request.method"] == "POST" and s.tags["server.address"] == "127.0.0.1"
        assert isinstance(s.tags["server.port"], int) and s.tags["url.full"].endswith("/WebShop/xppservice.svc")
        assert s.tags["http.response.status_code"] == 200
    for s in shop_calls:
        assert s.tags["span.kind"] == "client"
        assert s.tags["http.request.method"] in ("GET", "POST", "PUT", "PATCH", "DELETE")
        assert s.tags["server.address"] == "127.0.0.1" and isinstance(s.tags["server.port"], int)
        assert s.tags["url.path"].startswith("/api/")
        assert isinstance(s.tags["http.response.status_code"], int)
    written_back = {s.name for s in shop_calls if s.tags["http.request.method"] != "GET"}
    assert "prestashop POST order_histories" in written_back, written_back  # the write-back
    assert any("order_carriers" in n or "order_payments" in n or "order_invoices" in n for n in written_back)

    # the order's numbers are on its spans: shop order id and reference, AX SalesId
    key, reference = str(cycle.order["id"]), cycle.order["reference"]
    assert any(s.tags.get("shop.order_id") == key for s in spans)
    assert any(s.tags.get("shop.order_reference") == reference for s in spans)
    assert any(s.tags.get("ax.sales_id") == cycle.sales_id for s in spans)

    # the search by each number finds this trace; any other trace it finds is a later webhook of
    # the shop about the same order (its echo of our write-back, its status change): processed in
    # its own trace, and writing nothing to either system
    for tags in ({"shop.order_reference": reference}, {"shop.order_id": key}, {"ax.sales_id": cycle.sales_id}):
        found = await search(jaeger.query_url, tags, cycle.started_us)
        ids = [t["traceID"] for t in found]
        assert cycle.trace_id in ids, (tags, ids)
        for other in (t for t in found if t["traceID"] != cycle.trace_id):
            other_spans = spans_of(other)
            assert [s.name for s in other_spans if not s.parent_id] == ["webhook ingest"]
            writes = [s.name for s in other_spans if _writes(s)]
            assert writes == [], (tags, writes)

    # no personal data, no secret in any span name, attribute, event or process tag
    text = "\n".join(every_string(await raw_trace(jaeger.query_url, cycle.trace_id)))
    for value in (cycle.email, *PERSON.values(), *SECRETS):
        assert value not in text, f"{value!r} appears in the trace"
    return spans


async def test_one_order_through_the_whole_cycle_is_one_trace_in_jaeger(
        bridge_factory: Any, sandboxes: tuple[str, str], jaeger: Jaeger, tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    bridge, store = _bridge(bridge_factory, tmp_path, ps_url, ax_url, jaeger, "otlp_grpc", retry_s=0.5)
    try:
        cycle = await run_cycle(store, ps_url, ax_url, shop_faults=_fault(retry_after_s=1))
        await _check_cycle_trace(jaeger, cycle)
    finally:
        store.close()
    created = cycle.messages[0]
    link = f"{jaeger.query_url}/trace/{cycle.trace_id}"
    async with httpx.AsyncClient(base_url=bridge.url, headers={"Authorization": f"Bearer {TOKEN}"}) as admin:
        shown = (await admin.get(f"/api/v1/messages/{created.id}")).json()
    assert (shown["trace_id"], shown["trace_url"]) == (cycle.trace_id, link)

    # `presta-ax trace REFERENCE`: the order's messages, its trace id with the Jaeger link, and the
    # waterfall read from Jaeger (attempts indented under the ingest span, through the nudges)
    config = tmp_path / "cli.yaml"
    config.write_text(f"tracing:\n  ui_url: {jaeger.query_url}\n", encoding="utf-8")
    result = await asyncio.to_thread(CliRunner().invoke, app, [
        "trace", cycle.order["reference"], "--config", str(config), "--url", bridge.url, "--token", TOKEN],
        env={"COLUMNS": "200"})
    print(result.output)  # the waterfall of a real order, for whoever runs this with -s
    assert result.exit_code == 0, result.output
    out = result.output.splitlines()
    assert f"trace {cycle.trace_id}  {link}" in out
    for m in cycle.messages:
        assert any(line.split()[:1] == [m.id] and m.event in line and cycle.trace_id in line for line in out), m.event
    # the cycle's block: the whole cycle in one waterfall, attempts indented under the ingest span
    start = out.index(f"trace {cycle.trace_id}  {link}")
    end = next((i for i in range(start + 1, len(out)) if out[i].startswith("trace ")), len(out))
    block = [line.split(" ms ", 1)[1] for line in out[start + 1:end] if " ms " in line]
    names = [b.strip().split("  [")[0] for b in block]
    assert names[0] == "webhook ingest" and names.count(ATTEMPT) == 2 and FULFILMENT <= set(names), names
    assert all(b.index(ATTEMPT) > 2 for b in block if b.strip().startswith(ATTEMPT))
    await _check_metrics(bridge.url)


def _at_least(samples: dict[Any, float], name: str, n: float = 1, **labels: str) -> bool:
    """Some series of ``name`` whose labels include ``labels`` has a value of at least ``n``."""
    return any(key[0] == name and set(labels.items()) <= set(key[1]) and v >= n for key, v in samples.items())


async def _check_metrics(bridge_url: str) -> None:
    """The cycle's numbers on Ray's Prometheus endpoint (from the replica, the actors and the
    dispatcher's pollers) and the journal's on the bridge's /metrics, both parsed by the
    Prometheus client's parser. Ray's counters add up over the test session: at-least checks."""
    async with httpx.AsyncClient(base_url=bridge_url, timeout=10) as http:  # one refused webhook
        refused = await http.post("/webhooks/prestashop", content=b'{"type": "order.created", "data": {"id": 1}}',
                                  headers={"content-type": "application/json"})
        assert refused.status_code == 401
        reason = refused.json()["error"]
        journal = (await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})).text
    # a bulk run's progress reports (cumulative counts, as the driver hands them): counted once
    run = {"run_id": "r-metrics", "flow": "metrics_check_bulk", "listing_done": True, "listed": 10,
           "records_done": 4, "counts": {"created": 3}, "limiter": {"limit": 4.0}}
    bulk_progress(run)
    bulk_progress({**run, "records_done": 6, "counts": {"created": 5, "failed": 1}})
    bulk = {"kind": "metrics_check_bulk"}
    order = {"entity": "order", "flow": "ps_order_to_ax"}
    expected = [
        ("ray_presta_ax_bulk_records_total", 5, {**bulk, "outcome": "created"}),
        ("ray_presta_ax_bulk_records_total", 1, {**bulk, "outcome": "failed"}),
        ("ray_presta_ax_bulk_progress_ratio", 0.6, bulk),
        ("ray_presta_ax_webhooks_total", 1, {"route": "prestashop", "outcome": "accepted"}),
        ("ray_presta_ax_webhooks_total", 1, {"route": "prestashop", "outcome": "refused", "reason": reason}),
        ("ray_presta_ax_messages_processed_total", 1, {**order, "outcome": "retry"}),
        ("ray_presta_ax_messages_processed_total", 1, {**order, "outcome": "done"}),
        ("ray_presta_ax_messages_processed_total", 3, {"entity": "shipment", "flow": "ax_fulfilment_to_ps",
                                                       "outcome": "done"}),
        ("ray_presta_ax_retries_total", 1, order),
        ("ray_presta_ax_processing_seconds_count", 2, order),
        ("ray_presta_ax_processing_seconds_bucket", 2, {**order, "le": "+Inf"}),
        ("ray_presta_ax_system_calls_total", 1, {"system": "ax", "operation": "SalesOrderService.create",
                                                 "outcome": "ok"}),
        ("ray_presta_ax_system_calls_total", 1, {"system": "prestashop", "operation": "POST order_histories",
                                                 "outcome": "ok"}),
        ("ray_presta_ax_system_call_seconds_count", 1, {"system": "ax", "operation": "SalesOrderService.create"}),
    ]
    samples = await scrape_until(ray_metrics_url(), lambda got: all(
        _at_least(got, name, n, **labels) for name, n, labels in expected))
    assert samples[("ray_presta_ax_bulk_records_total", (("kind", "metrics_check_bulk"), ("outcome", "created")))] == 5
    assert samples[("ray_presta_ax_bulk_progress_ratio", (("kind", "metrics_check_bulk"),))] == 0.6
    assert samples[("ray_presta_ax_target_concurrency", (("system", "prestashop"),))] >= 4.0  # summed over processes
    failed_write_back = [k for k in samples if k[0] == "ray_presta_ax_system_calls_total"
                         and ("operation", "POST order_histories") in k[1] and ("outcome", "ok") not in k[1]]
    assert failed_write_back, "the shop's 503 is not counted as a failed call"
    parsed = {(smp.name, tuple(sorted(smp.labels.items()))): smp.value
              for fam in text_string_to_metric_families(journal) for smp in fam.samples}
    assert parsed[("presta_ax_messages", (("entity", "shipment"), ("status", "done")))] >= 3
    assert parsed[("presta_ax_dead_letters", (("entity", "order"),))] == 0
    assert ("presta_ax_poll_cursor_age_seconds", (("cursor", "ax:SalesPackingSlipService"),)) in parsed


async def test_the_order_trace_continues_across_a_restart_of_the_entity_actor(
        bridge_factory: Any, sandboxes: tuple[str, str], jaeger: Jaeger, tmp_path: Path) -> None:  # noqa: F811
    ps_url, ax_url = sandboxes
    bridge, store = _bridge(bridge_factory, tmp_path, ps_url, ax_url, jaeger, "otlp_http", retry_s=6)

    async def restart_actor(message: Any) -> None:
        # the first attempt (and the spans above it) reached Jaeger before the kill: what the
        # killed process had not exported would be lost with it
        trace_id = message.traceparent.split("-")[1]
        await read_trace(jaeger.query_url, trace_id, lambda spans: any(
            s.name == ATTEMPT and s.tags.get("message.attempt") == 1 for s in spans) and not parents_missing(spans))
        actor = ray.get_actor("entity:order", namespace=bridge.settings.namespace)
        ray.kill(actor, no_restart=False)  # Ray restarts it (max_restarts=-1); the journal keeps the retry

    try:
        cycle = await run_cycle(store, ps_url, ax_url, shop_faults=_fault(retry_after_s=6),
                                between_attempts=restart_actor)
        spans = await _check_cycle_trace(jaeger, cycle)
    finally:
        store.close()
    first, second = _attempts(spans)
    assert first.process["ray.actor.name"] == second.process["ray.actor.name"] == "entity:order"
    assert first.process["process.pid"] != second.process["process.pid"]  # a new process after the restart
    # the second attempt hangs under the dispatcher's nudge of the restarted actor, in the same trace
    by_id = {s.span_id: s for s in spans}
    chain = []
    node = second
    while node.parent_id in by_id:
        node = by_id[node.parent_id]
        chain.append(node.name)
    assert chain[-1] == "webhook ingest" and "dispatch" in chain, chain
