"""The user story of the issue, with the pipelines API in a temporary folder: copy a default
flow, change a lookup table and add a conditional rule, lint it, test-run it on a sample, and
deploy it (the version record the store keeps), then run the deployed flow for a message."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from pipelines import DEFAULT_FLOWS_DIR, FlowRegistry, lint_flow, lint_paths, run_flow, run_flow_test

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parents[2] / "mappings"
ORDER_MAPPING = "ps_order_to_ax_sales_order"

# the changes a user makes in their copy of the order mapping
NEW_CARRIER = ('"UPS Standard": UPS}', '"UPS Standard": UPS, "Colissimo Home": COLIS}')
NEW_RULE = (
    "    else: RETAIL\n",
    "      - if: \"country_delivery.iso_code == 'CH' and total_paid > 200\"\n"
    "        then: SWISSB2C\n"
    "    else: RETAIL\n",
)


def copy_flow(folder: Path, *changes: tuple[str, str]) -> None:
    """Copy the order flow and its order mapping into ``folder``, applying ``changes``."""
    (folder / "mappings").mkdir(parents=True, exist_ok=True)
    (folder / "ps_order_to_ax.yaml").write_text((DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text())
    text = (DEFAULT_FLOWS_DIR / "mappings" / f"{ORDER_MAPPING}.yaml").read_text()
    for old, new in changes:
        assert old in text, f"the default mapping no longer contains {old!r}"
        text = text.replace(old, new)
    (folder / "mappings" / f"{ORDER_MAPPING}.yaml").write_text(text)


def swiss_order() -> dict[str, Any]:
    case = json.loads((CASES / ORDER_MAPPING / "normal_order.input.json").read_text())
    record = case["record"]
    record["customer"]["addresses"] = [dict(record["address_delivery"], country={"iso_code": "CH"})]
    record.update(carrier={"name": "Colissimo Home"}, country_delivery={"iso_code": "CH"}, current_state="2")
    return record


class TargetRecorder:
    """Answers the extract step with a fixed record and records what each step would send."""

    def __init__(self, record: dict[str, Any]) -> None:
        self.record = record
        self.sent: dict[str, Any] = {}

    async def call(
        self, system: str, operation: str, payload: Any, *, mode: str | None, context: Mapping[str, Any]
    ) -> Any:
        if operation == "orders.get":
            return self.record
        self.sent[operation] = payload
        return {"id": "SO-000001"}


def test_a_broken_edit_is_caught_by_lint_before_deploying(tmp_path: Path) -> None:
    typo = (NEW_RULE[0], NEW_RULE[1].replace("country_delivery.iso_code", "country_delivery.iso_cod"))
    copy_flow(tmp_path, NEW_CARRIER, typo)
    flow = FlowRegistry([tmp_path]).get("ps_order_to_ax")
    problems = [p for p in lint_flow(flow) if p.severity == "error"]
    assert len(problems) == 1, [p.format() for p in problems]
    problem = problems[0]
    mapping_file = tmp_path / "mappings" / f"{ORDER_MAPPING}.yaml"
    assert problem.file == str(mapping_file)
    assert problem.path == "fields.CustGroup.cases[1].if"
    assert "unknown source field 'country_delivery.iso_cod'" in problem.message
    assert "did you mean 'iso_code'" in problem.message
    # the line is the one holding the new rule in the user's file
    assert "iso_cod ==" in mapping_file.read_text().splitlines()[problem.line - 1]
    assert lint_paths([tmp_path]) == lint_flow(flow)  # the same findings through `presta-ax lint`


async def test_copy_change_lint_test_run_and_deploy_a_flow(tmp_path: Path) -> None:
    copy_flow(tmp_path, NEW_CARRIER, NEW_RULE)

    # lint: the user's folder is clean, and so is everything the flow uses
    assert [p.format() for p in lint_paths([tmp_path])] == []
    flow = FlowRegistry([tmp_path]).get("ps_order_to_ax")
    assert flow.spec.file == str(tmp_path / "ps_order_to_ax.yaml")
    assert flow.mappings[ORDER_MAPPING].file == str(tmp_path / "mappings" / f"{ORDER_MAPPING}.yaml")
    assert lint_flow(flow) == []

    # test-run on a sample: the new carrier and the new rule apply, nothing is sent
    result = run_flow_test(flow, {"record": swiss_order(), "context": {}}, masked=False)
    assert result["ok"], result
    order = next(s for s in result["steps"] if s["id"] == "map-order")["output"]
    assert (order["DlvMode"], order["CustGroup"], order["TableDlvAddr"]["CountryRegionId"]) == (
        "COLIS",
        "SWISSB2C",
        "CHE",
    )
    assert {s["id"]: s["status"] for s in result["steps"]}["load-order"] == "skipped"

    # the rule only holds for Swiss orders above 200: a cheaper one stays RETAIL
    cheap = dict(swiss_order(), total_paid="150.000000")
    cheap_order = next(s for s in run_flow_test(flow, {"record": cheap})["steps"] if s["id"] == "map-order")[
        "output"
    ]
    assert cheap_order["CustGroup"] == "RETAIL"

    # deploy: a new version, recorded as JSON; the unchanged mappings keep their hashes
    default = FlowRegistry().get("ps_order_to_ax")
    record = flow.record()
    assert json.loads(json.dumps(record)) == record
    assert record["version_id"] == flow.version_id != default.version_id
    assert record["mappings"][ORDER_MAPPING] != default.record()["mappings"][ORDER_MAPPING]
    assert (
        record["mappings"]["ps_customer_to_ax_customer"]
        == (default.record()["mappings"]["ps_customer_to_ax_customer"])
    )
    # reloading the same files gives the same version: a deploy is idempotent
    assert FlowRegistry([tmp_path]).get("ps_order_to_ax").version_id == flow.version_id

    # the deployed flow runs for a message and sends what the test-run showed
    target = TargetRecorder(swiss_order())
    outcome = await run_flow(flow, {"key": "42", "source": "prestashop", "event": "order.created"}, target)
    assert outcome.status == "done", outcome.to_dict()
    sent = target.sent["SalesOrderService.create"]
    assert (sent["DlvMode"], sent["CustGroup"]) == ("COLIS", "SWISSB2C")
    assert target.sent["order_histories.create"]["id_order_state"] == "3"
