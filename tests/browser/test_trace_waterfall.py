"""An order's trace in the message explorer, read from a real Jaeger (``make jaeger``; the test
skips without it, and fails under ``PRESTA_AX_REQUIRE_JAEGER=1`` as CI runs): the bridge on Ray
with both sandboxes exports its spans to Jaeger over OTLP; the explorer, searched by the order's
trace id, shows the trace as a waterfall (the webhook's ingest span first, the attempt under it,
the AX sales order create among the spans) with a link to the trace in Jaeger's UI, and no
personal data of the order. Screenshot: ``message-trace.png`` (see conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.browser.support import finished, login, nav, order, serious_a11y_violations
from tests.contract.runtime_operations.support import sandbox_flow_dir
from tests.e2e.exactly_once_support import LIMITS, exactly_once_sandboxes, order_messages, systems
from tests.jaeger_support import Jaeger, jaeger  # noqa: F401 - the Jaeger fixture

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

EMAIL = "trace.buyer@example.com"


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    with exactly_once_sandboxes(serve_port) as urls:
        yield urls


def test_an_orders_trace_shows_as_a_waterfall_from_jaeger_with_its_link(
        bridge_factory: Any, sandboxes: tuple[str, str], jaeger: Jaeger, tmp_path: Path,  # noqa: F811
        console_page: Page, shots: Any) -> None:
    ps_url, ax_url = sandboxes
    bridge = bridge_factory(systems=systems(ps_url, ax_url), flows=[], limits=LIMITS,
                            flow_dirs=[str(sandbox_flow_dir(tmp_path))],
                            tracing={"exporter": "otlp_grpc", "endpoint": jaeger.otlp_grpc,
                                     "ui_url": jaeger.query_url})
    from runtime.store import Store

    store = Store(bridge.settings.store_url())
    try:
        placed = order(ps_url, EMAIL)
        key = str(placed["id"])
        finished(store, key)
        created = next(m for m in order_messages(store, key) if m.event == "order.created")
        assert created.status == "done", created.last_error
        trace_id = created.traceparent.split("-")[1]
    finally:
        store.close()

    page = console_page
    login(page, bridge.url)
    nav(page, "Messages")
    page.get_by_label("Trace id").fill(trace_id)
    page.get_by_role("button", name="Search").click()
    rows = page.get_by_role("table", name="Messages found").locator("tbody tr")
    expect(rows.filter(has_text="order.created")).to_have_count(1)
    rows.filter(has_text="order.created").get_by_role("link").click()
    expect(page.get_by_test_id("message-status")).to_have_text("done")

    # Jaeger gets the spans a few seconds after the work: reload the trace until the AX create is in
    waterfall = page.get_by_role("table", name="Trace waterfall")
    for _ in range(60):
        if waterfall.count() and "ax SalesOrderService.create" in waterfall.inner_text():
            break
        page.get_by_role("button", name="Reload trace").click()
        page.wait_for_timeout(1000)  # a poll interval, not an asserted time
    expect(waterfall).to_contain_text("ax SalesOrderService.create")
    names = [n.strip() for n in waterfall.locator("tbody tr td:first-child > span").all_inner_texts()]
    assert names[0] == "webhook ingest", names  # the root: the shop's webhook reached the bridge
    assert "process order order.created" in names, names  # the attempt, under it
    assert names.index("process order order.created") < names.index("ax SalesOrderService.create"), names
    link = page.get_by_role("link", name="Open the trace in Jaeger's UI")
    expect(link).to_have_attribute("href", f"{jaeger.query_url}/trace/{trace_id}")
    html = page.content()
    for personal in (EMAIL, "Buyer", "1 rue de Rivoli"):
        assert personal not in html, personal
    assert serious_a11y_violations(page) == []
    shots(page, "message-trace")
