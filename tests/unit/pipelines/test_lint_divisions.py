"""Lint warns where a rule or a mapping expression divides by a field that may be missing (not
required in the source schema, a context fact, a record of unknown shape): such a record fails
with a null operand at run time. A required field, or a divisor that can never be null, is quiet."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lint import Problem, lint_paths

pytestmark = pytest.mark.unit

FLOW = """\
flow: divisions
entity: order
triggers:
  - {type: webhook, source: prestashop, event: order.created}
steps:
  - {id: extract, kind: extract, system: prestashop, operation: orders.get}
  - id: guard
    kind: guard
    rules:
      - {if: "total_paid / conversion_rate > 20000", action: hold, reason: required divisor}
      - {if: "total_paid / total_shipping > 50", action: hold, reason: optional divisor}
      - {if: "total_paid / coalesce(total_discounts, 1) > 50", action: hold, reason: defaulted}
      - {if: "total_paid / num(context.rate) > 50", action: hold, reason: context fact}
      - {if: "total_paid % max(total_wrapping, 1) > 50", action: hold, reason: never zero}
  - {id: map, kind: map, mapping: ps_order_to_ax_sales_order, output: sales_order}
  - {id: load, kind: load, system: ax, operation: SalesOrderService.create, input: sales_order}
"""

FLOW_WITHOUT_EXTRACT = """\
flow: payload_only
entity: order
triggers:
  - {type: webhook, source: prestashop, event: order.updated}
steps:
  - {id: guard, kind: guard, rules: [{if: "amount / rate > 1", action: drop, reason: r}]}
  - {id: map, kind: map, mapping: ps_order_to_ax_sales_order, output: sales_order}
  - {id: load, kind: load, system: ax, operation: SalesOrderService.create, input: sales_order}
"""

MAPPING = """\
mapping: order_ratio
source: {system: prestashop, resource: orders}
target: {system: ax, service: SalesOrderService, entity: SalesTable}
fields:
  CustAccount: {const: C1}
  PurchOrderFormNum: reference
  SalesName: {expr: "str(total_paid / carrier_tax_rate)"}
  DeliveryName: {expr: "str(total_paid / conversion_rate)"}
children:
  SalesLine:
    each: associations.order_rows
    fields:
      ItemId: product_reference
      SalesQty: {expr: "product_quantity // parent.total_wrapping"}
"""


def divisions(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if "divides by" in p.message]


def test_a_guard_dividing_by_a_field_that_may_be_missing_is_warned(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(FLOW)
    found = {p.path: p for p in divisions(lint_paths([tmp_path / "f.yaml"]))}
    assert set(found) == {"steps[1].rules[1].if", "steps[1].rules[3].if"}
    optional = found["steps[1].rules[1].if"]
    assert optional.severity == "warning" and optional.line == 11
    assert optional.message == (
        "'total_paid / total_shipping' divides by 'total_shipping', which may be missing (it is not a "
        "required field of orders): a record without it fails with 'total_shipping is null'; test it "
        "first (total_shipping != null and ...) or give a default (coalesce(total_shipping, 1))"
    )
    assert (
        "context facts are present only when the runtime supplies them"
        in found["steps[1].rules[3].if"].message
    )


def test_a_record_of_unknown_shape_may_lack_any_divisor(tmp_path: Path) -> None:
    (tmp_path / "f.yaml").write_text(FLOW_WITHOUT_EXTRACT)
    (warning,) = divisions(lint_paths([tmp_path / "f.yaml"]))
    assert warning.path == "steps[0].rules[0].if"
    assert "the fields of the message payload are not known here" in warning.message


def test_mapping_expressions_dividing_by_optional_fields_are_warned(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(MAPPING)
    problems = lint_paths([tmp_path / "m.yaml"])
    found = {p.path: p for p in divisions(problems)}
    assert set(found) == {"fields.SalesName.expr", "children.SalesLine.fields.SalesQty.expr"}
    assert "'carrier_tax_rate'" in found["fields.SalesName.expr"].message
    assert "'parent.total_wrapping'" in found["children.SalesLine.fields.SalesQty.expr"].message
    assert all(p.severity == "warning" for p in found.values())


def test_the_default_flows_divide_only_by_fields_that_are_always_there() -> None:
    from pipelines.registry import DEFAULT_FLOWS_DIR

    assert divisions(lint_paths([DEFAULT_FLOWS_DIR])) == []
