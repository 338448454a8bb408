"""Building the webservice's list parameters: ``display``, ``filter[...]``, ``sort``, ``limit``.

Filter values use PrestaShop's own bracket syntax. A plain string is sent as it is (so any
syntax the shop understands can be written by hand); the :class:`F` helpers build the common
operators and refuse values that the syntax cannot carry (``[``, ``]`` and ``|`` have no escape).

=====================  ==============  ==========================
helper                 sent as         SQL on the shop
=====================  ==============  ==========================
``F.eq(x)``            ``[x]``         ``= 'x'``
``F.any_of(a, b)``     ``[a|b]``       ``= 'a' OR = 'b'``
``F.none_of(a, b)``    ``![a|b]``      ``!= 'a' AND != 'b'``
``F.between(a, b)``    ``[a,b]``       ``BETWEEN`` (inclusive; numbers/dates only)
``F.gt(x)``            ``>[x]``        ``> 'x'`` (strict)
``F.lt(x)``            ``<[x]``        ``< 'x'`` (strict)
``F.contains(x)``      ``%[x]%``       ``LIKE '%x%'``
``F.startswith(x)``    ``[x]%``        ``LIKE 'x%'``
``F.endswith(x)``      ``%[x]``        ``LIKE '%x'``
=====================  ==============  ==========================
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from connectors.errors import ValidationError

from .codec import format_scalar

__all__ = ["F", "DATE_FIELDS", "list_params"]

DATE_FIELDS = frozenset({"date_add", "date_upd"})
_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RANGE_RE = re.compile(r"^[0-9.:\- ]+$")


def _value(v: Any) -> str:
    text = format_scalar(v)
    if any(ch in text for ch in "[]|"):
        raise ValidationError(
            f"The filter value {text!r} contains '[', ']' or '|', which PrestaShop's filter syntax cannot escape.",
            system="prestashop",
        )
    return text


class F:
    """Constructors of filter expressions (see the module table)."""

    @staticmethod
    def eq(value: Any) -> str:
        return f"[{_value(value)}]"

    @staticmethod
    def any_of(*values: Any) -> str:
        if not values:
            raise ValidationError("F.any_of() needs at least one value.", system="prestashop")
        return "[" + "|".join(_value(v) for v in values) + "]"

    @staticmethod
    def none_of(*values: Any) -> str:
        if not values:
            raise ValidationError("F.none_of() needs at least one value.", system="prestashop")
        return "![" + "|".join(_value(v) for v in values) + "]"

    @staticmethod
    def between(low: Any, high: Any) -> str:
        lo, hi = _value(low), _value(high)
        if not (_RANGE_RE.match(lo) and _RANGE_RE.match(hi)):
            # PrestaShop would silently compare with the literal "a,b" instead of a range.
            raise ValidationError(
                "F.between() bounds must be numbers or dates; PrestaShop treats other values as one literal.",
                system="prestashop",
            )
        return f"[{lo},{hi}]"

    @staticmethod
    def gt(value: Any) -> str:
        return f">[{_value(value)}]"

    @staticmethod
    def lt(value: Any) -> str:
        return f"<[{_value(value)}]"

    @staticmethod
    def contains(value: Any) -> str:
        return f"%[{_value(value)}]%"

    @staticmethod
    def startswith(value: Any) -> str:
        return f"[{_value(value)}]%"

    @staticmethod
    def endswith(value: Any) -> str:
        return f"%[{_value(value)}]"


def _field(name: str, what: str) -> str:
    if not _FIELD_RE.match(name):
        raise ValidationError(f"'{name}' is not a valid field name for {what}.", system="prestashop")
    return name


def display_param(display: str | Sequence[str] | None) -> str | None:
    """``"full"``, a field list (``["id", "categories[id]"]``) or ``None`` (ids only)."""
    if display is None:
        return None
    if isinstance(display, str):
        return display
    return "[" + ",".join(display) + "]"


def sort_param(sort: str | Sequence[str] | None) -> tuple[str | None, set[str]]:
    """Return the ``sort`` value and the fields it names. Items are ``field_ASC``/``field_DESC``."""
    if sort is None:
        return None, set()
    items = [sort] if isinstance(sort, str) else list(sort)
    if len(items) == 1 and items[0].startswith("["):
        inner = items[0].strip("[]")
        items = [s for s in inner.split(",") if s]
    fields: set[str] = set()
    for item in items:
        name, _, direction = item.rpartition("_")
        if direction not in ("ASC", "DESC") or not name:
            raise ValidationError(
                f"Sort item '{item}' must be a field name followed by _ASC or _DESC.", system="prestashop"
            )
        fields.add(_field(name, "sort"))
    return "[" + ",".join(items) + "]", fields


def list_params(
    *,
    display: str | Sequence[str] | None = None,
    filters: Mapping[str, Any] | None = None,
    sort: str | Sequence[str] | None = None,
    limit: int | tuple[int, int] | None = None,
    date: bool | None = None,
    language: int | Sequence[int] | None = None,
    extra: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """The query parameters of a list/get request, in a stable order.

    ``date=1`` is added automatically when a filter or the sort names ``date_add``/``date_upd``
    (PrestaShop refuses them otherwise with error 32/38). ``limit`` is a count or
    ``(offset, count)``.
    """
    params: list[tuple[str, str]] = []
    disp = display_param(display)
    if disp is not None:
        params.append(("display", disp))
    needs_date = False
    for name, value in (filters or {}).items():
        _field(name, "a filter")
        needs_date = needs_date or name in DATE_FIELDS
        text = value if isinstance(value, str) else F.eq(value)
        if text == "":
            raise ValidationError(f"The filter on '{name}' is empty; PrestaShop answers error 33.", system="prestashop")
        params.append((f"filter[{name}]", text))
    sort_value, sort_fields = sort_param(sort)
    if sort_value is not None:
        params.append(("sort", sort_value))
        needs_date = needs_date or bool(sort_fields & DATE_FIELDS)
    if limit is not None:
        if isinstance(limit, tuple):
            offset, count = limit
            params.append(("limit", f"{int(offset)},{int(count)}"))
        else:
            params.append(("limit", str(int(limit))))
    if date or (date is None and needs_date):
        params.append(("date", "1"))
    if language is not None:
        if isinstance(language, int):
            params.append(("language", str(language)))
        else:
            params.append(("language", "[" + "|".join(str(int(x)) for x in language) + "]"))
    for key, value in (extra or {}).items():
        params.append((key, value))
    return params
