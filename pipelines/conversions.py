"""Value conversions of compiled mappings: numbers with explicit rounding, booleans and
``AxdEnum_NoYes``, dates and time zones, currency conversion.

Every function is pure and total over ``None`` (a missing value stays missing) and raises
:class:`ValueError` with a plain sentence on impossible input; the compiled mapping turns that
into a :class:`connectors.errors.MappingError` naming the record and the field.
"""

from __future__ import annotations

import decimal
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "ROUNDING_MODES",
    "convert_currency",
    "datetime_converter",
    "decimal_number",
    "decimal_converter",
    "format_datetime",
    "from_noyes",
    "not_a_number",
    "num",
    "parse_datetime",
    "to_bool01",
    "to_decimal",
    "to_int",
    "to_noyes",
    "to_str",
]

ROUNDING_MODES: dict[str, str] = {
    "half_up": decimal.ROUND_HALF_UP,
    "half_even": decimal.ROUND_HALF_EVEN,
    "half_down": decimal.ROUND_HALF_DOWN,
    "up": decimal.ROUND_UP,
    "down": decimal.ROUND_DOWN,
    "ceiling": decimal.ROUND_CEILING,
    "floor": decimal.ROUND_FLOOR,
}

_QUANTS = {p: Decimal(1).scaleb(-p) for p in range(0, 10)}
_TRUE_STRINGS = frozenset({"1", "true", "yes", "y", "on"})
_FALSE_STRINGS = frozenset({"0", "false", "no", "n", "off", ""})
# PrestaShop prints empty dates as zero dates; they mean "no date".
_ZERO_DATES = frozenset({"0000-00-00", "0000-00-00 00:00:00"})


def not_a_number(value: Any) -> ValueError:
    """The error for text that is not a number (the value shortened to 40 characters)."""
    return ValueError(f"{_short(value)!r} is not a number")


def num(value: Any) -> Decimal | int | None:
    """Read a number from PrestaShop strings (``"12.500000"``), AX decimals, ints or floats.

    ``None`` and ``""`` give ``None``; booleans give 0/1; floats go through ``str`` so that
    ``0.1`` stays ``Decimal("0.1")``. Raises ValueError for text that is not a number.
    """
    cls = value.__class__
    if cls is Decimal or cls is int:
        return value  # type: ignore[no-any-return]
    if value is None:
        return None
    if cls is str:
        text = value.strip()
        if not text:
            return None
        try:
            return Decimal(text)
        except decimal.InvalidOperation:
            raise not_a_number(value) from None
    if cls is bool:
        return int(value)
    if cls is float:
        return Decimal(repr(value))
    raise ValueError(f"a {cls.__name__} is not a number")


def decimal_number(value: Any) -> Decimal | int | None:
    """:func:`num` as a decimal conversion reads its input: the same number, except that blank
    text (spaces only) is an error instead of a missing value."""
    if value.__class__ is str and value:
        try:
            return Decimal(value)  # Decimal ignores surrounding spaces, as num() does
        except decimal.InvalidOperation:
            raise not_a_number(value) from None
    return num(value)


def to_decimal(value: Any, places: int | None = 2, rounding: str = "half_up") -> Decimal | None:
    """A Decimal rounded to ``places`` decimals with the named rounding mode (``None`` keeps all)."""
    n = num(value)
    if n is None:
        return None
    d = n if n.__class__ is Decimal else Decimal(n)
    if places is None:
        return d  # type: ignore[return-value]
    return d.quantize(_QUANTS[places], rounding=ROUNDING_MODES[rounding])  # type: ignore[union-attr]


def decimal_converter(places: int | None, rounding: str = "half_up") -> Any:
    """A fast ``to_decimal`` with fixed places and rounding, for compiled mappings: one call
    per value instead of two, the quantum and mode looked up once."""
    quantum = _QUANTS[places] if places is not None else None
    mode = ROUNDING_MODES[rounding]
    dec = Decimal

    def convert(value: Any) -> Decimal | None:
        cls = value.__class__
        if cls is dec:
            d = value
        elif cls is str and value:
            try:
                d = dec(value)
            except decimal.InvalidOperation:
                raise not_a_number(value) from None
        else:
            n = num(value)
            if n is None:
                return None
            d = dec(n)
        return d if quantum is None else d.quantize(quantum, rounding=mode)

    return convert


def to_int(value: Any, rounding: str = "half_up") -> int | None:
    """An int, rounding fractional input with the named mode (``"2.5"`` -> 3 with half_up)."""
    if value.__class__ is str and value.isdigit() and value.isascii():
        return int(value)  # the common case: an id or a quantity as text
    n = num(value)
    if n is None or n.__class__ is int:
        return n  # type: ignore[return-value]
    return int(n.quantize(_QUANTS[0], rounding=ROUNDING_MODES[rounding]))  # type: ignore[union-attr]


def to_str(value: Any) -> str | None:
    """Text of a value; Decimals print without exponent, booleans as ``"1"``/``"0"``."""
    if value is None or value.__class__ is str:
        return value  # type: ignore[no-any-return]
    if value.__class__ is bool:
        return "1" if value else "0"
    if value.__class__ is Decimal:
        return format(value, "f")
    return str(value)


def _truth(value: Any) -> bool | None:
    if value is None:
        return None
    if value.__class__ is str:
        low = value.strip().lower()
        if low in _TRUE_STRINGS:
            return True
        if low in _FALSE_STRINGS:
            return False
        raise ValueError(f"{_short(value)!r} is not a boolean (expected 0/1, true/false, yes/no)")
    return bool(value)


def to_noyes(value: Any) -> str | None:
    """Boolean-ish value (PrestaShop ``"0"``/``"1"``) to AX ``AxdEnum_NoYes`` (``"No"``/``"Yes"``)."""
    t = _truth(value)
    return None if t is None else ("Yes" if t else "No")


def from_noyes(value: Any) -> str | None:
    """AX ``AxdEnum_NoYes`` to PrestaShop's boolean text ``"1"``/``"0"``."""
    if value is None:
        return None
    if value in ("Yes", "No"):
        return "1" if value == "Yes" else "0"
    t = _truth(value)
    return None if t is None else ("1" if t else "0")


def to_bool01(value: Any) -> str | None:
    """Any boolean-ish value to PrestaShop's ``"1"``/``"0"`` (``isBool`` refuses true/false)."""
    return from_noyes(value)


_PS_DATETIME = "%Y-%m-%d %H:%M:%S"
_DATE = "%Y-%m-%d"


def _iso_shaped(text: str, fmt: str) -> bool:
    # exactly YYYY-MM-DD[ HH:MM:SS] with ASCII digits: nothing else the ISO parser would accept
    if fmt == _PS_DATETIME:
        shape = len(text) == 19 and text[10] == " " and text[13] == ":" and text[16] == ":"
    elif fmt == _DATE:
        shape = len(text) == 10
    else:
        return False
    return shape and text[4] == "-" and text[7] == "-" and text.isascii() and text[:4].isdigit()


def parse_datetime(value: Any, fmt: str | None, tz: str) -> datetime | None:
    """Parse a date/date-time into an aware datetime.

    ``fmt`` is a strptime format (``None`` means ISO 8601, where a trailing ``Z`` or offset wins
    over ``tz``); naive values are read in the time zone ``tz`` (an IANA name or ``UTC``).
    PrestaShop zero dates give ``None``.
    """
    if value is None:
        return None
    if value.__class__ is datetime:
        dt = value
    elif value.__class__ is date:
        dt = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        if not text or text in _ZERO_DATES:
            return None
        try:
            if fmt is None:
                dt = datetime.fromisoformat(text)
            elif _iso_shaped(text, fmt):
                # PrestaShop's and AX's usual shapes: the ISO parser reads them exactly, 20x faster
                dt = datetime.fromisoformat(text)
            else:
                dt = datetime.strptime(text, fmt)
        except ValueError:
            raise ValueError(
                f"{_short(text)!r} does not match the date format {fmt or 'ISO 8601'!r}"
            ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=_zone(tz))
    return dt


def format_datetime(dt: datetime | None, fmt: str, tz: str) -> str | None:
    """Format an aware datetime in the time zone ``tz``. ``fmt`` ``"iso"`` gives an XML Schema
    ``dateTime`` (what AX reads): ``...Z`` for UTC, else the offset as ``+02:00``."""
    if dt is None:
        return None
    local = dt.astimezone(_zone(tz))
    if fmt == "iso":
        if tz.upper() == "UTC":
            return local.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
        return local.isoformat(timespec="seconds")
    return local.strftime(fmt)


def datetime_converter(from_format: str | None, from_tz: str, to_format: str, to_tz: str) -> Any:
    """``format_datetime(parse_datetime(v, from_format, from_tz), to_format, to_tz)`` with the
    zones resolved once, for compiled mappings. The two usual output shapes (``%Y-%m-%d`` and
    PrestaShop's ``%Y-%m-%d %H:%M:%S``) are printed by ``isoformat``, which gives the same text
    as ``strftime`` for years 1000-9999 at a fraction of the cost; other years and formats use
    ``strftime``."""
    zone = _zone(to_tz)
    _zone(from_tz)  # an unknown zone fails now, when the mapping is compiled
    if to_format == "iso":
        return lambda value: format_datetime(parse_datetime(value, from_format, from_tz), "iso", to_tz)
    iso_date = to_format == _DATE
    iso_datetime = to_format == _PS_DATETIME
    source = _zone(from_tz)
    shop_text = from_format == _PS_DATETIME

    def convert(value: Any) -> str | None:
        if (
            shop_text
            and value.__class__ is str
            and len(value) == 19
            and value[10] == " "
            and value[4] == "-"
            and value[7] == "-"
            and value[13] == ":"
            and value[16] == ":"
            and value.isascii()
            and value[:4].isdigit()
            and value != "0000-00-00 00:00:00"
        ):
            # PrestaShop's own shape, read as parse_datetime reads it (an invalid date such as
            # month 13 goes through parse_datetime below for its error)
            try:
                dt: datetime | None = datetime.fromisoformat(value).replace(tzinfo=source)
            except ValueError:
                dt = parse_datetime(value, from_format, from_tz)
        else:
            dt = parse_datetime(value, from_format, from_tz)
        if dt is None:
            return None
        local = dt.astimezone(zone)
        if local.year >= 1000:
            if iso_date:
                return local.date().isoformat()
            if iso_datetime:
                return local.replace(tzinfo=None).isoformat(" ", "seconds")
        return local.strftime(to_format)

    return convert


_ZONES: dict[str, Any] = {}


def _zone(name: str) -> Any:
    z = _ZONES.get(name)
    if z is None:
        z = UTC if name.upper() == "UTC" else ZoneInfo(name)
        _ZONES[name] = z
    return z


def convert_currency(amount: Any, rate: Any, op: str, places: int | None, rounding: str) -> Decimal | None:
    """``amount * rate`` (op ``multiply``) or ``amount / rate`` (op ``divide``), then rounded.

    A missing amount stays missing; a missing or zero rate is an error because silently
    keeping the unconverted amount would book the wrong money.
    """
    a = num(amount)
    if a is None:
        return None
    r = num(rate)
    if r is None or r == 0:
        raise ValueError(f"the currency rate is {'missing' if r is None else 'zero'}")
    value = Decimal(a) * r if op == "multiply" else Decimal(a) / Decimal(r)
    return to_decimal(value, places, rounding)


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."
