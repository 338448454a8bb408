"""Loading flow and mapping files: errors name the file, the line and the path."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.errors import ConfigError
from pipelines.specs import load_flow, load_mapping

pytestmark = pytest.mark.unit

MAPPING = """\
mapping: m
source: {system: prestashop, resource: orders}
target: {system: ax, service: SalesOrderService, entity: SalesTable}
fields:
  PurchOrderFormNum: reference
  SalesName:
    from: name
    expr: "upper(name)"
  Email: {from: email, mask: secret}
"""


def test_mapping_errors_carry_file_line_and_path(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING)
    with pytest.raises(ConfigError) as err:
        load_mapping(path)
    problems = err.value.problems
    assert any(p.startswith(f"{path}:6: fields.SalesName: give only one of from, expr") for p in problems), (
        problems
    )
    assert any(
        p.startswith(f"{path}:9: fields.Email.mask: ") and "unknown mask 'secret'" in p for p in problems
    ), problems


def test_yaml_syntax_errors_give_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("flow: x\nsteps:\n  - id: a\n   kind: map\n")
    with pytest.raises(ConfigError) as err:
        load_flow(path)
    assert err.value.problems[0].startswith(f"{path}:4: YAML syntax error")


def test_step_kinds_need_their_settings(tmp_path: Path) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(
        "flow: f\nentity: order\ntriggers: [{type: bulk}]\nsteps:\n  - {id: m, kind: map}\n"
        "  - {id: g, kind: guard, rules: [{if: 'x', action: explode, reason: r}]}\n"
    )
    with pytest.raises(ConfigError) as err:
        load_flow(path)
    text = "\n".join(err.value.problems)
    assert f"{path}:5: steps[0]: a map step needs 'mapping' and 'output'" in text
    assert f"{path}:6: steps[1]" in text


def test_yaml_floats_are_exact_decimals(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(MAPPING.split("  SalesName")[0] + "params: {rate: 1.1}\n")
    assert str(load_mapping(path).params["rate"]) == "1.1"
