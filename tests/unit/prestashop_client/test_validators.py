"""The PrestaShop ``Validate::*`` rules of reference §7 (connectors.prestashop.validators).

The second half pins the behaviours on which the sandbox's and the pipelines' former copies
disagreed, or both differed from PrestaShop 8: each case names the PHP reason.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from connectors.prestashop.validators import KNOWN_VALIDATORS, VALIDATORS, check, php_empty, validator

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("name", "good", "bad"),
    [
        ("isPrice", ["0", "19.9", "1234567890.123456789"], ["-1", "1,5", "12345678901", " 1", "1.1234567890"]),
        ("isNegativePrice", ["-1.5", "2"], ["--1", "a"]),
        ("isBool", ["0", "1"], ["true", "2", "yes"]),
        ("isUnsignedId", ["0", "4294967295"], ["-1", "4294967296", "+1", "1.0"]),
        ("isEmail", ["a@b.co", "first.last+tag@example.com", "a+b@sub.example.co.uk"],
         ["a@b", "a b@c.de", "@x.io", "jane@@example.com", ".a@b.example", "a..b@example.com"]),
        ("isCustomerName", ["Jean-Luc", "O'Neil", "J. Doe", "Doe Jr."], ["R2D2", "a<b", "J.Doe", " ", "Jane@"]),
        ("isName", ["Anne Marie"], ["Anne1", "a@b"]),
        ("isGenericName", ["Anything goes", "Acme & Co (Paris)"], ["a<b", "x=y", "{x}"]),
        ("isDate", ["2024-02-29", "2024-02-29 10:00:00"], ["2023-02-29", "2024-13-01", "24-01-01"]),
        ("isDateFormat", ["2023-02-30"], ["2023/02/01"]),
        ("isPostCode", ["75002", "EC1A 1BB"], ["75_002"]),
        ("isPhoneNumber", ["+33 (0)1 23-45.67/89"], ["+33 1 2a", "+33#1"]),
        ("isEan13", ["4006381333931"], ["40063813339312", "40063A"]),
        ("isTrackingNumber", ["1Z999AA10123456784", "JD0146 000/03-8"], ["bad<tracking"]),
        ("isLinkRewrite", ["blue-lamp_2"], ["blue lamp"]),
        ("isMd5", ["0123456789abcdef0123456789abcdef"], ["xyz"]),
        ("isHashedPassword", ["x" * 60, "y" * 32], ["short"]),
        ("isCleanHtml", ["<p>ok</p>"], ["<script>x</script>", '<a onclick="x">', "<iframe src=x>", "a\u202eb"]),
        ("isReductionType", ["amount", "percentage"], ["percent"]),
        ("isFloat", ["1.5", "-2", "1e3", ".5"], ["1,5", "abc", "0x1A"]),
        ("isColor", ["#A1B2C3", "red"], ["#12"]),
        ("isPercentage", ["0", "12.5", "100"], ["100.01", "-1"]),
    ],
)
def test_validator(name: str, good: list[str], bad: list[str]) -> None:
    assert [v for v in good if not check(name, v)] == [], name
    assert [v for v in bad if check(name, v)] == [], name


def test_unknown_or_missing_validator_passes() -> None:
    assert check(None, "<anything>")
    assert check("isSomethingFromAModule", "<anything>")
    assert validator("isSomethingFromAModule") is None
    assert "isGenericName" in KNOWN_VALIDATORS and set(VALIDATORS) == KNOWN_VALIDATORS


def test_php_empty() -> None:
    assert all(php_empty(v) for v in (None, "", "0", {}, [], False, 0, 0.0, Decimal("0")))
    assert not any(php_empty(v) for v in ("0.0", " ", "00", "a", True, 1, [""], "false"))


# --- differences between the former copies, settled on PrestaShop 8's behaviour -------------


def test_names_are_case_insensitive_as_php_method_names() -> None:
    # a field table spells IsGenericName; PHP resolves Validate::IsGenericName all the same
    assert validator("IsGenericName") is VALIDATORS["isGenericName"]
    assert not check("IsGenericName", "<no>") and not check("ISPRICE", "-1")
    assert check("isprice", "19.90")


def test_is_float_compares_numerically_like_php() -> None:
    # (string)(float)$v == $v with two numeric strings compares numbers, not text
    assert all(check("isFloat", v) for v in ("1.000000", " 1.5", "1.5 ", "1e3", "-0"))
    # more than 14 significant digits do not survive PHP's float-to-string (precision=14)
    assert not check("isFloat", "0.1234567890123456789")
    assert not check("isFloat", "1e400")  # overflows to INF, printed "INF": text comparison fails
    assert check("isUnsignedFloat", "2.50") and not check("isUnsignedFloat", "-2.5")


def test_is_int_requires_the_canonical_spelling() -> None:
    # (string)(int)$v === (string)$v is strict: "+1", "01", "-0" do not round-trip
    assert all(check("isInt", v) for v in ("0", "-7", "9223372036854775807"))
    assert not any(check("isInt", v) for v in ("+1", "01", "-0", " 1", "9223372036854775808"))
    assert not any(check("isUnsignedId", v) for v in ("007", "00"))
    assert check("isPositiveInt", "1") and not check("isPositiveInt", "0")


def test_dates_follow_the_php_patterns() -> None:
    # one-digit month and day are in the isDate/isDateFormat patterns; month 13 is not
    assert check("isDate", "2024-2-9") and check("isDateFormat", "2024-2-31")
    assert not check("isDateFormat", "2024-13-01")
    # only the two exact zero dates are "null"; anything else must be a real date
    assert check("isDateOrNull", "0000-00-00") and check("isDateOrNull", "0000-00-00 00:00:00")
    assert not check("isDateOrNull", "0000-00-00junk")


def test_birth_date_accepts_today_and_refuses_the_future_and_two_century_old_dates() -> None:
    today = dt.date.today()
    assert check("isBirthDate", today.isoformat())  # PHP compares midnight <= now
    assert not check("isBirthDate", (today + dt.timedelta(days=1)).isoformat())
    assert not check("isBirthDate", f"{today.year - 201:04d}-01-01")
    assert check("isBirthDate", "1980-02-29") and not check("isBirthDate", "1981-02-29")


def test_only_ascii_digits_are_refused_in_names() -> None:
    # the /u patterns list 0-9, not Unicode digits
    assert check("isName", "Anne٣") and check("isCustomerName", "Anne٣")
    # a dot may be followed by any whitespace (\s), not only a space
    assert check("isCustomerName", "J.\tDoe")


def test_isbn_is_digits_and_hyphens_only() -> None:
    assert check("isIsbn", "978-3-16-148410-0")
    assert not check("isIsbn", "0-8044-2957-X") and not check("isIsbn", "1" * 33)


def test_clean_html_matches_the_named_events_and_tags_without_word_boundaries() -> None:
    assert check("isCleanHtml", "<p>online = yes</p>")  # "online" is not one of the listed events
    assert not check("isCleanHtml", "<b xonclick=1>")
    assert not check("isCleanHtml", "<format>") and not check("isCleanHtml", "see script: here")


def test_url_and_theme_and_visibility_quirks() -> None:
    assert check("isUrl", "/prödukt/a b") and not check("isUrl", "/a[1]")
    assert check("isAbsoluteUrl", "https://x.example/a[1]?q=$") and not check("isAbsoluteUrl", "ftp://x")
    assert check("isThemeName", "classic-é") and not check("isThemeName", "ab")
    # /^both|catalog|search|none$/i anchors only the first and last alternative
    assert check("isProductVisibility", "Catalogue") and not check("isProductVisibility", "hidden")
    assert check("isPriceDisplayMethod", "1.0") and not check("isPriceDisplayMethod", "2")


def test_preg_match_dollar_accepts_one_final_newline() -> None:
    assert check("isPrice", "19.90\n") and check("isBool", "1\n")
    assert not check("isPrice", "19.90\n\n") and not check("isBool", "1\nx")
