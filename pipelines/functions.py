"""Functions that expressions may call (text, rows, translations), plus the conversions.

Every function here is pure, total over ``None`` (a missing value stays missing unless a
function says otherwise) and raises :class:`ValueError`/:class:`TypeError` with a plain
sentence on impossible input; the compiled mapping turns those into a
:class:`connectors.errors.MappingError` that names the record and the field.

``EXPRESSION_FUNCTIONS`` is the whitelist of names an expression may call. Nothing else is
reachable from a mapping file.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

# conversions are re-exported: compiled code and callers reach everything through this module
from pipelines.conversions import (
    ROUNDING_MODES,
    convert_currency,
    datetime_converter,
    decimal_converter,
    decimal_number,
    format_datetime,
    from_noyes,
    not_a_number,
    num,
    parse_datetime,
    to_bool01,
    to_decimal,
    to_int,
    to_noyes,
    to_str,
)

__all__ = [
    "EXPRESSION_FUNCTIONS",
    "ROUNDING_MODES",
    "convert_currency",
    "datetime_converter",
    "decimal_converter",
    "decimal_number",
    "format_datetime",
    "from_noyes",
    "lang_values",
    "lang_values_for",
    "not_a_number",
    "num",
    "parse_datetime",
    "slug",
    "to_bool01",
    "to_decimal",
    "to_int",
    "to_noyes",
    "to_str",
]


# ---- string helpers exposed to expressions -------------------------------------------------


def concat(*parts: Any) -> str | None:
    """Join the non-empty parts with no separator; all empty gives ``None``."""
    try:
        out = "".join(parts)  # the usual case: PrestaShop sends text
    except TypeError:
        out = "".join([p if p.__class__ is str else (to_str(p) or "") for p in parts])
    return out or None


def join(sep: str, parts: Iterable[Any]) -> str | None:
    """Join the non-empty parts with ``sep`` (street lines, first + last name)."""
    items = []
    for p in parts:
        text = p if p.__class__ is str else to_str(p)
        if text:
            text = text.strip()
            if text:
                items.append(text)
    return sep.join(items) or None


def coalesce(*values: Any) -> Any:
    """The first value that is neither ``None`` nor ``""``."""
    for v in values:
        if v is not None and v != "":
            return v
    return None


def split_part(text: Any, sep: str, index: int) -> str | None:
    """Part ``index`` of ``text`` split on ``sep``; a negative index counts from the end;
    missing parts give ``None``. ``split_part(street, "\\n", 1)`` is the second street line."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(sep)]
    try:
        return parts[index] or None
    except IndexError:
        return None


def rest_parts(text: Any, sep: str, start: int, joiner: str = " ") -> str | None:
    """Parts ``start..`` of ``text`` split on ``sep``, joined with ``joiner`` (so nothing is lost
    when an AX street block has more lines than PrestaShop has address fields)."""
    if text is None:
        return None
    parts = [p.strip() for p in str(text).split(sep)[start:] if p.strip()]
    return joiner.join(parts) or None


def split_name(full: Any, part: str) -> str | None:
    """Split a full name: ``"first"`` is everything but the last word, ``"last"`` the last word.
    A single word is the last name (PrestaShop requires a last name)."""
    if full is None:
        return None
    words = str(full).split()
    if not words:
        return None
    if part == "last":
        return words[-1]
    if part == "first":
        return " ".join(words[:-1]) or None
    raise ValueError(f"split_name part must be 'first' or 'last', not {part!r}")


def wrap_part(text: Any, width: int, index: int) -> str | None:
    """Line ``index`` of ``text`` wrapped at word boundaries to ``width`` characters, or ``None``
    past the end (so a street of 200 characters fills address1 then address2). A single word
    longer than ``width`` stays whole: validation then reports it instead of a silent cut."""
    if text is None:
        return None
    words = str(text).split()
    lines: list[str] = []
    current = ""
    for w in words:
        if current and len(current) + 1 + len(w) > width:
            lines.append(current)
            current = w
        else:
            current = f"{current} {w}" if current else w
    if current:
        lines.append(current)
    return lines[index] if 0 <= index < len(lines) else None


def truncate(text: Any, length: int) -> str | None:
    """At most ``length`` characters (use only where cutting is acceptable, e.g. search names)."""
    return None if text is None else str(text)[:length]


def _items(values: Any) -> list[Any]:
    if values.__class__ is list:
        return values  # type: ignore[no-any-return]
    if values is None:
        return []
    if isinstance(values, Mapping):
        return [values]  # a single association row decodes as an object
    return list(values)


def sum_of(rows: Any, field: str | None = None) -> Decimal | int:
    """Sum of ``row[field]`` over rows (or of the values themselves); missing values count 0."""
    total: Decimal | int = 0
    for r in _items(rows):
        v = num(r.get(field) if field is not None else r)
        if v is not None:
            total = total + v
    return total


def count(rows: Any) -> int:
    """Number of rows (a missing list counts 0)."""
    return len(_items(rows))


def pluck(rows: Any, field: str) -> list[Any]:
    """The list of ``row[field]`` over rows."""
    return [r.get(field) for r in _items(rows)]


def first(rows: Any) -> Any:
    """The first row, or ``None``."""
    if rows.__class__ is list:
        return rows[0] if rows else None
    items = _items(rows)
    return items[0] if items else None


def where_eq(rows: Any, field: str, value: Any) -> list[Any]:
    """Rows whose ``field`` equals ``value`` (compared as text, so ``1`` matches ``"1"``)."""
    want = to_str(value)
    return [r for r in _items(rows) if to_str(r.get(field)) == want]


def where_in(rows: Any, path: str, values: Iterable[Any]) -> list[Any]:
    """Rows whose dotted ``path`` value is in ``values`` (compared as text)."""
    wanted = {to_str(v) for v in values}
    keys = path.split(".")
    out = []
    for r in _items(rows):
        v: Any = r
        for k in keys:
            v = v.get(k) if isinstance(v, Mapping) else None
        if to_str(v) in wanted:
            out.append(r)
    return out


# (items, lang_field, len(items), {language: row}) of the last lang_values call. A mapping
# usually reads the same translation rows twice (name, description); indexing them once
# halves the work. The tuple keeps `items` alive, so its identity cannot be reused.
_LAST_INDEX: tuple[Any, Any, int, dict[str, Any]] = (None, None, -1, {})


def lang_values(
    items: Any, lang_field: str, value_field: str, lang_map: Mapping[str, Any], fallback: str
) -> list[dict[str, str]]:
    """Build a PrestaShop multilingual value ``[{"id": "1", "value": ...}, ...]`` from AX
    translation rows, one entry per shop language in ``lang_map`` (AX language id -> PrestaShop
    language id). A shop language without an AX translation gets the ``fallback`` language's
    text, so every shop language is filled (PrestaShop validates the default language)."""
    return lang_values_for(lang_field, value_field, lang_map, fallback)(items)


def _translation_index(items: Any, lang_field: str) -> dict[str, Any]:
    global _LAST_INDEX
    last = _LAST_INDEX  # one read: another thread may replace it, never half-update it
    size = len(items) if items.__class__ is list else -2
    if last[0] is items and last[1] == lang_field and last[2] == size:
        return last[3]  # the same translations as the previous call (name, then description)
    rows: dict[str, Any] = {}
    for row in _items(items):
        code = row.get(lang_field)
        if code is not None:
            rows[code.lower() if code.__class__ is str else str(code).lower()] = row
    _LAST_INDEX = (items, lang_field, size, rows)
    return rows


def lang_values_for(lang_field: str, value_field: str, lang_map: Mapping[str, Any], fallback: str) -> Any:
    """:func:`lang_values` with its fixed arguments bound once (the compiler uses this when
    they are constants, as they are in a mapping): returns ``f(items)``."""
    langs = [(str(k).lower(), to_str(v) or "") for k, v in lang_map.items()]
    fallback_key = fallback.lower()

    def values(items: Any) -> list[dict[str, str]]:
        rows = _translation_index(items, lang_field)
        fallback_row = rows.get(fallback_key)
        default = fallback_row.get(value_field) if fallback_row is not None else None
        out = []
        for ax_lang, ps_id in langs:
            row = rows.get(ax_lang)
            value = row.get(value_field) if row is not None else default
            out.append({"id": ps_id, "value": value if value.__class__ is str else (to_str(value) or "")})
        return out

    return values


# A slug keeps ASCII letters (lower-cased) and digits; every other character separates words.
# Non-ASCII characters are folded to ASCII by their compatibility decomposition (NFKD) without
# the marks, so "é" gives "e" and "ﬁ" gives "fi". Folding character by character gives the same
# text as folding the whole string (the canonical reordering of NFKD only moves combining marks,
# which are dropped), so each character's result is computed once and kept in a table;
# ``str.translate`` with it and one split/join replace a regular expression per text.
_SLUG_ASCII = {i: (chr(i).lower() if chr(i).isascii() and chr(i).isalnum() else " ") for i in range(128)}


class _SlugTable(dict[int, str]):
    """Code point -> its slug characters (``[a-z0-9]`` or spaces), filled on first sight."""

    def __missing__(self, code: int) -> str:
        folded = unicodedata.normalize("NFKD", chr(code)).encode("ascii", "ignore").decode()
        text = "".join(_SLUG_ASCII[ord(c)] for c in folded)
        if len(self) < 8192:  # bounded: odd input cannot grow it without limit
            self[code] = text
        return text


_SLUG_TABLE = _SlugTable(_SLUG_ASCII)
# the same for ASCII text as bytes: bytes.translate is a plain 256-byte table, the fastest path
_SLUG_BYTES = bytes(ord(_SLUG_ASCII[i]) for i in range(128)) + bytes(range(128, 256))


def _slug_text(s: str) -> str:
    if s.isascii():
        return b"-".join(s.encode().translate(_SLUG_BYTES).split()).decode()
    return "-".join(s.translate(_SLUG_TABLE).split())


def slug(text: Any) -> str | None:
    """A PrestaShop ``link_rewrite``: ASCII-folded, lower-case, runs of other characters as ``-``."""
    if text is None:
        return None
    return _slug_text(text if text.__class__ is str else str(text)) or None


def slug_values(values: Any) -> list[dict[str, str]]:
    """``slug`` applied to each value of a multilingual list (``[{"id", "value"}]``)."""
    out = []
    last_text: Any = None
    last_slug = ""
    for v in values if values.__class__ is list else _items(values):
        text = v.get("value")
        if text is None:
            out.append({"id": v.get("id"), "value": ""})
            continue
        if text != last_text:  # languages without a translation repeat the fallback's text
            last_text = text
            last_slug = _slug_text(text if text.__class__ is str else str(text))
        out.append({"id": v.get("id"), "value": last_slug})
    return out


def _round(value: Any, places: int = 0, rounding: str = "half_up") -> Decimal | None:
    return to_decimal(value, places, rounding)


def _upper(v: Any) -> str | None:
    return None if v is None else str(v).upper()


def _lower(v: Any) -> str | None:
    return None if v is None else str(v).lower()


def _strip(v: Any) -> str | None:
    return None if v is None else str(v).strip()


def _len(v: Any) -> int:
    return 0 if v is None else len(v)


def _replace(v: Any, old: str, new: str) -> str | None:
    return None if v is None else str(v).replace(old, new)


def _abs(v: Any) -> Any:
    n = num(v)
    return None if n is None else abs(n)


def _min(*values: Any) -> Any:
    best = None
    for v in values:
        n = num(v)
        if n is not None and (best is None or n < best):
            best = n
    return best


def max_with(bound: Any) -> Any:
    """``max(value, bound)`` for a fixed numeric ``bound`` (the usual ``max(x, 1)``): what the
    compiler calls instead of :func:`_max` when the second argument is a constant."""
    limit = num(bound)

    def at_least(value: Any) -> Any:
        n = num(value)
        if n is None or limit is None:
            return limit if n is None else n
        return n if n >= limit else limit

    return at_least


def _max(*values: Any) -> Any:
    if len(values) == 2:  # the usual max(x, 1): no loop
        a, b = num(values[0]), num(values[1])
        if a is None or b is None:
            return b if a is None else a
        return a if a >= b else b
    best = None
    for v in values:
        n = num(v)
        if n is not None and (best is None or n > best):
            best = n
    return best


#: name in an expression -> implementation. The only callables a mapping can reach.
EXPRESSION_FUNCTIONS: dict[str, Any] = {
    "num": num,
    "decimal": to_decimal,
    "int": to_int,
    "str": to_str,
    "round": _round,
    "noyes": to_noyes,
    "from_noyes": from_noyes,
    "bool01": to_bool01,
    "upper": _upper,
    "lower": _lower,
    "strip": _strip,
    "len": _len,
    "replace": _replace,
    "abs": _abs,
    "min": _min,
    "max": _max,
    "concat": concat,
    "join": join,
    "coalesce": coalesce,
    "split_part": split_part,
    "rest_parts": rest_parts,
    "split_name": split_name,
    "wrap_part": wrap_part,
    "truncate": truncate,
    "sum_of": sum_of,
    "count": count,
    "pluck": pluck,
    "first": first,
    "where_eq": where_eq,
    "where_in": where_in,
    "lang_values": lang_values,
    "slug": slug,
    "slug_values": slug_values,
}
