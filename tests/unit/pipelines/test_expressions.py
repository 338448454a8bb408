"""The expression language: what is allowed, what is refused, and how values are read."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.errors import ConfigError
from pipelines.compiler import compile_expression
from pipelines.expressions import ExpressionError, parse_expression

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("__import__('os')", "unknown function '__import__'"),
        ("__import__('os').system('true')", "only the listed functions"),
        ("(lambda: 1)()", "only the listed functions"),
        ("[x for x in rows]", "ListComp is not allowed"),
        ("upper(name, x=1)", "positional arguments only"),
        ("name.upper()", "only the listed functions"),
        ("a ** 2", "Pow is not allowed"),
        ("uper(name)", "did you mean 'upper'"),
        ("total_paid >", "syntax error"),
        ("rows[i]", "only a fixed position or key"),
        ("lookup(table, x)", "table name in quotes"),
    ],
)
def test_refused_expressions_say_why(text: str, fragment: str) -> None:
    with pytest.raises(ExpressionError) as err:
        parse_expression(text)
    assert fragment in str(err.value)


def test_field_references_are_collected_with_their_roots() -> None:
    parsed = parse_expression(
        "total_paid / conversion_rate > params.limit and customer.email != None and context.x"
    )
    assert ("src", ("total_paid",)) in parsed.refs
    assert ("src", ("customer", "email")) in parsed.refs
    assert ("params", ("limit",)) in parsed.refs
    assert ("context", ("x",)) in parsed.refs


def test_constant_expressions_are_recognised() -> None:
    assert parse_expression("false").is_constant and parse_expression("false").constant_value() is False
    assert parse_expression("not true").constant_value() is False
    assert not parse_expression("x == 1").is_constant


def test_numbers_in_text_compare_as_numbers() -> None:
    f = compile_expression("total_paid > 1000")
    assert f({"total_paid": "1250.000000"}, {}) is True
    assert f({"total_paid": "999.990000"}, {}) is False
    # decimals stay exact: 0.1 + 0.2 is 0.3 here
    assert compile_expression("a + b == 0.3")({"a": "0.1", "b": "0.2"}, {}) is True


def test_text_addition_and_membership_stay_textual() -> None:
    assert compile_expression("'PS-' + str(id)")({"id": 7}, {}) == "PS-7"
    assert compile_expression("state in ['2', '3']")({"state": "3"}, {}) is True


def test_missing_fields_read_as_none_at_any_depth() -> None:
    f = compile_expression("coalesce(customer.address.city, 'unknown')")
    assert f({}, {}) == "unknown"
    assert f({"customer": None}, {}) == "unknown"


def test_context_params_and_computed_attributes() -> None:
    f = compile_expression("first(rows).name if context.enabled else params.fallback", {"fallback": "none"})
    assert f({"rows": [{"name": "a"}, {"name": "b"}]}, {"enabled": True}) == "a"
    assert f({"rows": []}, {"enabled": False}) == "none"


def test_arithmetic_on_function_results_reads_numbers() -> None:
    f = compile_expression("coalesce(price, base) - base")
    assert f({"price": "31.50", "base": "29.00"}, {}) == Decimal("2.50")


def test_invalid_expression_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        compile_expression("import os")
    with pytest.raises(ConfigError, match="only available inside a mapping"):
        compile_expression("lookup('t', x)")
