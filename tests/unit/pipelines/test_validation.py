"""Validation against the target field tables and the PrestaShop validators."""

from __future__ import annotations

import pytest

from connectors.errors import ValidationError
from pipelines.targets import schema_for
from pipelines.validation import RecordValidationError, check_document, validate_document
from pipelines.validators import prestashop_validator

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "validator, good, bad",
    [
        (
            "isEmail",
            ["jane.doe@example.com", "a+b@sub.example.co.uk"],
            ["jane@@example.com", "jane@example", ".a@b.example"],
        ),
        ("isGenericName", ["Acme & Co (Paris)"], ["<b>Acme</b>", "a=b", "{x}"]),
        ("isPrice", ["19.9", "0", "1234567890.123456789"], ["-1", "1,5", "12345678901", "1.1234567890"]),
        ("isPhoneNumber", ["+33 (0)1 23.45-67/89"], ["0123 ext 4", "+33#1"]),
        ("isCustomerName", ["Jane", "J. Doe", "Doe Jr."], ["Jane2", "J.Doe", "Jane@"]),
        ("isPostCode", ["75002", "SW1A 1AA"], ["75_002"]),
        ("isBool", ["0", "1"], ["true", "2"]),
        ("isUnsignedId", ["0", "4294967295"], ["-1", "4294967296", "1.0"]),
        ("isEan13", ["4006381333931", ""], ["40063813339312", "40063A"]),
        ("isTrackingNumber", ["JD0146 000/03-8"], ["JD01<script>"]),
        ("isDate", ["2024-02-29 10:00:00", "2024-02-29"], ["2023-02-29", "2024-13-01"]),
        ("isCleanHtml", ["<p>ok</p>"], ["<script>x</script>", "<a onclick=x>", "<iframe src=x>"]),
        ("IsGenericName", ["ok"], ["<no>"]),
    ],
)
def test_prestashop_validators(validator: str, good: list[str], bad: list[str]) -> None:
    check = prestashop_validator(validator)
    assert check is not None
    for value in good:
        assert check(value), f"{validator} refused {value!r}"
    for value in bad:
        assert not check(value), f"{validator} accepted {value!r}"


def test_prestashop_required_length_validator_and_multilingual() -> None:
    schema = schema_for("prestashop", "products")
    doc = {
        "price": "-3",
        "reference": "R" * 65,
        "name": [{"id": "1", "value": "ok"}, {"id": "2", "value": "x" * 129}],
    }
    problems = {(p.field, p.rule) for p in validate_document(doc, schema)}
    assert ("price", "isPrice") in problems
    assert ("reference", "max_length(64)") in problems
    assert ("name[lang 2]", "max_length(128)") in problems
    assert ("name[lang 1]", "max_length(128)") not in problems
    assert {(p.field, p.rule) for p in validate_document({"reference": "R"}, schema)} == {
        ("price", "required")
    }
    assert validate_document({"reference": "R"}, schema, require=False) == []


def test_values_prestashop_treats_as_empty_skip_validators() -> None:
    schema = schema_for("prestashop", "addresses")
    doc = {
        "id_country": "8",
        "alias": "Home",
        "lastname": "Doe",
        "firstname": "Jane",
        "address1": "1 rue",
        "city": "Paris",
        "phone": "",
        "postcode": "0",
    }
    assert validate_document(doc, schema) == []


def test_password_goes_through_its_setter_so_its_validator_does_not_apply() -> None:
    schema = schema_for("prestashop", "customers")
    doc = {"passwd": "plain text", "lastname": "Doe", "firstname": "Jane", "email": "jane@example.com"}
    assert validate_document(doc, schema) == []


def test_ax_lengths_enums_dates_and_nested_entities() -> None:
    schema = schema_for("ax", service="SalesOrderService", entity="SalesTable")
    doc = {
        "PurchOrderFormNum": "X" * 21,
        "ReceiptDateRequested": "2024-02-30",
        "SalesStatus": "Shipped",
        "TableDlvAddr": {"City": "C" * 61},
        "SalesLine": [{"SalesQty": "abc", "SalesUnit": "pcs"}, {"SalesUnit": "pcs"}],
        "Unknown": "x",
    }
    problems = {(p.field, p.rule) for p in validate_document(doc, schema)}
    assert ("PurchOrderFormNum", "max_length(20)") in problems
    assert ("ReceiptDateRequested", "type(date)") in problems
    assert ("SalesStatus", "type(enum:AxdEnum_SalesStatus)") in problems
    assert ("TableDlvAddr.City", "max_length(60)") in problems
    assert ("SalesLine[0].SalesQty", "type(decimal)") in problems
    assert ("SalesLine[1].SalesQty", "required") in problems
    assert ("Unknown", "unknown_field") in problems


def test_check_document_raises_a_validation_error_naming_record_field_rule_and_masked_value() -> None:
    schema = schema_for("ax", service="SalesOrderService", entity="SalesTable")
    doc = {
        "PurchOrderFormNum": "R1",
        "ReceiptDateRequested": "2024-05-01",
        "Email": "jane.doe@" + "e" * 80 + ".com",
    }
    with pytest.raises(RecordValidationError) as err:
        check_document(doc, schema, record="orders 'R1'")
    assert isinstance(err.value, ValidationError)
    text = str(err.value)
    assert "orders 'R1'" in text and "Email" in text and "max_length(80)" in err.value.problems[0].rule
    assert "jane.doe" not in text and "j***@" in text
    assert err.value.to_dict()["problems"][0]["field"] == "Email"
