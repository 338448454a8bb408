"""`presta-ax flow test` on incomplete records ends in a readable verdict (never a traceback),
and every default flow ships a sample that test-runs cleanly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines.cli import flow_app
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry
from pipelines.testrun import load_sample, run_flow_test, sample_path

pytestmark = pytest.mark.unit

runner = CliRunner()
SAMPLES = DEFAULT_FLOWS_DIR / "samples"


def order_sample() -> dict:
    return json.loads((SAMPLES / "ps_order_to_ax.json").read_text(encoding="utf-8"))


def flow_test(tmp_path: Path, sample: object, *extra: str) -> tuple[int, str]:
    path = tmp_path / "sample.json"
    path.write_text(json.dumps(sample))
    result = runner.invoke(
        flow_app, ["test", "ps_order_to_ax", "--input", str(path), *extra], env={"COLUMNS": "250"}
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_an_empty_record_fails_the_guard_with_the_reason(tmp_path: Path) -> None:
    code, output = flow_test(tmp_path, {})
    assert code == 1  # a failed step, as the command's help says
    assert "Traceback" not in output and "TypeError" not in output
    assert "guard (guard): failed" in output
    assert "total_paid / conversion_rate: total_paid is null" in output
    assert "Outcome: failed" in output


def test_an_order_without_conversion_rate_names_the_missing_field(tmp_path: Path) -> None:
    sample = order_sample()
    del sample["record"]["conversion_rate"]
    code, output = flow_test(tmp_path, sample, "--json")
    assert code == 1
    result = json.loads(output)
    guard = next(s for s in result["steps"] if s["id"] == "guard")
    assert guard["status"] == "failed"
    assert guard["error"]["type"] == "MappingError" and guard["error"]["code"] == "expression_failed"
    assert guard["error"]["message"] == (
        "Step 'guard', rule 2: The expression 'total_paid / conversion_rate > 20000' cannot be evaluated "
        "on this record: total_paid / conversion_rate: conversion_rate is null."
    )
    assert [s["status"] for s in result["steps"][2:]] == ["not_reached"] * (len(result["steps"]) - 2)


def test_a_zero_conversion_rate_is_named_too(tmp_path: Path) -> None:
    sample = order_sample()
    sample["record"]["conversion_rate"] = "0.000000"
    code, output = flow_test(tmp_path, sample)
    assert code == 1 and "conversion_rate is zero (division by zero)" in output


def test_the_shipped_order_sample_passes_through_the_cli(tmp_path: Path) -> None:
    code, output = flow_test(tmp_path, order_sample())
    assert code == 0, output
    assert "Outcome: passed" in output and "jane.doe@example.com" not in output  # masked


@pytest.mark.parametrize("name", sorted(FlowRegistry([]).flows()))
def test_every_default_flow_has_a_sample_that_passes(name: str) -> None:
    flow = FlowRegistry([]).get(name)
    path = sample_path(flow)
    assert path == SAMPLES / f"{name}.json", f"no sample shipped for the default flow {name}"
    result = run_flow_test(flow, load_sample(path))
    assert result["outcome"] == "passed", json.dumps(result, indent=1)
    assert any(s["status"] == "ok" and s["kind"] == "map" for s in result["steps"])


def test_every_sample_belongs_to_a_default_flow() -> None:
    names = set(FlowRegistry([]).flows())
    assert {p.stem for p in SAMPLES.glob("*.json")} <= names


def test_a_sample_that_is_no_json_object_is_a_clear_error(tmp_path: Path) -> None:
    from connectors.errors import ConfigError

    bad = tmp_path / "s.json"
    bad.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="must be a JSON object"):
        load_sample(bad)
    bad.write_text("{")
    with pytest.raises(ConfigError, match="cannot be read as JSON"):
        load_sample(bad)


def test_without_input_the_flow_runs_on_its_shipped_sample() -> None:
    result = runner.invoke(flow_app, ["test", "ps_order_to_ax", "--json"], env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["outcome"] == "passed"  # --json prints one JSON document
    shown = runner.invoke(flow_app, ["test", "ps_order_to_ax"], env={"COLUMNS": "250"})
    assert shown.exit_code == 0 and "Outcome: passed" in shown.output
    assert "samples/ps_order_to_ax.json" in shown.output


def test_without_input_a_flow_file_with_no_sample_is_a_clear_error(tmp_path: Path) -> None:
    flow = tmp_path / "mine.yaml"
    flow.write_text((DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml").read_text(encoding="utf-8")
                    .replace("flow: ps_order_to_ax", "flow: mine"), encoding="utf-8")
    result = runner.invoke(flow_app, ["test", str(flow), "--dir", str(DEFAULT_FLOWS_DIR)],
                           env={"COLUMNS": "250"})
    assert result.exit_code == 2
    assert "No --input given, and flow mine ships no sample" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
