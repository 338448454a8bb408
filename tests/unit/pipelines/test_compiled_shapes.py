"""What the compiler's fast paths must keep: empty values left out, numbers read once but
errors still named by their field, reads shared across child loops, slugs equal to the plain
NFKD + regular expression definition."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import MappingError
from pipelines import functions as fn
from tests.unit.pipelines.support import mapping

pytestmark = pytest.mark.unit


def test_empty_values_are_left_out_whatever_produced_them() -> None:
    cm = mapping(
        {
            "SalesName": "name",
            "TotalInvoice": {"from": "total", "convert": {"to": "decimal", "places": 2}},
            "DlvMode": {"from": "carrier", "lookup": "keep"},
            "PaymMode": {"from": "module", "lookup": "blank"},
            "CustGroup": {"cases": [{"if": "total_paid > 10", "then": ""}], "else": "RETAIL"},
            "LineDisc": {"from": "disc", "default": ""},
            "OneTimeCustomer": {"from": "guest", "convert": "noyes"},
        },
        lookups={
            "keep": {"values": {"a": "A"}, "on_missing": "keep"},
            "blank": {"values": {"cash": ""}, "default": "OTHER", "on_missing": "default"},
        },
    )
    empty = {
        "name": "",
        "total": "",
        "carrier": "",
        "module": "cash",
        "total_paid": "20",
        "disc": "",
        "guest": "",
    }
    assert cm(empty) == {"OneTimeCustomer": "No"}  # PrestaShop reads an empty boolean as false
    full = {
        "name": "N",
        "total": "1.005",
        "carrier": "a",
        "module": "x",
        "total_paid": "1",
        "disc": "5",
        "guest": "1",
    }
    assert cm(full) == {
        "SalesName": "N",
        "TotalInvoice": Decimal("1.01"),
        "DlvMode": "A",
        "PaymMode": "OTHER",
        "CustGroup": "RETAIL",
        "LineDisc": "5",
        "OneTimeCustomer": "Yes",
    }


def test_a_number_read_by_a_conversion_is_reused_and_still_fails_on_its_own_field() -> None:
    line = {
        "each": "rows",
        "fields": {
            "SalesQty": {"from": "qty", "convert": {"to": "decimal", "places": 2}},
            "SalesPrice": {"from": "price", "convert": {"to": "decimal", "places": 2}},
            "LineAmount": {"expr": "price * qty", "convert": {"to": "decimal", "places": 2}},
            "LineDisc": {"expr": "qty * 2"},  # no conversion: the number as read
        },
    }
    cm = mapping({}, children={"SalesLine": line})
    rows = [{"qty": "3", "price": "1.255"}, {"qty": 2, "price": "10"}]
    assert cm({"rows": rows})["SalesLine"] == [
        {
            "SalesQty": Decimal("3.00"),
            "SalesPrice": Decimal("1.26"),
            "LineAmount": Decimal("3.77"),
            "LineDisc": Decimal("6"),
        },
        {
            "SalesQty": Decimal("2.00"),
            "SalesPrice": Decimal("10.00"),
            "LineAmount": Decimal("20.00"),
            "LineDisc": 4,
        },
    ]
    # blank text is not a number for a conversion: the error names the field that read it
    with pytest.raises(MappingError, match="'  ' is not a number") as err:
        cm({"reference": "R1", "rows": [{"qty": "  ", "price": "1"}]})
    assert err.value.field == "SalesLine[].SalesQty"  # type: ignore[attr-defined]
    # a missing quantity: no SalesQty, and the product cannot be computed
    with pytest.raises(MappingError) as err:
        cm({"reference": "R1", "rows": [{"price": "1"}]})
    assert err.value.field == "SalesLine[].LineAmount"  # type: ignore[attr-defined]


def test_an_expression_before_the_conversion_of_its_field_reads_the_field_itself() -> None:
    cm = mapping(
        {
            "TotalCharges": {"expr": "total * 2"},
            "TotalInvoice": {"from": "total", "convert": {"to": "decimal", "places": 1}},
            "TotalBalance": {"expr": "out.TotalInvoice * 2"},
        }
    )
    assert cm({"total": "1.26"}) == {
        "TotalCharges": Decimal("2.52"),
        "TotalInvoice": Decimal("1.3"),
        "TotalBalance": Decimal("2.6"),
    }


def test_root_and_parent_reads_inside_child_loops() -> None:
    cm = mapping(
        {"CurrencyCode": "currency.iso_code"},
        children={
            "SalesLine": {
                "each": "rows",
                "fields": {
                    "CurrencyCode": "root.currency.iso_code",
                    "Name": "root.customer.lastname",
                },
                "children": {
                    "InventDim": {
                        "each": "dims",
                        "fields": {"InventColorId": "parent.product.color", "InventSizeId": "root.size.code"},
                    }
                },
            }
        },
    )
    record = {
        "currency": {"iso_code": "EUR"},
        "size": None,
        "rows": [{"product": {"color": "red"}, "dims": [{}, {}]}, {"dims": [{}]}],
    }
    assert cm(record) == {
        "CurrencyCode": "EUR",
        "SalesLine": [
            {"CurrencyCode": "EUR", "InventDim": [{"InventColorId": "red"}, {"InventColorId": "red"}]},
            {"CurrencyCode": "EUR", "InventDim": [{}]},
        ],
    }


def test_calls_without_a_context_and_with_a_mapping_that_reads_it() -> None:
    cm = mapping({"CustAccount": {"expr": "coalesce(context.account, concat('PS-', id_customer))"}})
    assert cm({"id_customer": "7"}) == {"CustAccount": "PS-7"}
    assert cm({"id_customer": "7"}, None) == {"CustAccount": "PS-7"}
    assert cm({"id_customer": "7"}, {"account": "C1"}) == {"CustAccount": "C1"}
    assert callable(cm) and cm.name == "t"


_SEPARATORS = re.compile(r"[^a-z0-9]+")


def reference_slug(text: str) -> str | None:
    """The definition: NFKD of the whole text, marks dropped, lower case, other runs as '-'."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return _SEPARATORS.sub("-", folded.lower()).strip("-") or None


def test_slugs_equal_the_definition_for_every_kind_of_character() -> None:
    ranges = [
        (0, 0x250),
        (0x300, 0x370),
        (0x1E00, 0x1F00),
        (0xFB00, 0xFB07),
        (0xFF00, 0xFF60),
        (0xAC00, 0xAC10),
    ]
    chars = [chr(c) for a, b in ranges for c in range(a, b)] + ["½", "²", "ẞ", "İ", "ǅ", "\u2028", "😀"]
    for ch in chars:
        for text in (ch, f"Ab{ch}c", f"{ch}\u0301-{ch}", f"  {ch}{ch} X "):
            assert fn.slug(text) == reference_slug(text), repr(text)
    assert fn.slug("Écologique T-shirt (FR) — 100% coton") == "ecologique-t-shirt-fr-100-coton"
    assert fn.slug("") is None and fn.slug(None) is None and fn.slug(12) == "12"
    values = [{"id": "1", "value": "Mug Café"}, {"id": "2", "value": None}, {"id": "3", "value": "Mug Café"}]
    assert fn.slug_values(values) == [
        {"id": "1", "value": "mug-cafe"},
        {"id": "2", "value": ""},
        {"id": "3", "value": "mug-cafe"},
    ]


def test_text_and_numbers_both_ways() -> None:
    cm = mapping(
        {
            "LineNum": {"from": "n", "convert": {"to": "int", "rounding": "half_even"}},
            "SalesQty": {"from": "qty", "convert": {"to": "decimal", "places": 3, "rounding": "down"}},
            "Name": {"expr": "price * 2", "convert": "str"},
            "CustomerRef": {"from": "flag", "convert": "str"},
            "Email": {"from": "count", "convert": "str"},
        }
    )
    out = cm({"n": "2.5", "qty": "1.23456", "price": Decimal("1.250"), "flag": True, "count": 7})
    assert out == {
        "LineNum": 2,
        "SalesQty": Decimal("1.234"),
        "Name": "2.500",
        "CustomerRef": "1",
        "Email": "7",
    }
    with pytest.raises(MappingError, match="'1,5' is not a number") as err:
        cm({"n": "1,5"})
    assert err.value.field == "LineNum"  # type: ignore[attr-defined]


def test_values_every_line_shares_are_computed_once_but_fail_like_any_field() -> None:
    cm = mapping(
        {"PurchOrderFormNum": "reference"},
        children={
            "SalesLine": {
                "each": "rows",
                "where": "int(qty) > 0",
                "fields": {
                    "ItemId": "ref",
                    "CurrencyCode": {"from": "root.currency.iso_code", "lookup": "currency"},
                    "Name": {"expr": "concat(context.prefix, ref)"},
                },
            }
        },
        lookups={"currency": {"values": {"EUR": "EUR", "USD": "USD"}}},
    )
    rows = [{"ref": "A", "qty": "0"}, {"ref": "B", "qty": "1"}, {"ref": "C", "qty": "2"}]
    out = cm({"reference": "R1", "currency": {"iso_code": "USD"}, "rows": rows}, {"prefix": "x-"})
    assert out["SalesLine"] == [
        {"ItemId": "B", "CurrencyCode": "USD", "Name": "x-B"},
        {"ItemId": "C", "CurrencyCode": "USD", "Name": "x-C"},
    ]
    # without lines the shared value is never computed, so an unknown currency does not matter
    assert cm({"reference": "R2", "currency": {"iso_code": "JPY"}, "rows": rows[:1]}) == {
        "PurchOrderFormNum": "R2"
    }
    with pytest.raises(MappingError, match="'JPY' is not in the lookup table 'currency'") as err:
        cm({"reference": "R3", "currency": {"iso_code": "JPY"}, "rows": rows})
    assert err.value.field == "SalesLine[].CurrencyCode"  # type: ignore[attr-defined]
    # each call starts afresh: the next record's currency is its own
    again = cm({"reference": "R4", "currency": {"iso_code": "EUR"}, "rows": rows[1:2]})
    assert again["SalesLine"][0]["CurrencyCode"] == "EUR"


@pytest.mark.parametrize(
    ("value", "as_text", "as_int"),
    [
        ("12", "12", 12),
        ("2.5", "2.5", 3),
        (7, "7", 7),
        (Decimal("1.50"), "1.50", 2),
        (True, "1", 1),
        (None, None, None),
        ("", "", None),
        (" 4 ", " 4 ", 4),
    ],
)
def test_str_and_int_in_expressions(value: Any, as_text: Any, as_int: Any) -> None:
    cm = mapping(
        {"Name": {"expr": "str(x)"}, "LineNum": {"expr": "int(x)"}, "SalesQty": {"expr": "int(x) == 3"}}
    )
    out = cm({"x": value})
    assert out.get("Name") == (as_text or None) and out.get("LineNum") == as_int
    assert out["SalesQty"] is (as_int == 3)


def test_int_of_text_that_is_no_number_names_the_field() -> None:
    cm = mapping({"LineNum": {"expr": "int(x)"}})
    for bad in ("²", "12a", "1,5"):
        with pytest.raises(MappingError, match="is not a number") as err:
            cm({"x": bad})
        assert err.value.field == "LineNum"  # type: ignore[attr-defined]
