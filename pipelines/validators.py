"""PrestaShop field validators (8.2 rules) and AX value checks, as plain predicates.

``PRESTASHOP_VALIDATORS`` maps the validator names of the PrestaShop field tables
(``isEmail``, ``isGenericName``, ``isPrice``, ``isPhoneNumber``...) to functions taking the
value as text and answering whether PrestaShop would accept it. As in PrestaShop, a validator
only runs on non-empty values (PHP ``empty()``: ``""``, ``"0"``, ``0`` always pass).
``ax_type_problem`` answers what is wrong with a value for an AX field type, or ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["PRESTASHOP_VALIDATORS", "ax_type_problem", "php_empty", "prestashop_validator"]


def php_empty(value: Any) -> bool:
    """PHP ``empty()``: None, "", "0", 0, False, empty list."""
    return value is None or value == "" or value == "0" or value is False or value == 0 or value == []


def _rx(pattern: str) -> Callable[[str], bool]:
    compiled = re.compile(pattern, re.DOTALL)
    return lambda v: compiled.fullmatch(v) is not None


def _none_of(chars: str) -> Callable[[str], bool]:
    bad = set(chars)
    return lambda v: not any(c in bad for c in v)


def _unsigned(v: str) -> bool:
    return v.isdigit() and v.isascii() and int(v) <= 4294967295


def _int(v: str) -> bool:
    return re.fullmatch(r"[+-]?[0-9]+", v) is not None


def _float(v: str) -> bool:
    # PHP compares the float round-trip numerically, so "1.000000" passes and "1,5" does not
    return re.fullmatch(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?", v) is not None


def _real_date(v: str, with_time: bool = True) -> bool:
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})( [0-9]{2}:[0-9]{2}:[0-9]{2})?", v)
    if m is None or (m.group(4) and not with_time):
        return False
    try:
        date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def _birth_date(v: str) -> bool:
    if v in ("", "0000-00-00"):
        return True
    return _real_date(v, with_time=False) and v < date.today().isoformat()


_CUSTOMER_NAME_BAD = set('0123456789!<>,;?=+()/\\@#"°*`{}_^$%:¤[]|')


def _customer_name(v: str) -> bool:
    if not v.strip() or any(c in _CUSTOMER_NAME_BAD for c in v):
        return False
    # a dot is allowed only when followed by a space or at the end ("J. Smith", "Jr.")
    return re.search(r"[.。](?! |$)", v) is None


_EMAIL = re.compile(
    r"(?!\.)(?!.*\.\.)[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+(?<!\.)@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_CLEAN_HTML_BAD = re.compile(
    r"<\s*script|\bon[a-z]+\s*=|[a-z]+script\s*:|\u202e|<\s*(?:iframe|frame|form|input|embed|object)\b",
    re.IGNORECASE,
)

PRESTASHOP_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "isUnsignedId": _unsigned,
    "isUnsignedInt": _unsigned,
    "isNullOrUnsignedId": _unsigned,
    "isPositiveInt": lambda v: _unsigned(v) and int(v) > 0,
    "isInt": _int,
    "isBool": lambda v: v in ("0", "1"),
    "isPrice": _rx(r"[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isNegativePrice": _rx(r"-?[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isFloat": _float,
    "isUnsignedFloat": lambda v: _float(v) and float(v) >= 0,
    "isDate": _real_date,
    "isDateFormat": _rx(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?"),
    "isBirthDate": _birth_date,
    "isDateOrNull": lambda v: v.startswith("0000-00-00") or _real_date(v),
    "isGenericName": _none_of("<>={}"),
    "isCatalogName": _none_of("<>;=#{}"),
    "isName": lambda v: _none_of('0123456789!<>,;?=+()@#"°{}_$%:¤|')(v),
    "isCustomerName": _customer_name,
    "isAddress": _none_of("!<>?=+@{}_$%"),
    "isCityName": _none_of('!<>;?=+@#"°{}_$%'),
    "isMessage": _none_of("<>{}"),
    "isReference": _none_of("<>;={}"),
    "isEmail": lambda v: _EMAIL.fullmatch(v) is not None,
    "isPhoneNumber": _rx(r"[+0-9. ()/-]*"),
    "isPostCode": _rx(r"[a-zA-Z 0-9-]+"),
    "isDniLite": _rx(r"[0-9A-Za-z.-]{1,16}"),
    "isEan13": _rx(r"[0-9]{0,13}"),
    "isUpc": _rx(r"[0-9]{0,12}"),
    "isIsbn": lambda v: len(v) <= 32 and re.fullmatch(r"[0-9-]*[0-9Xx]?", v) is not None,
    "isMpn": lambda v: len(v) <= 40,
    "isLanguageIsoCode": _rx(r"[a-zA-Z]{2,3}"),
    "isStateIsoCode": _rx(r"[a-zA-Z0-9]{1,4}(-[a-zA-Z0-9]{1,4})?"),
    "isColor": _rx(r"#[0-9A-Fa-f]{6}|[a-zA-Z0-9-]*"),
    "isLinkRewrite": _rx(r"[_a-zA-Z0-9-]+"),
    "isModuleName": _rx(r"[a-zA-Z0-9_-]+"),
    "isTplName": _rx(r"[a-zA-Z0-9_-]+"),
    "isMd5": _rx(r"[0-9a-fA-F]{32}"),
    "isSha1": _rx(r"[0-9a-fA-F]{40}"),
    "isHashedPassword": lambda v: len(v) in (32, 60),
    "isTrackingNumber": _rx(r"[~:#,%&_=()\[\].? +\-@/a-zA-Z0-9]+"),
    "isReductionType": lambda v: v in ("amount", "percentage"),
    "isUrl": _rx(r"[~:#,$%&_=()\[\].? +\-@/a-zA-Z0-9]+"),
    "isCleanHtml": lambda v: _CLEAN_HTML_BAD.search(v) is None,
    "isLocale": _rx(r"[a-z]{2}-[A-Z]{2}"),
    "isLanguageCode": _rx(r"[a-zA-Z]{2}(-[a-zA-Z]{2})?"),
    "isZipCodeFormat": _rx(r"[NLCnlc 0-9-]+"),
    "isProductVisibility": lambda v: v in ("both", "catalog", "search", "none"),
    "isString": lambda v: True,
}

_BY_LOWER = {k.lower(): v for k, v in PRESTASHOP_VALIDATORS.items()}


def prestashop_validator(name: str) -> Callable[[str], bool] | None:
    """The predicate for a validator name (case-insensitive: the tables spell one ``IsGenericName``)."""
    return _BY_LOWER.get(name.lower())


def ax_type_problem(type_name: str, value: Any, enum_values: tuple[str, ...] | None) -> str | None:
    """What is wrong with ``value`` for an AX field of ``type_name``, or ``None`` when it fits."""
    if type_name.startswith("enum:"):
        if enum_values is not None and str(value) not in enum_values:
            shown = ", ".join(enum_values[:8]) + (", ..." if len(enum_values) > 8 else "")
            return f"is not a value of {type_name[5:]} ({shown})"
        return None
    if type_name == "decimal":
        if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
            return None
        try:
            Decimal(str(value))
        except InvalidOperation:
            return "is not a decimal number"
        return None
    if type_name in ("int", "int64"):
        return None if re.fullmatch(r"-?[0-9]+", str(value)) else "is not an integer"
    if type_name == "date":
        text = value.isoformat() if isinstance(value, date) else str(value)
        return None if _real_date(text, with_time=False) else "is not a date (YYYY-MM-DD)"
    if type_name == "datetime":
        try:
            datetime.fromisoformat(str(value))
        except ValueError:
            return "is not an ISO 8601 date-time"
        return None
    return None
