"""Lint rules in detail: unmapped required target fields, unreachable steps, time zones."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.lint import Problem, lint_paths

pytestmark = pytest.mark.unit


def lint_text(tmp_path: Path, text: str, name: str = "m.yaml") -> list[Problem]:
    (tmp_path / name).write_text(text)
    return [p for p in lint_paths([tmp_path / name]) if p.severity == "error"]


def messages(problems: list[Problem]) -> list[str]:
    return [f"{p.line}: {p.path}: {p.message}" for p in problems]


ORDER_HEAD = """\
mapping: m
source: {system: prestashop, resource: orders}
target: {system: ax, service: SalesOrderService, entity: SalesTable}
"""


def test_unmapped_required_fields_of_the_record_and_of_its_lines(tmp_path: Path) -> None:
    problems = lint_text(
        tmp_path,
        ORDER_HEAD
        + "fields:\n"
        + "  PurchOrderFormNum: reference\n"
        + "children:\n"
        + "  SalesLine:\n"
        + "    each: associations.order_rows\n"
        + "    fields:\n"
        + "      ItemId: product_reference\n"
        + "      SalesUnit: {const: pcs}\n",
    )
    assert messages(problems) == [
        "4: fields: required target field 'ReceiptDateRequested' of SalesOrderService.SalesTable is not mapped",
        "9: children.SalesLine.fields: required target field 'SalesQty' of SalesOrderService.SalesLine "
        "is not mapped",
    ]


def test_required_fields_count_as_mapped_by_a_constant_a_default_or_an_expression(tmp_path: Path) -> None:
    problems = lint_text(
        tmp_path,
        ORDER_HEAD
        + "fields:\n"
        + "  PurchOrderFormNum: {default: WEB}\n"
        + "  ReceiptDateRequested: {expr: \"'2024-01-01'\"}\n",
    )
    assert problems == []


def test_a_required_field_owned_by_the_other_system_is_not_mapped(tmp_path: Path) -> None:
    problems = lint_text(
        tmp_path,
        "mapping: c\nsource: {system: prestashop, resource: customers}\n"
        "target: {system: ax, service: CustomerService, entity: CustTable}\n"
        "fields:\n"
        "  AccountNum: {from: id}\n"
        "  CustGroup: {const: RETAIL, owner: ax}\n",
    )
    assert any(
        "required target field 'CustGroup' of CustomerService.CustTable is not mapped (its rule is owned "
        "by ax, so mapping from prestashop never writes it)" in m
        for m in messages(problems)
    ), messages(problems)
    # owned by the side the mapping reads from: written, so nothing to report about it
    fixed = lint_text(
        tmp_path,
        (tmp_path / "m.yaml").read_text().replace("owner: ax", "owner: prestashop"),
    )
    assert not any("CustGroup" in m for m in messages(fixed)), messages(fixed)


def test_required_fields_of_a_prestashop_target(tmp_path: Path) -> None:
    product = lint_text(
        tmp_path,
        "mapping: p\nsource: {system: ax, service: ItemService, entity: InventTable}\n"
        "target: {system: prestashop, resource: products}\nfields:\n  reference: ItemId\n",
        "p.yaml",
    )
    assert messages(product) == ["4: fields: required target field 'price' of products is not mapped"]


FLOW_HEAD = """\
flow: f
entity: order
triggers:
  - {type: webhook, source: prestashop, event: order.created}
steps:
  - {id: extract, kind: extract, system: prestashop, operation: orders.get}
"""
MAP = "  - {id: map, kind: map, mapping: ps_order_to_ax_sales_order, output: sales_order}\n"
LOAD = (
    "  - {id: load, kind: load, system: ax, operation: SalesOrderService.create, mode: create, "
    "input: sales_order}\n"
)


@pytest.mark.parametrize("action", ["drop", "hold", "fail"])
def test_steps_after_a_guard_that_always_stops_are_unreachable(tmp_path: Path, action: str) -> None:
    guard = f"  - {{id: stop, kind: guard, rules: [{{if: 'true', action: {action}, reason: r}}]}}\n"
    problems = lint_text(tmp_path, FLOW_HEAD + guard + MAP + LOAD, "f.yaml")
    assert messages(problems) == [
        "8: steps[2]: unreachable step 'map': the guard at steps[1] always stops the record",
        "9: steps[3]: unreachable step 'load': the guard at steps[1] always stops the record",
    ]


def test_guards_that_may_pass_leave_the_next_steps_reachable(tmp_path: Path) -> None:
    rules = [
        "[{if: 'false', action: drop, reason: never}]",
        "[{if: 'int(current_state) == 6', action: drop, reason: canceled}]",
    ]
    for rule in rules:
        guard = f"  - {{id: g, kind: guard, rules: {rule}}}\n"
        assert lint_text(tmp_path, FLOW_HEAD + guard + MAP + LOAD, "f.yaml") == [], rule
    # a guard that always stops, but only runs when its condition holds
    guard = (
        "  - {id: g, kind: guard, when: 'total_paid > 0', rules: [{if: 'true', action: hold, reason: r}]}\n"
    )
    assert lint_text(tmp_path, FLOW_HEAD + guard + MAP + LOAD, "f.yaml") == []


def test_a_step_whose_condition_is_always_false_is_unreachable(tmp_path: Path) -> None:
    never = MAP.replace("output: sales_order}", "output: sales_order, when: 'not true'}")
    problems = lint_text(tmp_path, FLOW_HEAD + never + LOAD, "f.yaml")
    assert messages(problems) == ["7: steps[1].when: unreachable step 'map': its condition is always false"]


def test_a_load_of_a_document_that_no_earlier_step_produces(tmp_path: Path) -> None:
    problems = lint_text(tmp_path, FLOW_HEAD + LOAD + MAP, "f.yaml")
    assert messages(problems) == ["7: steps[1].input: input 'sales_order' is only produced by a later step"]


def test_time_zones_must_be_known(tmp_path: Path) -> None:
    problems = lint_text(
        tmp_path,
        ORDER_HEAD
        + "params: {shop_tz: Europe/Pariss}\n"
        + "fields:\n"
        + "  PurchOrderFormNum: reference\n"
        + "  ReceiptDateRequested:\n"
        + "    from: date_add\n"
        + "    convert: {to: date, from_format: '%Y-%m-%d %H:%M:%S', from_tz: params.shop_tz, to_tz: UTC}\n"
        + "  Deadline:\n"
        + "    from: date_add\n"
        + "    convert: {to: datetime, from_tz: params.shop_zone, to_tz: Mars/Olympus}\n",
    )
    assert messages(problems) == [
        "9: fields.ReceiptDateRequested.convert.from_tz: unknown time zone 'Europe/Pariss' "
        "(use an IANA name such as 'Europe/Paris', or 'UTC')",
        "12: fields.Deadline.convert.from_tz: unknown parameter 'params.shop_zone' — did you mean 'shop_tz'?",
        "12: fields.Deadline.convert.to_tz: unknown time zone 'Mars/Olympus' "
        "(use an IANA name such as 'Europe/Paris', or 'UTC')",
    ]
