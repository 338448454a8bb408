"""The visual flow designer in a real browser (Debian's chromium via Playwright) against the real
bridge on Ray with both sandboxes over HTTP: open the default order flow, add a mapping rule with
the mapping editor (a misspelt source field is flagged inline and fixed with its did-you-mean),
test-run it on the sample, save (the YAML file on disk changes by exactly the added line), look
at the deploy diff, deploy, and see the next order placed in the shop processed by the new
version (the flow version on the message's timeline in the admin API); then a poll trigger's
``every:`` (a bad interval flagged inline first) and a lookup table edited in their forms and
saved, each file changed by exactly that line. Screenshots: see
conftest.py (``PRESTA_AX_SCREENSHOTS=docs/console`` refreshes the docs' images)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import Page, expect

from tests.browser.support import order as _order
from tests.browser.support import run as _run
from tests.browser.support import serious_a11y_violations
from tests.e2e.exactly_once_support import exactly_once_sandboxes, order_messages, start_bridge
from tests.e2e.support import TOKEN, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SLOW = 30_000  # ms: answers that wait on the bridge (lint, test-run) on a busy CI machine

MAPPING = "ps_order_to_ax_sales_order"
TARGET = "ShipCarrierDeliveryContact"  # a SalesTable field the shipped mapping leaves empty


@pytest.fixture
def sandboxes(serve_port: int) -> Iterator[tuple[str, str]]:
    with exactly_once_sandboxes(serve_port) as urls:
        yield urls


def _changed_lines(before: str, after: str) -> list[str]:
    return [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d[:1] in "+-"]


def test_designer_adds_a_rule_test_runs_saves_deploys_and_the_next_order_runs_the_new_version(
        bridge_factory: Any, sandboxes: tuple[str, str], tmp_path: Path, console_page: Page, shots: Any) -> None:
    ps_url, ax_url = sandboxes
    bridge, store = start_bridge(bridge_factory, tmp_path, ps_url, ax_url)
    mapping_file = Path(bridge.settings.flow_dirs[0]) / "mappings" / f"{MAPPING}.yaml"
    flow_file = Path(bridge.settings.flow_dirs[0]) / "ps_order_to_ax.yaml"
    before, flow_before = mapping_file.read_text(encoding="utf-8"), flow_file.read_text(encoding="utf-8")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    page = console_page

    def processed(email: str) -> tuple[Any, str]:
        """Place an order in the shop; once done: its message and the flow version that ran it."""
        key = str(_order(ps_url, email)["id"])

        async def done() -> bool:
            msgs = order_messages(store, key)
            return bool(msgs) and all(m.status in ("done", "dead") for m in msgs)

        _run(wait_until(done, timeout_s=90))
        (message,) = order_messages(store, key)
        assert message.status == "done", message.last_error
        detail = httpx.get(f"{bridge.url}/api/v1/messages/{message.id}", headers=auth, timeout=10).json()
        (version,) = [e["detail"]["flow_version"] for e in detail["timeline"] if e["kind"] == "attempt_succeeded"]
        return message, version

    # an order before the change runs the flow as the folder holds it
    _, old_version = processed("before.designer@example.com")

    page.goto(f"{bridge.url}/console/")
    page.get_by_label("Admin token").fill(TOKEN)
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="Designer").click()

    # the flow as a graph: its triggers and steps
    graph = page.get_by_role("group", name="Flow ps_order_to_ax as a graph")
    expect(graph.get_by_label("Step load-order, load")).to_be_visible(timeout=SLOW)
    expect(graph.get_by_label("Trigger webhook prestashop: order.created")).to_be_visible()
    steps = page.get_by_role("list", name="Steps")
    expect(steps.get_by_role("listitem")).to_have_count(9)
    editor = page.get_by_role("region", name=f"Mapping {MAPPING}")
    expect(editor.get_by_role("list", name="Mapped target fields")).to_contain_text("PurchOrderFormNum")
    assert serious_a11y_violations(page) == []
    shots(page, "designer")

    # keyboard: Tab to a step's node and Enter selects it; its options form is built from the schema
    graph.get_by_label("Step map-order, map").focus()
    page.keyboard.press("Enter")
    form = page.get_by_role("form", name="Step map-order (map)")
    form.get_by_label("when").fill("int(current_state) != 6")
    form.get_by_role("button", name="Apply to step").click()
    page.get_by_role("button", name="Move map-order up").click()
    expect(page.get_by_role("list", name="Steps").get_by_role("listitem").nth(2)).to_contain_text("map-order")
    expect(page.get_by_text("2 unsaved change(s)")).to_be_visible()
    page.get_by_role("button", name="Discard changes").click()  # this test changes the mapping only
    expect(page.get_by_text("No unsaved changes")).to_be_visible()

    # a rule with a misspelt source field: lint flags it inline with its did-you-mean
    editor.get_by_role("combobox", name="Target field", exact=True).fill(TARGET)
    editor.get_by_role("combobox", name="Source field", exact=True).fill("address_delivery.phnoe")
    editor.get_by_role("button", name="Add rule").click()
    problem = editor.get_by_role("list", name="Problems of this mapping")
    expect(problem).to_contain_text("unknown source field 'address_delivery.phnoe'", timeout=SLOW)
    expect(page.get_by_role("button", name="Save to files")).to_be_disabled()
    shots(page, "designer-mapping-lint")
    problem.get_by_role("button", name="Use ‘address_delivery.phone’").click()
    expect(problem).to_have_count(0, timeout=SLOW)
    editor.get_by_label("Default (when missing)").fill("no phone")
    editor.get_by_role("button", name="Update rule").click()
    expect(editor.get_by_role("list", name="Mapped target fields")).to_contain_text(
        f"{TARGET} address_delivery.phone (default no phone)")
    expect(page.get_by_text("1 unsaved change(s)")).to_be_visible()

    # test-run the edited flow on the shipped sample: the mapped sales order has the new field
    page.get_by_role("button", name="Run test").click()
    expect(page.get_by_text("Outcome:")).to_be_visible(timeout=SLOW)
    output = page.get_by_label("Output of map-order")
    expect(output).to_contain_text(f'"{TARGET}": "no phone"')  # the sample's address has no phone
    output.scroll_into_view_if_needed()
    shots(page, "designer-test-run")

    # save: the YAML file on disk changes by exactly the added line
    page.get_by_role("button", name="Save to files").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text(f"mappings/{MAPPING}.yaml", timeout=SLOW)
    after = mapping_file.read_text(encoding="utf-8")
    assert _changed_lines(before, after) == [f"+   {TARGET}: {{from: address_delivery.phone, default: no phone}}"]
    assert flow_file.read_text(encoding="utf-8") == flow_before

    # deploy: the dialog shows the diff first
    page.get_by_role("button", name="Deploy…").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text(f"Deployed now: {old_version}", timeout=SLOW)
    diff = dialog.get_by_label("Changes of deployed → files")
    added = [line for line in diff.inner_text().splitlines() if line.startswith("+") and not line.startswith("+++")]
    assert len(added) == 3 and TARGET in added[0]  # the rule: its name, from and default
    shots(page, "designer-deploy", full_page=False)
    dialog.get_by_role("button", name="Deploy this version").click()
    expect(page.get_by_role("status").filter(has_text="the running bridge picks it up")).to_contain_text("deployed", timeout=SLOW)
    flows = httpx.get(f"{bridge.url}/api/v1/flows", headers=auth, timeout=10).json()["items"]
    (order_flow,) = [f for f in flows if f["name"] == "ps_order_to_ax"]
    new_version = order_flow["deployed_versions"][0]["version"]
    assert order_flow["deployed"] and new_version == order_flow["version_id"]

    assert new_version != old_version

    # the next order placed in the shop runs the new version
    _, version = processed("after.designer@example.com")
    assert version == new_version

    # a trigger's every: and a lookup table, edited in forms; the save changes those lines only
    flow_saved, mapping_saved = flow_file.read_text(encoding="utf-8"), mapping_file.read_text(encoding="utf-8")
    (poll_line,) = [line for line in flow_saved.splitlines() if "type: poll" in line and "resource: orders" in line]
    triggers = page.get_by_role("region", name="Triggers")
    triggers.get_by_role("button", name=re.compile(r"prestashop: orders every")).click()
    trigger_form = triggers.get_by_role("form", name="Trigger 3")
    trigger_form.get_by_label("every").fill("5 minutes")
    trigger_form.get_by_role("button", name="Apply to trigger").click()
    expect(triggers.get_by_role("list", name="Problems of this trigger")).to_contain_text(
        "'5 minutes' is not an interval", timeout=SLOW)  # inline, from the bridge's lint
    expect(page.get_by_role("button", name="Save to files")).to_be_disabled()
    triggers.get_by_role("form", name="Trigger 3").get_by_label("every").fill("5m")
    triggers.get_by_role("form", name="Trigger 3").get_by_role("button", name="Apply to trigger").click()
    expect(triggers.get_by_role("list", name="Problems of this trigger")).to_have_count(0, timeout=SLOW)
    lookups = editor.get_by_role("region", name="Lookup tables")
    lookups.get_by_label("Table", exact=True).select_option("country")
    table = lookups.get_by_role("form", name="Lookup table country")
    expect(table.get_by_label("Value of FR")).to_have_value("FRA")
    table.get_by_role("button", name="Add row").click()
    table.get_by_label("Key 13").fill("PT")
    table.get_by_label("Value of PT").fill("PRT")
    table.get_by_role("button", name="Apply table").click()
    expect(page.get_by_text("2 unsaved change(s)")).to_be_visible()
    expect(page.get_by_role("button", name="Save to files")).to_be_enabled(timeout=SLOW)
    shots(page, "designer-trigger-lookup")
    page.get_by_role("button", name="Save to files").click()
    expect(page.get_by_role("status").filter(has_text="Saved")).to_contain_text("ps_order_to_ax.yaml", timeout=SLOW)
    assert _changed_lines(flow_saved, flow_file.read_text(encoding="utf-8")) == [
        f"- {poll_line}", f"+ {poll_line.replace('every: 1m', 'every: 5m')}"]
    mapping_now = mapping_file.read_text(encoding="utf-8")
    assert _changed_lines(mapping_saved, mapping_now) == ["+       PT: PRT"]  # one entry, block style as the file
    assert yaml.safe_load(mapping_now)["lookups"]["country"]["values"] == {
        **yaml.safe_load(mapping_saved)["lookups"]["country"]["values"], "PT": "PRT"}
    store.close()
