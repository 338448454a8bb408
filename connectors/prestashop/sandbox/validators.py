"""PrestaShop 8.2 ``Validate::*`` rules as the reference paraphrases them (§7).

``check(name, value)`` returns True when ``value`` passes validator ``name``. Callers only run a
validator on non-empty values: PrestaShop skips format checks for ``""`` and ``"0"`` (PHP
``empty()``), which :func:`php_empty` reproduces. An unknown validator name passes, as a shop
with a module-provided validator would not be checked by the core either.
"""

from __future__ import annotations

import datetime as _dt
import re
from collections.abc import Callable

__all__ = ["check", "php_empty", "KNOWN_VALIDATORS"]


def php_empty(value: object) -> bool:
    """PHP ``empty()`` for the values the sandbox stores (str, None, dicts)."""
    return value is None or value == "" or value == "0" or value == {} or value == []


def _rx(pattern: str, flags: int = 0) -> Callable[[str], bool]:
    compiled = re.compile(pattern, flags)
    return lambda v: compiled.fullmatch(v) is not None


def _no_chars(chars: str) -> Callable[[str], bool]:
    bad = set(chars)
    return lambda v: not any(c in bad for c in v)


def _unsigned_int(v: str) -> bool:
    return v.isdigit() and v.isascii() and int(v) <= 4294967295


def _int(v: str) -> bool:
    return re.fullmatch(r"[-+]?[0-9]+", v) is not None


def _float(v: str) -> bool:
    try:
        f = float(v)
    except ValueError:
        return False
    # PHP: strval((float) $v) == $v; accept the usual decimal spellings, refuse "1,5" and "1e3x".
    return re.fullmatch(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?", v) is not None and f == f


def _unsigned_float(v: str) -> bool:
    return _float(v) and float(v) >= 0


def _real_date(v: str, with_time_optional: bool = True) -> bool:
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})( ([0-9]{2}):([0-9]{2}):([0-9]{2}))?", v)
    if not m:
        return False
    try:
        _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return True


def _date_format(v: str) -> bool:
    return re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}( [0-9]{2}:[0-9]{2}:[0-9]{2})?", v) is not None


def _birth_date(v: str) -> bool:
    if v in ("", "0000-00-00"):
        return True
    m = re.fullmatch(r"([0-9]{4})-([0-9]{2})-([0-9]{2})", v)
    if not m:
        return False
    try:
        d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return False
    return d <= _dt.date.today()


def _customer_name(v: str) -> bool:
    if not v.strip():
        return False
    if any(c.isdigit() for c in v) or any(c in "!<>,;?=+()/\\@#\"°*`{}_^$%:¤[]|" for c in v):
        return False
    # A dot is only allowed when followed by a space or at the end of the name.
    return re.search(r"[.。](?=[^ ])", v) is None


def _email(v: str) -> bool:
    # Loose mode of the Symfony constraint: something@something.tld without spaces.
    return re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v) is not None and len(v) <= 255


def _tracking(v: str) -> bool:
    return re.fullmatch(r"[~:#,%&_=\(\)\[\]\.\? \+\-@/a-zA-Z0-9]+", v) is not None


def _clean_html(v: str) -> bool:
    low = v.lower()
    if "<script" in low or re.search(r"\bon[a-z]+\s*=", low) or re.search(r"[a-z]+script\s*:", low):
        return False
    if "\u202e" in v:
        return False
    return not re.search(r"<\s*(iframe|frame|form|input|embed|object)\b", low)


_VALIDATORS: dict[str, Callable[[str], bool]] = {
    "isUnsignedId": _unsigned_int,
    "isUnsignedInt": _unsigned_int,
    "isNullOrUnsignedId": _unsigned_int,
    "isPositiveInt": lambda v: _unsigned_int(v) and int(v) > 0,
    "isInt": _int,
    "isBool": lambda v: v in ("0", "1"),
    "isPrice": _rx(r"[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isNegativePrice": _rx(r"-?[0-9]{1,10}(\.[0-9]{1,9})?"),
    "isFloat": _float,
    "isUnsignedFloat": _unsigned_float,
    "isPercentage": lambda v: _float(v) and 0 <= float(v) <= 100,
    "isDate": _real_date,
    "isDateFormat": _date_format,
    "isBirthDate": _birth_date,
    "isDateOrNull": lambda v: v.startswith("0000-00-00") or _real_date(v),
    "isGenericName": _no_chars("<>={}"),
    "IsGenericName": _no_chars("<>={}"),
    "isCatalogName": _no_chars("<>;=#{}"),
    "isName": lambda v: not any(c.isdigit() for c in v) and _no_chars("!<>,;?=+()@#\"°{}_$%:¤|")(v),
    "isCustomerName": _customer_name,
    "isAddress": _no_chars("!<>?=+@{}_$%"),
    "isCityName": _no_chars("!<>;?=+@#\"°{}_$%"),
    "isMessage": _no_chars("<>{}"),
    "isReference": _no_chars("<>;={}"),
    "isString": lambda v: True,
    "isEmail": _email,
    "isPhoneNumber": _rx(r"[+0-9. ()/-]*"),
    "isPostCode": _rx(r"[a-zA-Z 0-9-]+"),
    "isDniLite": _rx(r"[0-9A-Za-z\-.]{1,16}"),
    "isEan13": _rx(r"[0-9]{0,13}"),
    "isUpc": _rx(r"[0-9]{0,12}"),
    "isIsbn": _rx(r"[0-9-]{0,32}"),
    "isMpn": lambda v: len(v) <= 40,
    "isLanguageIsoCode": _rx(r"[a-zA-Z]{2,3}"),
    "isStateIsoCode": _rx(r"[a-zA-Z0-9]{1,4}((-)[a-zA-Z0-9]{1,4})?"),
    "isNumericIsoCode": _rx(r"[0-9]{2,3}"),
    "isColor": _rx(r"(#[0-9a-fA-F]{6}|[a-zA-Z0-9-]*)"),
    "isLinkRewrite": _rx(r"[_a-zA-Z0-9\-]+"),
    "isModuleName": _rx(r"[a-zA-Z0-9_-]+"),
    "isTplName": _rx(r"[a-zA-Z0-9_-]+"),
    "isThemeName": _rx(r"[a-zA-Z0-9_.-]+"),
    "isMd5": _rx(r"[a-f0-9A-F]{32}"),
    "isSha1": _rx(r"[a-fA-F0-9]{40}"),
    "isHashedPassword": lambda v: len(v) in (32, 60),
    "isTrackingNumber": _tracking,
    "isReductionType": lambda v: v in ("amount", "percentage"),
    "isUrl": _rx(r"[~:#,$%&_=\(\)\.\? \+\-@/a-zA-Z0-9]+"),
    "isAbsoluteUrl": _rx(r"https?://[!,:#%&_=\(\)\.\? \+\-@/a-zA-Z0-9]+"),
    "isCleanHtml": _clean_html,
    "isLocale": _rx(r"[a-z]{2}-[A-Z]{2}"),
    "isLanguageCode": _rx(r"[a-zA-Z]{2}(-[a-zA-Z]{2})?"),
    "isPhpDateFormat": _no_chars("<>"),
    "isZipCodeFormat": _rx(r"[NLCnlc 0-9-]+"),
    "isProductVisibility": lambda v: v in ("both", "catalog", "search", "none"),
    "isCarrierName": _no_chars("<>;=#{}"),
    "isApe": _rx(r"[0-9]{3,4}[a-zA-Z]{1}"),
    "isPriceDisplayMethod": lambda v: v in ("0", "1"),
}

KNOWN_VALIDATORS = frozenset(_VALIDATORS)


def check(name: str | None, value: str) -> bool:
    """True when ``value`` satisfies the PrestaShop validator ``name`` (None passes)."""
    if name is None:
        return True
    fn = _VALIDATORS.get(name)
    return True if fn is None else fn(value)
