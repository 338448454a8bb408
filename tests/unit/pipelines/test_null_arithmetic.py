"""Arithmetic on null follows one rule in both compiled forms (a mapping field, a standalone step
expression): a null operand of arithmetic or of an order comparison, or a zero divisor, is an
OperandError naming the operation and the operand, reported as a MappingError — never a Python
TypeError. Equality and membership take null as a value. Checks are emitted only for operands
that may be null."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import MappingError
from pipelines.compiled import OperandError
from pipelines.compiler import compile_expression
from pipelines.specs import Step
from pipelines.steps import run_guard, run_validate, step_applies
from tests.unit.pipelines.support import mapping

pytestmark = pytest.mark.unit


def evaluate(text: str, record: dict[str, Any]) -> Any:
    return compile_expression(text)(record, {})


@pytest.mark.parametrize(
    "text, record, message",
    [
        (
            "total_paid / conversion_rate",
            {"total_paid": "100"},
            "total_paid / conversion_rate: conversion_rate is null",
        ),
        (
            "total_paid / conversion_rate",
            {"conversion_rate": "1"},
            "total_paid / conversion_rate: total_paid is null",
        ),
        ("total_paid / conversion_rate", {}, "total_paid / conversion_rate: total_paid is null"),
        (
            "total_paid / conversion_rate",
            {"total_paid": "1", "conversion_rate": "0.000000"},
            "total_paid / conversion_rate: conversion_rate is zero (division by zero)",
        ),
        ("a // b", {"a": 7, "b": 0}, "a // b: b is zero (division by zero)"),
        ("a % b", {"a": 7, "b": "0"}, "a % b: b is zero (division by zero)"),
        ("price * quantity", {"price": "2.50"}, "price * quantity: quantity is null"),
        ("a + b - c", {"a": 1, "b": 2}, "a + b - c: c is null"),
        ("(a + b) * 2", {"b": 2}, "a + b: a is null"),
        ("-discount", {}, "-discount: discount is null"),
        ("total_paid > 1000", {}, "total_paid > 1000: total_paid is null"),
        ("0 < qty <= limit", {"qty": 3}, "0 < qty <= limit: limit is null"),
        ("'Order ' + reference", {}, "'Order ' + reference: reference is null"),
        ("x / params.rate", {"x": 1}, "x / params.rate: params.rate is null"),
        ("x / count(rows)", {"x": 1}, "x / count(rows): count(rows) is zero (division by zero)"),
    ],
)
def test_a_null_operand_or_zero_divisor_is_a_named_error(
    text: str, record: dict[str, Any], message: str
) -> None:
    with pytest.raises(MappingError) as err:
        evaluate(text, record)
    assert err.value.message == f"The expression {text!r} cannot be evaluated on this record: {message}."
    assert err.value.code == "expression_failed"


@pytest.mark.parametrize(
    "text, record, expected",
    [
        (
            "total_paid / conversion_rate",
            {"total_paid": "250.000000", "conversion_rate": "1.25"},
            Decimal("200"),
        ),
        ("a // b + a % b", {"a": 7, "b": 2}, 4),
        ("-discount", {"discount": "1.5"}, Decimal("-1.5")),
        ("x / max(y, 1)", {"x": "6", "y": None}, Decimal("6")),  # max(y, 1) is never null nor zero
        ("count(rows) * 2", {}, 0),  # count() of a missing list is 0, never null
        ("coalesce(rate, 1) * 3", {}, 3),
        ("x == null", {}, True),  # equality takes null as a value
        ("x != null and x > 5", {}, False),  # the documented way to accept a missing value
        ("x in [1, 2]", {}, False),
        ("not x", {}, True),
    ],
)
def test_values_and_null_as_a_value(text: str, record: dict[str, Any], expected: Any) -> None:
    assert evaluate(text, record) == expected


def test_text_that_is_no_number_is_still_reported_as_such() -> None:
    # named as a conversion failure of the expression, without the text itself: a rule may read
    # a personal field, and this error goes to the dead-letter queue and the logs
    with pytest.raises(MappingError, match=r"total_paid / conversion_rate.*a value cannot be converted") as err:
        evaluate("total_paid / conversion_rate", {"total_paid": "1", "conversion_rate": "jane@example.com"})
    assert "jane" not in str(err.value)


def test_checks_are_emitted_only_where_an_operand_may_be_null() -> None:
    def source(text: str) -> str:
        cm = mapping({"SalesId": {"const": "S"}, "Qty": {"expr": text}})
        return cm.source_code

    assert "_opfail" not in source("count(rows) * 2 + 1")
    assert "_opfail" not in source("count(rows) / max(n, 1)")  # never null, never zero
    assert "_opfail" not in source("sum_of(rows, 'qty') * 2 > 3")

    def checked_line(text: str) -> str:
        return next(line for line in source(text).splitlines() if "_opfail" in line)

    only_left = checked_line("x / max(y, 1)")
    assert only_left.count("is None") == 1 and "not (" not in only_left
    both = checked_line("total_paid / conversion_rate")
    assert both.count("is None") == 1 and both.count("not (") == 1  # the divisor: null or zero


def test_in_a_mapping_the_error_names_the_mapping_record_field_and_operation() -> None:
    cm = mapping(
        {"SalesId": {"from": "reference", "required": True}, "Qty": {"expr": "total_paid / conversion_rate"}}
    )
    assert cm({"reference": "REF1", "total_paid": "10", "conversion_rate": "2"})["Qty"] == Decimal("5")
    with pytest.raises(MappingError) as err:
        cm({"reference": "REF1", "total_paid": "10"})
    assert err.value.message == (
        "Mapping t failed on orders 'REF1', target field Qty: "
        "total_paid / conversion_rate: conversion_rate is null."
    )


def test_in_a_mapping_case_condition_the_rule_applies_too() -> None:
    cm = mapping(
        {
            "SalesId": {"const": "S"},
            "Qty": {"cases": [{"if": "total_paid / conversion_rate > 100", "then": "big"}], "else": "small"},
        }
    )
    assert cm({"total_paid": "500", "conversion_rate": "2"})["Qty"] == "big"
    with pytest.raises(
        MappingError, match=r"target field Qty: total_paid / conversion_rate: conversion_rate is zero"
    ):
        cm({"total_paid": "500", "conversion_rate": "0"})


def test_a_sensitive_field_still_says_which_operand_without_its_value() -> None:
    cm = mapping({"SalesId": {"const": "S"}, "Email": {"expr": "'x' + email", "mask": "email"}})
    with pytest.raises(MappingError) as err:
        cm({})
    assert "'x' + email: email is null" in err.value.message


def test_operand_errors_are_value_errors_with_no_values_in_them() -> None:
    with pytest.raises(MappingError) as err:
        evaluate("secret_total / divisor", {"secret_total": "987654.32", "divisor": 0})
    assert "987654" not in err.value.message
    assert issubclass(OperandError, ValueError)


def test_step_expressions_say_which_step_and_rule() -> None:
    guard = Step.model_validate(
        {
            "id": "guard",
            "kind": "guard",
            "rules": [
                {"if": "int(current_state) in [6, 8]", "action": "drop", "reason": "canceled"},
                {"if": "total_paid / conversion_rate > 20000", "action": "hold", "reason": "big order"},
            ],
        }
    )
    state = {"record": {"current_state": "2", "total_paid": "30000.00", "conversion_rate": "1.0"}}
    verdict = run_guard(guard, state, {})
    assert verdict is not None and verdict.action == "hold" and verdict.rule == 1
    del state["record"]["conversion_rate"]
    with pytest.raises(MappingError) as err:
        run_guard(guard, state, {})
    assert err.value.message.startswith(
        "Step 'guard', rule 2: The expression 'total_paid / conversion_rate > 20000'"
    )
    assert err.value.message.endswith("total_paid / conversion_rate: conversion_rate is null.")
    when = Step.model_validate(
        {
            "id": "big",
            "kind": "guard",
            "when": "total / n > 1",
            "rules": [{"if": "true", "action": "hold", "reason": "r"}],
        }
    )
    with pytest.raises(MappingError, match=r"^Step 'big', when: .*total / n: n is null"):
        step_applies(when, {"record": {"total": 3}}, {})


def test_validation_rules_follow_the_rule(tmp_path: Any) -> None:
    from pipelines.registry import DEFAULT_FLOWS_DIR, load_flow_bundle

    flow = load_flow_bundle(DEFAULT_FLOWS_DIR / "ps_order_to_ax.yaml")
    step = Step.model_validate(
        {
            "id": "check",
            "kind": "validate",
            "inputs": ["sales_order"],
            "rules": [
                {"check": "count(SalesLine) > 0", "input": "sales_order", "message": "lines"},
                {"check": "SalesQty / Lines > 0", "input": "sales_order", "message": "per line"},
            ],
        }
    )
    with pytest.raises(MappingError, match=r"^Step 'check', rule 2: .*SalesQty / Lines: SalesQty is null"):
        run_validate(flow, step, {"record": {}, "sales_order": {"SalesLine": [{}]}}, {})
