"""Golden mapping tests: every ``tests/mappings/<mapping>/<case>.input.json`` is mapped and
validated, and the result must equal ``<case>.expected.json`` (see ``pipelines.golden``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.golden import compare, run_case
from pipelines.registry import DEFAULT_FLOWS_DIR

pytestmark = pytest.mark.unit

CASES_DIR = Path(__file__).resolve().parents[2] / "mappings"
CASES = sorted(CASES_DIR.glob("*/*.input.json"))


def _case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.input.json')}"


@pytest.mark.parametrize("input_path", CASES, ids=[_case_id(p) for p in CASES])
def test_golden_case(input_path: Path) -> None:
    expected_path = input_path.with_name(input_path.name.replace(".input.json", ".expected.json"))
    assert expected_path.is_file(), f"{_case_id(input_path)} has no expected file"
    actual = run_case(input_path.parent.name, json.loads(input_path.read_text(encoding="utf-8")))
    diffs = compare(actual, json.loads(expected_path.read_text(encoding="utf-8")))
    assert not diffs, "\n".join(diffs)


def test_every_default_mapping_has_golden_cases() -> None:
    mappings = {p.stem for p in (DEFAULT_FLOWS_DIR / "mappings").glob("*.yaml")}
    covered = {p.parent.name for p in CASES}
    assert mappings <= covered, f"mappings without golden cases: {sorted(mappings - covered)}"


def test_order_mapping_covers_the_required_situations() -> None:
    names = {
        p.name.removesuffix(".input.json")
        for p in (CASES_DIR / "ps_order_to_ax_sales_order").glob("*.input.json")
    }
    for needed in (
        "normal_order",
        "high_value_order",
        "multi_currency_below_threshold",
        "multi_currency_high_value",
        "missing_optional_data",
        "unmapped_country",
        "over_long_strings",
    ):
        assert needed in names


def test_compare_reports_a_changed_value() -> None:
    expected = {"output": {"a": "1", "b": [{"c": "2"}]}}
    assert compare({"output": {"a": "1", "b": [{"c": "3"}]}}, expected) == [
        "output.b[0].c: expected '2', got '3'"
    ]
    assert compare({"error": {"type": "MappingError"}}, expected)
