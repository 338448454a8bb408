"""The `flow` CLI commands (mounted by the runtime as `presta-ax flow`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import flow_app, lint_command_problems

pytestmark = pytest.mark.unit

CASES = Path(__file__).resolve().parents[2] / "mappings"
runner = CliRunner()


def test_list_shows_the_default_flows() -> None:
    result = runner.invoke(flow_app, ["list"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    for name in ("ps_order_to_ax", "customer_sync", "ax_fulfilment_to_ps"):
        assert name in result.output


def test_flow_test_prints_each_step_and_masks(tmp_path: Path) -> None:
    sample = tmp_path / "sample.json"
    sample.write_text((CASES / "ps_order_to_ax_sales_order" / "high_value_order.input.json").read_text())
    result = runner.invoke(
        flow_app, ["test", "ps_order_to_ax", "--input", str(sample)], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert "map-order (map): ok" in result.output and "HIGHVAL" in result.output
    assert "jane.doe@example.com" not in result.output
    raw = runner.invoke(flow_app, ["test", "ps_order_to_ax", "--input", str(sample), "--json", "--unmasked"])
    data = json.loads(raw.output)
    assert data["outcome"] == "passed"
    assert (
        next(s for s in data["steps"] if s["id"] == "map-order")["output"]["Email"] == "jane.doe@example.com"
    )


def test_flow_test_exit_codes(tmp_path: Path) -> None:
    sample = tmp_path / "sample.json"
    sample.write_text((CASES / "ps_order_to_ax_sales_order" / "unmapped_country.input.json").read_text())
    assert runner.invoke(flow_app, ["test", "ps_order_to_ax", "--input", str(sample)]).exit_code == 1
    assert runner.invoke(flow_app, ["test", "no_such_flow", "--input", str(sample)]).exit_code == 2
    (tmp_path / "bad.json").write_text("{not json")
    assert (
        runner.invoke(flow_app, ["test", "ps_order_to_ax", "--input", str(tmp_path / "bad.json")]).exit_code
        == 2
    )


def test_lint_command(tmp_path: Path) -> None:
    assert lint_command_problems([]) == []
    (tmp_path / "m.yaml").write_text(
        "mapping: m\nsource: {system: prestashop, resource: orders}\n"
        "target: {system: prestashop, resource: orders}\nfields:\n  refrence: reference\n"
    )
    result = runner.invoke(flow_app, ["lint", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{tmp_path / 'm.yaml'}:5: fields.refrence: unknown target field 'refrence'" in result.output


def test_copy_change_lint_and_test_run_a_flow(tmp_path: Path) -> None:
    """The user story of the issue: copy a flow, change a lookup table and add a rule, lint it,
    test-run it on a sample, and get a new version id."""
    from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry

    (tmp_path / "mappings").mkdir()
    (tmp_path / "ps_order_to_ax.yaml").write_text((DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text())
    mapping = (DEFAULT_FLOWS_DIR / "mappings" / "ps_order_to_ax_sales_order.yaml").read_text()
    mapping = mapping.replace('"UPS Standard": UPS}', '"UPS Standard": UPS, "Colissimo": COLIS}')
    mapping = mapping.replace(
        '      - if: "total_paid / conversion_rate > params.high_value_threshold"\n        then: HIGHVAL\n',
        '      - if: "total_paid / conversion_rate > params.high_value_threshold"\n        then: HIGHVAL\n'
        "      - if: \"country_delivery.iso_code == 'CH'\"\n        then: SWISS\n",
    )
    (tmp_path / "mappings" / "ps_order_to_ax_sales_order.yaml").write_text(mapping)
    assert runner.invoke(flow_app, ["lint", str(tmp_path)]).exit_code == 0

    sample = json.loads((CASES / "ps_order_to_ax_sales_order" / "normal_order.input.json").read_text())
    sample["record"].update(carrier={"name": "Colissimo"}, country_delivery={"iso_code": "CH"})
    (tmp_path / "sample.json").write_text(json.dumps(sample))
    result = runner.invoke(
        flow_app,
        [
            "test",
            "ps_order_to_ax",
            "--dir",
            str(tmp_path),
            "--input",
            str(tmp_path / "sample.json"),
            "--json",
        ],
    )
    data = json.loads(result.output)
    order = next(s for s in data["steps"] if s["id"] == "map-order")["output"]
    assert (
        order["DlvMode"] == "COLIS"
        and order["CustGroup"] == "SWISS"
        and order["TableDlvAddr"]["CountryRegionId"] == "CHE"
    )
    assert data["version_id"] != FlowRegistry().get("ps_order_to_ax").version_id
