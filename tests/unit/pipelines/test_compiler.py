"""The compiled mapping engine: every mapping feature on small specs written inline."""

from __future__ import annotations

from decimal import Decimal

import pytest

from connectors.errors import ConfigError, MappingError
from pipelines.compiler import compile_mapping
from pipelines.specs import parse_mapping
from tests.unit.pipelines.support import mapping

pytestmark = pytest.mark.unit


def test_one_to_one_one_to_many_and_many_to_one() -> None:
    cm = mapping(
        {
            "PurchOrderFormNum": "reference",
            "CustomerRef": "reference",
            "SalesName": {"from": ["customer.firstname", "customer.lastname"]},
            "TableDlvAddr.Street": {"from": ["a1", "a2"], "join": "\n"},
        }
    )
    out = cm(
        {
            "reference": "ABC",
            "customer": {"firstname": "Jane", "lastname": "Doe"},
            "a1": "1 Main St",
            "a2": "",
        }
    )
    assert out == {
        "PurchOrderFormNum": "ABC",
        "CustomerRef": "ABC",
        "SalesName": "Jane Doe",
        "TableDlvAddr": {"Street": "1 Main St"},
    }


def test_missing_values_are_omitted_or_defaulted() -> None:
    cm = mapping(
        {
            "Email": "customer.email",
            "SalesOriginId": {"from": "origin", "default": "WEB"},
            "DlvMode": {"const": "STD"},
        }
    )
    assert cm({"customer": {}}) == {"SalesOriginId": "WEB", "DlvMode": "STD"}
    assert cm({"origin": "SHOP", "customer": {"email": "a@b.example"}})["SalesOriginId"] == "SHOP"


def test_conversions_with_rounding_dates_and_noyes() -> None:
    cm = mapping(
        {
            "TotalInvoice": {
                "from": "total",
                "convert": {"to": "decimal", "places": 2, "rounding": "half_even"},
            },
            "LineNum": {"from": "n", "convert": {"to": "int", "rounding": "floor"}},
            "ReceiptDateRequested": {
                "from": "date_add",
                "convert": {"to": "date", "from_format": "%Y-%m-%d %H:%M:%S", "from_tz": "params.tz"},
            },
            "Deadline": {
                "from": "date_add",
                "convert": {"to": "datetime", "from_format": "%Y-%m-%d %H:%M:%S", "from_tz": "params.tz"},
            },
            "OneTimeCustomer": {"from": "guest", "convert": "noyes"},
        },
        params={"tz": "Europe/Paris"},
    )
    out = cm({"total": "2.345", "n": "3.9", "date_add": "2024-03-01 00:15:00", "guest": "1"})
    assert out["TotalInvoice"] == Decimal("2.34")
    assert out["LineNum"] == 3
    assert out["ReceiptDateRequested"] == "2024-02-29"
    assert out["Deadline"] == "2024-02-29T23:15:00Z"
    assert out["OneTimeCustomer"] == "Yes"


def test_conditional_rule_and_params_override() -> None:
    spec = {
        "CustGroup": {
            "cases": [
                {"if": "total_paid / conversion_rate > params.limit", "then": "HIGHVAL"},
                {"if": "total_paid == 0", "expr": "'FREE'"},
            ],
            "else": "RETAIL",
        }
    }
    cm = mapping(spec, params={"limit": 1000})
    assert cm({"total_paid": "1100", "conversion_rate": "1.2"})["CustGroup"] == "RETAIL"
    assert cm({"total_paid": "1100", "conversion_rate": "1"})["CustGroup"] == "HIGHVAL"
    assert cm({"total_paid": "0.000000", "conversion_rate": "1"})["CustGroup"] == "FREE"
    lower = compile_mapping(
        parse_mapping(
            {
                "mapping": "t",
                "source": {"system": "prestashop"},
                "target": {"system": "ax"},
                "fields": spec,
                "params": {"limit": 1000},
            }
        ),
        {"limit": 500},
    )
    assert lower({"total_paid": "600", "conversion_rate": "1"})["CustGroup"] == "HIGHVAL"


def test_lookup_tables_error_default_or_keep() -> None:
    cm = mapping(
        {
            "CurrencyCode": {"from": "cur", "lookup": "strict"},
            "PaymMode": {"from": "module", "lookup": "lenient"},
            "DlvMode": {"from": "carrier", "lookup": "keep"},
            "LanguageId": {"expr": "lookup('lenient', lang)"},
        },
        lookups={
            "strict": {"values": {"EUR": "EUR", 1: "ONE"}},
            "lenient": {"values": {"paypal": "PAYPAL"}, "default": "OTHER", "on_missing": "default"},
            "keep": {"values": {"A": "B"}, "on_missing": "keep"},
        },
    )
    out = cm({"reference": "R1", "cur": "EUR", "module": "stripe", "carrier": "DHL", "lang": "paypal"})
    assert out == {"CurrencyCode": "EUR", "PaymMode": "OTHER", "DlvMode": "DHL", "LanguageId": "PAYPAL"}
    assert cm({"cur": 1})["CurrencyCode"] == "ONE"  # table keys match numbers given as text and as ints
    with pytest.raises(MappingError) as err:
        cm({"reference": "R2", "cur": "JPY"})
    assert err.value.code == "unmapped_value"
    assert "orders 'R2'" in str(err.value) and "CurrencyCode" in str(err.value) and "'JPY'" in str(err.value)


def test_currency_conversion_from_a_field_and_from_a_table() -> None:
    cm = mapping(
        {
            "TotalInvoice": {
                "from": "total",
                "currency": {"rate": "conversion_rate", "op": "divide", "places": 2},
            },
            "TotalBalance": {"from": "total", "currency": {"rates": "fx", "code": "cur", "places": 3}},
            "TotalSalesTax": {
                "from": "total",
                "currency": {"rates": "fx", "code": "params.company", "places": 1},
            },
        },
        lookups={"fx": {"values": {"USD": "0.92", "EUR": "1"}}},
        params={"company": "USD"},
    )
    out = cm({"total": "100", "conversion_rate": "1.08", "cur": "USD"})
    assert out == {
        "TotalInvoice": Decimal("92.59"),
        "TotalBalance": Decimal("92.000"),
        "TotalSalesTax": Decimal("92.0"),
    }
    with pytest.raises(MappingError, match="no rate for the currency 'GBP'"):
        cm({"total": "1", "conversion_rate": "1", "cur": "GBP"})


def test_children_split_rows_into_lines_with_parent_and_line_numbers() -> None:
    cm = mapping(
        {"PurchOrderFormNum": "reference"},
        children={
            "SalesLine": {
                "each": "rows",
                "where": "int(qty) > 0",
                "fields": {
                    "LineNum": {"expr": "line_number"},
                    "ItemId": "ref",
                    "CustomerRef": {"expr": "parent.reference"},
                    "SalesQty": {"from": "qty", "convert": {"to": "decimal", "places": 2}},
                    "InventDim.InventLocationId": {"const": "MAIN"},
                },
            }
        },
    )
    out = cm(
        {
            "reference": "R",
            "rows": [{"ref": "A", "qty": "2"}, {"ref": "B", "qty": "0"}, {"ref": "C", "qty": "1"}],
        }
    )
    assert out["SalesLine"] == [
        {
            "LineNum": 1,
            "ItemId": "A",
            "CustomerRef": "R",
            "SalesQty": Decimal("2.00"),
            "InventDim": {"InventLocationId": "MAIN"},
        },
        {
            "LineNum": 3,
            "ItemId": "C",
            "CustomerRef": "R",
            "SalesQty": Decimal("1.00"),
            "InventDim": {"InventLocationId": "MAIN"},
        },
    ]
    assert "SalesLine" not in cm({"reference": "R", "rows": []})
    # a single association row decoded as an object still maps as one line
    assert len(cm({"reference": "R", "rows": {"ref": "A", "qty": "1"}})["SalesLine"]) == 1


def test_aggregation_and_derived_fields() -> None:
    cm = mapping(
        {
            "SalesQty": {"expr": "sum_of(where_in(rows, 'wh', params.wh), 'qty')"},
            "SalesName": {"from": "name"},
            "SearchName": {"expr": "upper(out.SalesName)"},
        },
        params={"wh": ["A", "B"]},
    )
    out = cm(
        {"name": "mug", "rows": [{"wh": "A", "qty": "1.5"}, {"wh": "B", "qty": "2"}, {"wh": "C", "qty": "9"}]}
    )
    assert out["SalesQty"] == Decimal("3.5") and out["SearchName"] == "MUG"


def test_owner_limits_fields_to_the_owning_direction() -> None:
    cm = mapping(
        {
            "Email": {"from": "email", "owner": "prestashop"},
            "CustGroup": {"from": "grp", "owner": "ax"},
            "SalesName": "name",
        }
    )
    assert cm({"email": "a@b.example", "grp": "B2B", "name": "N"}) == {
        "Email": "a@b.example",
        "SalesName": "N",
    }


def test_errors_name_the_field_and_hide_sensitive_values() -> None:
    cm = mapping(
        {"Email": {"from": "email", "convert": "noyes"}, "ItemId": {"from": "ref", "required": True}}
    )
    with pytest.raises(MappingError) as err:
        cm({"reference": "R9", "email": "jane@example.com", "ref": "x"})
    assert "target field Email" in str(err.value) and "jane@example.com" not in str(err.value)
    with pytest.raises(MappingError, match="ItemId: the value is missing"):
        cm({"reference": "R9", "email": "1"})
    assert cm.mask({"Email": "jane@example.com"}) == {"Email": "j***@e***.com"}


def test_wrong_types_become_mapping_errors() -> None:
    cm = mapping({"TotalInvoice": {"expr": "total * 2"}})
    with pytest.raises(MappingError, match="TotalInvoice: 'abc' is not a number"):
        cm({"total": "abc"})
    with pytest.raises(MappingError, match="TotalInvoice"):
        cm({"total": {"nested": 1}})


def test_compile_errors_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="lookup table 'nope'"):
        mapping({"CurrencyCode": {"from": "c", "lookup": "nope"}})
    with pytest.raises(ConfigError, match="unknown function"):
        mapping({"CurrencyCode": {"expr": "evil(c)"}})
    with pytest.raises(ConfigError, match="parameter 'tz'"):
        mapping({"Deadline": {"from": "d", "convert": {"to": "date", "from_tz": "params.tz"}}})


def test_generated_code_has_no_builtins() -> None:
    cm = mapping({"CurrencyCode": "c"})
    assert cm.function.__globals__["__builtins" + "__"] == {}
    assert "eval" not in cm.source_code and "import" not in cm.source_code


def test_msgspec_structs_map_like_dicts() -> None:
    import msgspec

    class Customer(msgspec.Struct):
        firstname: str
        lastname: str

    class Order(msgspec.Struct):
        reference: str
        customer: Customer

    cm = mapping(
        {"PurchOrderFormNum": "reference", "SalesName": {"from": ["customer.firstname", "customer.lastname"]}}
    )
    assert cm(Order("R1", Customer("Jane", "Doe"))) == {"PurchOrderFormNum": "R1", "SalesName": "Jane Doe"}
