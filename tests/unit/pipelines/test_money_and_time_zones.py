"""Currency conversion (a rate on the record, or a rate table) and dates across time zones, as
compiled mappings do them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from connectors.errors import ConfigError, MappingError
from pipelines import functions as fn
from tests.unit.pipelines.support import mapping

pytestmark = pytest.mark.unit

FX = {"fx": {"values": {"EUR": "1", "USD": "0.92", "GBP": "1.17", "XXX": "0"}}}


# ---- currency ----------------------------------------------------------------------------------


def test_the_order_rate_converts_to_the_shop_currency_with_explicit_rounding() -> None:
    cm = mapping(
        {
            "TotalInvoice": {"from": "total", "currency": {"rate": "conversion_rate", "op": "divide"}},
            "TotalBalance": {
                "from": "total",
                "currency": {"rate": "conversion_rate", "op": "divide", "places": 0, "rounding": "floor"},
            },
            "TotalCharges": {"from": "total", "currency": {"rate": "conversion_rate", "places": 3}},
        }
    )
    out = cm({"reference": "R1", "total": "100.005", "conversion_rate": "1.08"})
    # 100.005 / 1.08 = 92.5972..., 100.005 * 1.08 = 108.0054
    assert out == {
        "TotalInvoice": Decimal("92.60"),
        "TotalBalance": Decimal("92"),
        "TotalCharges": Decimal("108.005"),
    }
    assert "TotalInvoice" not in cm({"reference": "R1", "total": "", "conversion_rate": "1.08"})


@pytest.mark.parametrize(("rate", "word"), [("0.000000", "zero"), ("", "missing"), (None, "missing")])
def test_a_zero_or_missing_rate_is_an_error_never_a_silent_one(rate: Any, word: str) -> None:
    cm = mapping({"TotalInvoice": {"from": "total", "currency": {"rate": "conversion_rate", "op": "divide"}}})
    with pytest.raises(MappingError) as err:
        cm({"reference": "R9", "total": "10", "conversion_rate": rate})
    assert err.value.field == "TotalInvoice"  # type: ignore[attr-defined]
    assert f"the currency rate is {word}" in str(err.value) and "orders 'R9'" in str(err.value)


def test_a_rate_table_keyed_by_the_record_currency() -> None:
    cm = mapping(
        {
            "TotalInvoice": {
                "from": "total",
                "currency": {"rates": "fx", "code": "currency.iso_code", "places": 2},
            },
            "TotalCharges": {
                "from": "total",
                "currency": {"rates": "fx", "code": "currency.iso_code", "op": "divide", "places": 4},
            },
        },
        lookups=FX,
    )
    assert cm({"total": "100", "currency": {"iso_code": "GBP"}}) == {
        "TotalInvoice": Decimal("117.00"),
        "TotalCharges": Decimal("85.4701"),
    }
    with pytest.raises(MappingError, match="no rate for the currency 'JPY' in the lookup table 'fx'") as err:
        cm({"reference": "R2", "total": "100", "currency": {"iso_code": "JPY"}})
    assert err.value.field == "TotalInvoice"  # type: ignore[attr-defined]
    with pytest.raises(MappingError, match="the currency rate is zero"):
        cm({"total": "100", "currency": {"iso_code": "XXX"}})


def test_a_rate_table_with_a_fixed_currency_is_checked_when_compiling() -> None:
    fixed = {"TotalInvoice": {"from": "total", "currency": {"rates": "fx", "code": "params.company"}}}
    usd = mapping(fixed, lookups=FX, params={"company": "USD"})
    assert usd({"total": "10.00"}) == {"TotalInvoice": Decimal("9.20")}
    same = mapping(fixed, lookups=FX, params={"company": "EUR"})
    assert same({"total": "10.005"}) == {"TotalInvoice": Decimal("10.01")}  # rate 1: only rounding
    with pytest.raises(ConfigError, match="has no rate for 'CHF'"):
        mapping(fixed, lookups=FX, params={"company": "CHF"})
    with pytest.raises(ConfigError, match="is zero or missing"):
        mapping(fixed, lookups=FX, params={"company": "XXX"})


# ---- dates and time zones ------------------------------------------------------------------------

PS_LOCAL = "%Y-%m-%d %H:%M:%S"


def shop_dates() -> Any:
    return mapping(
        {
            "ReceiptDateRequested": {
                "from": "date_add",
                "convert": {"to": "date", "from_format": PS_LOCAL, "from_tz": "params.tz", "to_tz": "UTC"},
            },
            "Deadline": {
                "from": "date_add",
                "convert": {"to": "datetime", "from_format": PS_LOCAL, "from_tz": "params.tz"},
            },
        },
        params={"tz": "Europe/Paris"},
    )


@pytest.mark.parametrize(
    ("local", "utc_date", "utc_time"),
    [
        ("2024-01-15 00:30:00", "2024-01-14", "2024-01-14T23:30:00Z"),  # winter: UTC+1
        ("2024-07-01 01:30:00", "2024-06-30", "2024-06-30T23:30:00Z"),  # summer: UTC+2
        ("2024-07-01 02:00:00", "2024-07-01", "2024-07-01T00:00:00Z"),
        ("2024-12-31 23:59:59", "2024-12-31", "2024-12-31T22:59:59Z"),
        ("2024-03-31 02:30:00", "2024-03-31", "2024-03-31T01:30:00Z"),  # skipped hour: read as UTC+1
        ("2024-10-27 02:30:00", "2024-10-27", "2024-10-27T00:30:00Z"),  # hour seen twice: the first
        ("2024-02-29 00:15:00", "2024-02-28", "2024-02-28T23:15:00Z"),  # leap day
    ],
)
def test_prestashop_local_times_become_ax_utc(local: str, utc_date: str, utc_time: str) -> None:
    out = shop_dates()({"date_add": local})
    assert (out["ReceiptDateRequested"], out["Deadline"]) == (utc_date, utc_time)


def test_prestashop_zero_and_empty_dates_are_missing() -> None:
    cm = shop_dates()
    assert cm({"date_add": "0000-00-00 00:00:00"}) == {}
    assert cm({"date_add": ""}) == {}
    with pytest.raises(MappingError, match="does not match the date format") as err:
        cm({"reference": "R3", "date_add": "15/01/2024 00:30"})
    assert err.value.field == "ReceiptDateRequested"  # type: ignore[attr-defined]


def test_ax_utc_times_become_prestashop_local_text() -> None:
    cm = mapping(
        {
            "date_add": {
                "from": "CreatedDateTime",
                "convert": {"to": "datetime", "to_format": PS_LOCAL, "to_tz": "params.tz"},
            },
            "invoice_date": {
                "from": "InvoiceDate",
                "convert": {
                    "to": "datetime",
                    "from_format": "%Y-%m-%d",
                    "from_tz": "params.tz",
                    "to_format": PS_LOCAL,
                    "to_tz": "params.tz",
                },
            },
            "delivery_date": {"from": "CreatedDateTime", "convert": {"to": "datetime", "to_tz": "params.tz"}},
        },
        target={"system": "prestashop", "resource": "orders"},
        source={"system": "ax", "service": "SalesInvoiceService", "entity": "CustInvoiceJour"},
        key=None,
        params={"tz": "Europe/Paris"},
    )
    out = cm({"CreatedDateTime": "2024-06-30T23:30:00Z", "InvoiceDate": "2024-07-01"})
    assert out == {
        "date_add": "2024-07-01 01:30:00",
        "invoice_date": "2024-07-01 00:00:00",
        # an ISO date-time for a zone other than UTC carries its offset as XML Schema writes it
        "delivery_date": "2024-07-01T01:30:00+02:00",
    }
    # an offset in the value wins over the zone it would be read in
    assert cm({"CreatedDateTime": "2024-06-30T23:30:00+05:00"})["date_add"] == "2024-06-30 20:30:00"


def test_an_unknown_time_zone_stops_the_compilation() -> None:
    with pytest.raises(ConfigError, match="unknown time zone"):
        mapping({"Deadline": {"from": "d", "convert": {"to": "date", "from_tz": "Europe/Pariss"}}})


@pytest.mark.parametrize("to_format", ["%Y-%m-%d", PS_LOCAL, "%d/%m/%Y %H:%M", "iso"])
@pytest.mark.parametrize("to_tz", ["UTC", "Europe/Paris", "America/St_Johns"])
def test_the_compiled_date_converter_equals_parse_then_format(to_format: str, to_tz: str) -> None:
    convert = fn.datetime_converter(PS_LOCAL, "Europe/Paris", to_format, to_tz)
    values: list[Any] = [
        "2024-03-31 01:59:59",
        "2024-03-31 03:00:00",
        "2024-10-27 02:59:59",
        "2024-10-27 03:00:00",
        "0999-12-31 23:00:00",  # a year below 1000 is printed by strftime, not isoformat
        "0001-01-01 12:00:00",
        "9999-12-31 20:00:00",
        " 2024-05-01 12:00:00 ",
        "0000-00-00 00:00:00",
        None,
        date(2024, 5, 1),
        datetime(2024, 5, 1, 12, 0),
        "2024-13-01 00:00:00",
        "2024-05-01 12:00:0x",
        "２０２４-05-01 12:00:00",
        "2024-05-01T12:00:00",
    ]
    for value in values:
        try:
            expected = fn.format_datetime(
                fn.parse_datetime(value, PS_LOCAL, "Europe/Paris"), to_format, to_tz
            )
        except ValueError as exc:
            with pytest.raises(ValueError, match="does not match the date format"):
                convert(value)
            assert "does not match" in str(exc)
            continue
        assert convert(value) == expected, value
