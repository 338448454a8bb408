"""Conversion and helper functions used by compiled mappings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from pipelines import functions as fn

pytestmark = pytest.mark.unit


def test_num_reads_prestashop_strings_exactly() -> None:
    assert fn.num("19.900000") == Decimal("19.9")
    assert fn.num(" 3 ") == Decimal("3")
    assert fn.num("") is None and fn.num(None) is None
    assert fn.num(0.1) == Decimal("0.1")
    with pytest.raises(ValueError, match="is not a number"):
        fn.num("12,5")


@pytest.mark.parametrize(
    "value, places, rounding, expected",
    [
        ("2.345", 2, "half_up", "2.35"),
        ("2.345", 2, "half_even", "2.34"),
        ("2.349", 2, "down", "2.34"),
        ("-2.345", 2, "half_up", "-2.35"),
        ("2.341", 2, "ceiling", "2.35"),
        ("19.12", 6, "half_up", "19.120000"),
    ],
)
def test_decimal_rounding_is_explicit(value: str, places: int, rounding: str, expected: str) -> None:
    assert str(fn.to_decimal(value, places, rounding)) == expected
    assert str(fn.decimal_converter(places, rounding)(value)) == expected


def test_int_conversion_rounds_with_the_named_mode() -> None:
    assert fn.to_int("2.5") == 3
    assert fn.to_int("2.5", "half_even") == 2
    assert fn.to_int("16.5", "floor") == 16
    assert fn.to_int("42") == 42


def test_shop_local_dates_become_utc_with_daylight_saving() -> None:
    winter = fn.parse_datetime("2024-01-15 00:30:00", "%Y-%m-%d %H:%M:%S", "Europe/Paris")
    summer = fn.parse_datetime("2024-07-01 01:30:00", "%Y-%m-%d %H:%M:%S", "Europe/Paris")
    assert fn.format_datetime(winter, "iso", "UTC") == "2024-01-14T23:30:00Z"
    assert fn.format_datetime(summer, "%Y-%m-%d", "UTC") == "2024-06-30"
    assert fn.parse_datetime("0000-00-00 00:00:00", "%Y-%m-%d %H:%M:%S", "UTC") is None
    back = fn.parse_datetime("2024-06-30T23:30:00Z", None, "UTC")
    assert fn.format_datetime(back, "%Y-%m-%d %H:%M:%S", "Europe/Paris") == "2024-07-01 01:30:00"
    with pytest.raises(ValueError, match="does not match the date format"):
        fn.parse_datetime("01/07/2024", "%Y-%m-%d", "UTC")


def test_booleans_and_noyes_both_ways() -> None:
    assert fn.to_noyes("1") == "Yes" and fn.to_noyes("0") == "No" and fn.to_noyes(None) is None
    assert fn.from_noyes("Yes") == "1" and fn.from_noyes("No") == "0"
    assert fn.to_bool01("true") == "1"
    with pytest.raises(ValueError):
        fn.to_noyes("maybe")


def test_splitting_and_joining_text() -> None:
    block = "12 rue de la Paix\nBâtiment B\n3e étage"
    assert fn.split_part(block, "\n", 0) == "12 rue de la Paix"
    assert fn.rest_parts(block, "\n", 1) == "Bâtiment B 3e étage"
    assert fn.split_part(block, "\n", 5) is None
    assert fn.split_name("Jane Mary Doe", "first") == "Jane Mary"
    assert fn.split_name("Jane Mary Doe", "last") == "Doe"
    assert fn.split_name("Prince", "first") is None
    assert fn.join(" ", ["Jane", None, " ", "Doe"]) == "Jane Doe"
    assert fn.wrap_part("aaa bbb ccc", 7, 0) == "aaa bbb" and fn.wrap_part("aaa bbb ccc", 7, 1) == "ccc"
    assert fn.wrap_part("aaa", 7, 1) is None


def test_aggregation_over_rows() -> None:
    rows = [{"q": "1.5", "d": {"w": "A"}}, {"q": "2", "d": {"w": "B"}}, {"q": None, "d": {"w": "A"}}]
    assert fn.sum_of(rows, "q") == Decimal("3.5")
    assert fn.sum_of(fn.where_in(rows, "d.w", ["A"]), "q") == Decimal("1.5")
    assert fn.count(rows) == 3 and fn.count(None) == 0
    assert fn.where_eq(rows, "q", 2) == [rows[1]]


def test_multilingual_values_fill_every_shop_language() -> None:
    rows = [{"LanguageId": "en-us", "Name": "Mug"}, {"LanguageId": "FR", "Name": "Tasse"}]
    out = fn.lang_values(rows, "LanguageId", "Name", {"en-us": 1, "fr": "2", "de": "3"}, "en-us")
    assert out == [{"id": "1", "value": "Mug"}, {"id": "2", "value": "Tasse"}, {"id": "3", "value": "Mug"}]
    # a different value field on the same rows (the index is reused, the values are not)
    assert fn.lang_values(rows, "LanguageId", "LanguageId", {"fr": "2"}, "en-us") == [
        {"id": "2", "value": "FR"}
    ]


def test_slug() -> None:
    assert fn.slug("T-shirt imprimé « colibri »!") == "t-shirt-imprime-colibri"
    assert fn.slug_values([{"id": "1", "value": "Ça va"}]) == [{"id": "1", "value": "ca-va"}]


def test_currency_conversion() -> None:
    assert fn.convert_currency("1100", "1.2", "divide", 2, "half_up") == Decimal("916.67")
    assert fn.convert_currency("10", "0.92", "multiply", 2, "half_up") == Decimal("9.20")
    assert fn.convert_currency(None, "1.2", "divide", 2, "half_up") is None
    with pytest.raises(ValueError, match="rate is zero"):
        fn.convert_currency("10", "0", "divide", 2, "half_up")


@pytest.mark.parametrize(
    "text, fmt",
    [
        ("2024-W18-4", "%Y-%m-%d"),
        ("2024-05-02T14:30:00", "%Y-%m-%d %H:%M:%S"),
        ("2024-02-30", "%Y-%m-%d"),
        ("2024-05-02 25:00:00", "%Y-%m-%d %H:%M:%S"),
    ],
)
def test_date_formats_are_strict(text: str, fmt: str) -> None:
    with pytest.raises(ValueError, match="does not match the date format"):
        fn.parse_datetime(text, fmt, "UTC")
