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
