"""PrestaShop 8.2 ``Validate::*`` rules (reference §7), the one implementation of the bridge.

Used by the PrestaShop sandbox (to refuse what a shop refuses, with code 84/85) and by the
mapping validation of ``pipelines`` (to report the same refusals before anything is sent).
This module imports nothing of the connector, so both can use it without the HTTP client.

Contract:

- Every predicate takes the value *as the text PrestaShop receives* and answers whether
  ``Validate::<name>`` accepts it. Callers run a validator only on non-empty values:
  ObjectModel skips the format check for PHP ``empty()`` values, which :func:`php_empty` tells.
- Validator names are matched case-insensitively, as PHP resolves static method names
  (``Validate::IsGenericName`` is ``Validate::isGenericName``; one field table spells it so).
- An unknown validator name passes (:func:`check`) or has no predicate (:func:`validator`): a
  module-provided validator cannot be checked here.

Where PHP semantics are surprising they are reproduced on purpose, each with its reason:
numeric string comparison in ``isFloat``, strict integer round-trip in ``isInt``, ``$`` that
also matches before one final newline in ``preg_match`` patterns.
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Callable, Mapping
from numbers import Number
from typing import Any

__all__ = ["KNOWN_VALIDATORS", "VALIDATORS", "check", "php_empty", "validator"]

Predicate = Callable[[str], bool]


def php_empty(value: Any) -> bool:
    """PHP ``empty()``: None, False, numeric zero, ``""``, ``"0"`` and an empty list or map.

    ``"0.0"``, ``" "`` and ``"00"`` are not empty (PHP only treats the exact string ``"0"`` so).
    """
    if value is None or value == "" or value == "0":
        return True
    if isinstance(value, bool):
        return not value
    if isinstance(value, (list, tuple, dict)):
        return len(value) == 0
    # PHP int 0 and float 0.0 are empty; a Decimal zero counts as the number it stands for
    return isinstance(value, Number) and value == 0


def _rx(pattern: str, flags: int = 0) -> Predicate:
    # PHP's "$" without the D modifier also matches before one final "\n", so preg_match
    # accepts "19.90\n" as a price; the optional "\n" reproduces that.
    compiled = re.compile(f"(?:{pattern})\n?", flags)
    return lambda v: compiled.fullmatch(v) is not None


def _none_of(chars: str) -> Predicate:
    bad = frozenset(chars)
    return lambda v: not any(c in bad for c in v)


# PHP 8 numeric strings: leading and trailing whitespace allowed, no hex, no "INF"/"NAN".
_PHP_WS = " \t\n\r\v\f"
_NUMERIC = re.compile(
    rf"[{_PHP_WS}]*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?[{_PHP_WS}]*"
)


def _php_number(v: str) -> float | None:
    """The value of a PHP numeric string, or None when PHP would not compare it as a number."""
    return float(v.strip(_PHP_WS)) if _NUMERIC.fullmatch(v) else None


def _float(v: str) -> bool:
    # Validate::isFloat is `(string)(float)$v == (string)$v`: PHP prints the float with
    # precision=14 and compares the two numeric strings as numbers. So "1.000000", " 1.5" and
    # "1e3" pass, "1,5" fails (not numeric: string comparison), a value needing more than 14
    # significant digits fails (it does not survive the round-trip), and overflow prints "INF".
    f = _php_number(v)
    if f is None or f in (float("inf"), float("-inf")):
        return False
    return float(f"{f:.14G}") == f


def _unsigned_float(v: str) -> bool:
    return _float(v) and float(v.strip(_PHP_WS)) >= 0


def _percentage(v: str) -> bool:
    return _float(v) and 0 <= float(v.strip(_PHP_WS)) <= 100


_CANONICAL_INT = re.compile(r"0|-?[1-9][0-9]*")


def _int(v: str) -> bool:
    # Validate::isInt is `(string)(int)$v === (string)$v`, a strict comparison: only the
    # canonical spelling of a 64-bit integer passes ("+1", "01", "-0" and " 1" do not).
    return _CANONICAL_INT.fullmatch(v) is not None and -(2**63) <= int(v) < 2**63


def _unsigned_int(v: str) -> bool:
    return _int(v) and 0 <= int(v) < 4294967296


def _positive_int(v: str) -> bool:
    return _unsigned_int(v) and int(v) > 0


# isDate / isDateFormat: month and day may have one digit, the time part is not range-checked.
_DATE = re.compile(
    r"([0-9]{4})-(0?[0-9]|1[0-2])-(0?[0-9]|[12][0-9]|3[01])( [0-9]{2}:[0-9]{2}:[0-9]{2})?\n?"
)


def _real_date(v: str) -> bool:
    m = _DATE.fullmatch(v)
    if m is None:
        return False
    try:  # PHP checkdate(): year 1..32767 and a day that exists in that month
        _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def _date_or_null(v: str) -> bool:
    return v in ("0000-00-00", "0000-00-00 00:00:00") or _real_date(v)


def _birth_date(v: str) -> bool:
    # DateTime::createFromFormat('Y-m-d') without warnings, not in the future and not more
    # than 200 years ago (PrestaShop refuses two-digit years typed as "0085-01-01").
    if v in ("", "0000-00-00"):
        return True
    m = re.fullmatch(r"([0-9]{1,4})-([0-9]{1,2})-([0-9]{1,2})", v)
    if m is None:
        return False
    try:
        born = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    today = _dt.date.today()
    try:
        limit = today.replace(year=today.year - 200)
    except ValueError:  # 29 February in a year whose -200 is not a leap year: PHP rolls to 1 March
        limit = _dt.date(today.year - 200, 3, 1)
    return limit < born <= today


# CustomerName constraint: not blank; a dot (. or 。) only before whitespace or at the end.
_CUSTOMER_NAME = re.compile(r"(?!\s*\Z)(?:[^0-9!<>,;?=+()/\\@#\"°*`{}_^$%:¤\[\]|.。]|[.。](?:\s|\Z))*")

# Dot-atom local part and dot-separated hostname labels, as the RFC and SwiftMailer checks of
# Validate::isEmail require; the domain must have a dot (reference §7, Symfony loose mode).
_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?<!\.)@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)

# isCleanHtml lists these event attributes by name (so "online=" passes and "xonclick=" fails);
# "onmmouseup" is PrestaShop's own spelling, kept so the list is the shop's.
_EVENTS = (
    "onmousedown onmousemove onmmouseup onmouseover onmouseout onload onunload onfocus onblur "
    "onchange onsubmit ondblclick onclick onkeydown onkeyup onkeypress onmouseenter onmouseleave "
    "onerror onselect onreset onabort ondragdrop onresize onactivate onafterprint onmoveend "
    "onafterupdate onbeforeactivate onbeforecopy onbeforecut onbeforedeactivate onbeforeeditfocus "
    "onbeforepaste onbeforeprint onbeforeunload onbeforeupdate onmove onbounce oncellchange "
    "oncontextmenu oncontrolselect oncopy oncut ondataavailable ondatasetchanged ondatasetcomplete "
    "ondeactivate ondrag ondragend ondragenter onmousewheel ondragleave ondragover ondragstart "
    "ondrop onerrorupdate onfilterchange onfinish onfocusin onfocusout onhashchange onhelp oninput "
    "onlosecapture onmessage onmouseup onmovestart onoffline ononline onpaste onpropertychange "
    "onreadystatechange onresizeend onresizestart onrowenter onrowexit onrowsdelete "
    "onrowsinserted onscroll onsearch onselectionchange onselectstart onstart onstop"
).split()
_CLEAN_HTML_BAD = re.compile(
    r"<\s*script|(?:" + "|".join(_EVENTS) + r")\s*=|script:|\u202e"
    # without PS_ALLOW_HTML_IFRAME (off by default); no word boundary, as in PHP ("<format" too)
    r"|<\s*(?:i?frame|form|input|embed|object)",
    re.IGNORECASE,
)

_URL_CHARS = frozenset("~:#,$%&_=().? +-@/")


def _url(v: str) -> bool:
    # ASCII URL characters plus any Unicode letter (\pL) or symbol (\pS), as isUrl's /u pattern
    return bool(v) and all(
        c in _URL_CHARS or (c.isascii() and c.isalnum()) or unicodedata.category(c)[0] in "LS"
        for c in v
    )


def _price_display_method(v: str) -> bool:
    # `$v == PS_TAX_EXC || $v == PS_TAX_INC`: a loose comparison with the integers 1 and 0
    return _php_number(v) in (0.0, 1.0)


# isProductVisibility is `/^both|catalog|search|none$/i`: the anchors bind to the first and last
# alternative only, so PrestaShop accepts e.g. "Catalogue" and "bothways"; reproduced as is.
_VISIBILITY = re.compile(r"^both|catalog|search|none$", re.IGNORECASE)

VALIDATORS: Mapping[str, Predicate] = {
    "isUnsignedId": _unsigned_int,
    "isUnsignedInt": _unsigned_int,
    "isNullOrUnsignedId": _unsigned_int,
    "isPositiveInt": _positive_int,
    "isInt": _int,
    "isBool": _rx(r"0|1"),
    "isPrice": _rx(r"[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isNegativePrice": _rx(r"-?[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isFloat": _float,
    "isUnsignedFloat": _unsigned_float,
    "isPercentage": _percentage,
    "isDate": _real_date,
    "isDateFormat": lambda v: _DATE.fullmatch(v) is not None,
    "isBirthDate": _birth_date,
    "isDateOrNull": _date_or_null,
    "isGenericName": _none_of("<>={}"),
    "isCatalogName": _none_of("<>;=#{}"),
    "isCarrierName": _none_of("<>;=#{}"),
    "isName": _none_of('0123456789!<>,;?=+()@#"°{}_$%:¤|'),
    "isCustomerName": lambda v: _CUSTOMER_NAME.fullmatch(v) is not None,
    "isAddress": _none_of("!<>?=+@{}_$%"),
    "isCityName": _none_of('!<>;?=+@#"°{}_$%'),
    "isMessage": _none_of("<>{}"),
    "isReference": _none_of("<>;={}"),
    "isPhpDateFormat": _none_of("<>"),
    "isString": lambda v: True,
    "isEmail": lambda v: _EMAIL.fullmatch(v) is not None,
    "isPhoneNumber": _rx(r"[+0-9. ()/-]*"),
    "isPostCode": _rx(r"[a-zA-Z 0-9-]+"),
    "isDniLite": _rx(r"[0-9A-Za-z.-]{1,16}"),
    "isEan13": _rx(r"[0-9]{0,13}"),
    "isUpc": _rx(r"[0-9]{0,12}"),
    "isIsbn": _rx(r"[0-9-]{0,32}"),
    "isMpn": lambda v: len(v) <= 40,
    "isLanguageIsoCode": _rx(r"[a-zA-Z]{2,3}"),
    "isLanguageCode": _rx(r"[a-zA-Z]{2}(-[a-zA-Z]{2})?"),
    "isLocale": _rx(r"[a-z]{2}-[A-Z]{2}"),
    "isStateIsoCode": _rx(r"[a-zA-Z0-9]{1,4}(-[a-zA-Z0-9]{1,4})?"),
    "isNumericIsoCode": _rx(r"[0-9]{2,3}"),
    "isColor": _rx(r"#[0-9a-fA-F]{6}|[a-zA-Z0-9-]*"),
    "isLinkRewrite": _rx(r"[_a-zA-Z0-9-]+"),  # PS_ALLOW_ACCENTED_CHARS_URL off (the default)
    "isModuleName": _rx(r"[a-zA-Z0-9_-]+"),
    "isTplName": _rx(r"[a-zA-Z0-9_-]+"),
    "isThemeName": _rx(r"[\w-]{3,255}"),
    "isMd5": _rx(r"[0-9a-fA-F]{32}"),
    "isSha1": _rx(r"[0-9a-fA-F]{40}"),
    "isHashedPassword": lambda v: len(v) in (32, 60),
    "isTrackingNumber": _rx(r"[~:#,%&_=()\[\].? +\-@/a-zA-Z0-9]+"),
    "isReductionType": lambda v: v in ("amount", "percentage"),
    "isUrl": _url,
    "isAbsoluteUrl": _rx(r"https?://[$~:;#,%&_=()\[\].? +\-@/a-zA-Z0-9]+"),
    "isCleanHtml": lambda v: _CLEAN_HTML_BAD.search(v) is None,
    "isZipCodeFormat": _rx(r"[NLCnlc 0-9-]+"),
    "isProductVisibility": lambda v: _VISIBILITY.search(v) is not None,
    "isPriceDisplayMethod": _price_display_method,
    "isApe": _rx(r"[0-9]{3,4}[a-zA-Z]"),
}

KNOWN_VALIDATORS = frozenset(VALIDATORS)
_BY_LOWER = {name.lower(): fn for name, fn in VALIDATORS.items()}


def validator(name: str) -> Predicate | None:
    """The predicate of validator ``name`` (any letter case), or None when it is not known."""
    return _BY_LOWER.get(name.lower())


def check(name: str | None, value: str) -> bool:
    """True when ``value`` passes validator ``name``; no validator or an unknown one passes."""
    if name is None:
        return True
    fn = validator(name)
    return True if fn is None else fn(value)
