"""The PrestaShop validators of reference §7."""

from __future__ import annotations

import pytest

from connectors.prestashop.sandbox.validators import check, php_empty

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("isPrice", ["0", "19.9", "1234567890.123456789"], ["-1", "1,5", "12345678901", " 1", "1.1234567890"]),
        ("isNegativePrice", ["-1.5", "2"], ["--1", "a"]),
        ("isBool", ["0", "1"], ["true", "2", "yes"]),
        ("isUnsignedId", ["0", "4294967295"], ["-1", "4294967296", "+1", "1.0"]),
        ("isEmail", ["a@b.co", "first.last+tag@example.com"], ["a@b", "a b@c.de", "@x.io"]),
        ("isCustomerName", ["Jean-Luc", "O'Neil", "J. Doe"], ["R2D2", "a<b", "J.Doe", " "]),
        ("isName", ["Anne Marie"], ["Anne1", "a@b"]),
        ("isGenericName", ["Anything goes"], ["a<b", "x=y", "{x}"]),
        ("isDate", ["2024-02-29", "2024-02-29 10:00:00"], ["2023-02-29", "2024-13-01", "24-01-01"]),
        ("isDateFormat", ["2023-02-30"], ["2023/02/01"]),
        ("isPostCode", ["75002", "EC1A 1BB"], ["75_002"]),
        ("isPhoneNumber", ["+33 (0)1 23-45.67/89"], ["+33 1 2a"]),
        ("isTrackingNumber", ["1Z999AA10123456784"], ["bad<tracking"]),
        ("isLinkRewrite", ["blue-lamp_2"], ["blue lamp"]),
        ("isMd5", ["0123456789abcdef0123456789abcdef"], ["xyz"]),
        ("isHashedPassword", ["x" * 60, "y" * 32], ["short"]),
        ("isCleanHtml", ["<p>ok</p>"], ["<script>x</script>", '<a onclick="x">', "<iframe src=x>"]),
        ("isReductionType", ["amount", "percentage"], ["percent"]),
        ("isFloat", ["1.5", "-2", "1e3"], ["1,5", "abc"]),
        ("isColor", ["#A1B2C3", "red"], ["#12"]),
    ],
)
def test_validator(name: str, good: list[str], bad: list[str]) -> None:
    assert all(check(name, v) for v in good), name
    assert not any(check(name, v) for v in bad), name


def test_unknown_or_missing_validator_passes() -> None:
    assert check(None, "<anything>")
    assert check("isSomethingFromAModule", "<anything>")


def test_php_empty() -> None:
    assert all(php_empty(v) for v in (None, "", "0", {}, []))
    assert not any(php_empty(v) for v in ("0.0", " ", "00", "a"))
