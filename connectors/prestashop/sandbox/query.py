"""GET parameters of the webservice: ``display``, ``filter[...]``, ``sort``, ``limit``, ``language``.

Each ``parse_*`` function validates one parameter the way PrestaShop 8.2 does (reference §3) and
raises :class:`~.wserrors.WsError` with the documented code on bad input. :func:`select` applies
the parsed filters, sort and limit to a resource's rows.

Comparison semantics follow MySQL as PrestaShop uses it: values are quoted strings, numeric
columns coerce them to numbers, text columns compare case-insensitively (``*_general_ci``), and
``LIKE`` patterns are case-insensitive too.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .schema import Field, Resource
from .store import Row
from .wserrors import WsError, did_you_mean

__all__ = ["Display", "Filter", "parse_display", "parse_filters", "parse_sort", "parse_limit",
           "parse_languages", "select"]

_DATE_FIELDS = ("date_add", "date_upd")
_RANGE_SIDE = re.compile(r"[0-9.:\- ]+")


@dataclass
class Display:
    """What to print: ``full``, or chosen fields and association sub-fields."""

    full: bool = False
    fields: list[str] = field(default_factory=list)
    associations: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Filter:
    field: Field
    op: str  # eq | in | between | like | gt | lt | notin
    values: list[str]


def _split_top(text: str) -> list[str]:
    """Split ``a,b[c,d],e`` on commas outside brackets."""
    parts: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_display(value: str | None, resource: Resource, extra_fields: Iterable[str] = ()) -> Display | None:
    """None (no ``display``), full, or a field selection; errors 35/36.

    ``extra_fields`` are the virtual ``price[NAME]`` fields of the request: PrestaShop adds them to
    the resource's fields, so ``display=[id,NAME]`` may select them.
    """
    if value is None:
        return None
    if value == "full":
        return Display(full=True)
    available = ["id", *[f.name for f in resource.visible_fields if f.name != "id"], *extra_fields]
    if not (value.startswith("[") and value.endswith("]")):
        raise WsError(400, 36, 'The "display" syntax is wrong. You can set "full" or '
                      f'"[field_1,field_2,field_3,...]". These are available: {", ".join(available)}')
    out = Display()
    for part in _split_top(value[1:-1]):
        if "[" in part:
            name, _, rest = part.partition("[")
            assoc = resource.association(name)
            if assoc is None or not rest.endswith("]"):
                raise WsError(400, 35, f'Unable to display this field "{name}". However, these are '
                              f'available: {", ".join(available)}')
            subs = [s.strip() for s in rest[:-1].split(",") if s.strip()]
            for sub in subs:
                if sub not in assoc.field_names():
                    raise WsError(400, 35, f'Unable to display this field "{name}[{sub}]". However, '
                                  f'these are available: {", ".join(assoc.field_names())}')
            out.associations[name] = subs
        elif part in available:
            out.fields.append(part)
        else:
            raise WsError(400, 35, f'Unable to display this field "{part}". However, these are '
                          f'available: {", ".join(available)}')
    return out


def _filterable(resource: Resource, with_dates: bool) -> dict[str, Field]:
    return {
        f.name: f for f in resource.fields
        if f.filterable and (with_dates or f.name not in _DATE_FIELDS)
    }


def parse_filters(params: Iterable[tuple[str, str]], resource: Resource, with_dates: bool) -> list[Filter]:
    """``filter[field]=value`` pairs into :class:`Filter`s (operators of reference §3.2)."""
    allowed = _filterable(resource, with_dates)
    out: list[Filter] = []
    for key, value in params:
        if not (key.startswith("filter[") and key.endswith("]")):
            continue
        name = key[7:-1]
        fld = allowed.get(name)
        if fld is None:
            spec = resource.field(name)
            if spec is not None and (spec.getter or spec.virtual) and not spec.hidden:
                raise WsError(400, 34, f'The field "{name}" is dynamic. It is not possible to filter '
                              "GET query with this field.")
            names = list(allowed)
            raise WsError(400, 32, f'This filter does not exist. Did you mean: "{did_you_mean(name, names)}"? '
                          'The full list is: "' + '", "'.join(names) + '"')
        if value == "":
            raise WsError(400, 33, f'The filter "{name}" is malformed.')
        out.append(_parse_filter_value(fld, value))
    return out


def _parse_filter_value(fld: Field, value: str) -> Filter:
    m = re.fullmatch(r"(%?)\[(.*)\](%?)", value, re.S)
    if m and (m.group(1) or m.group(3)):
        pattern = m.group(1) + m.group(2) + m.group(3)
        return Filter(fld, "like", [pattern])
    m = re.fullmatch(r"([<>!])\[(.*)\]", value, re.S)
    if m:
        sign, inner = m.groups()
        if sign == "!":
            return Filter(fld, "notin", inner.split("|"))
        return Filter(fld, "gt" if sign == ">" else "lt", [inner])
    if value.startswith("[") and value.endswith("]"):
        inner = value[1:-1]
        if "|" in inner and not inner.startswith("|"):
            return Filter(fld, "in", inner.split("|"))
        if "," in inner:
            lo, _, hi = inner.partition(",")
            if _RANGE_SIDE.fullmatch(lo) and _RANGE_SIDE.fullmatch(hi):
                return Filter(fld, "between", _php_sorted(lo, hi))
        return Filter(fld, "eq", [inner])
    return Filter(fld, "eq", [value])


_PHP_NUMERIC = re.compile(r"\s*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)\s*")


def _php_sorted(a: str, b: str) -> list[str]:
    """The two range bounds in the order PHP's ``sort()`` gives them (SORT_REGULAR).

    PHP compares two numeric strings as numbers ("9" < "10") and anything else as strings (dates
    sort as text), so ``filter[id]=[9,10]`` is ``BETWEEN 9 AND 10``, not an empty ``BETWEEN 10 AND 9``.
    """
    if _PHP_NUMERIC.fullmatch(a) and _PHP_NUMERIC.fullmatch(b):
        return sorted([a, b], key=float)
    return sorted([a, b])


def parse_sort(value: str | None, resource: Resource, with_dates: bool) -> list[tuple[Field, bool]]:
    """``sort`` into ``[(field, descending), ...]``; errors 37 (syntax) and 38 (field)."""
    if not value:
        return []
    inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    allowed = _filterable(resource, with_dates)
    out: list[tuple[Field, bool]] = []
    for part in [p.strip() for p in inner.split(",") if p.strip()]:
        name, sep, direction = part.rpartition("_")
        if not sep or direction.upper() not in ("ASC", "DESC"):
            raise WsError(400, 37, 'The "sort" value has to be formed as this example: "field_ASC" or '
                          '"[field_1_DESC,field_2_ASC,field_3_ASC,...]" ("field" has to be an available field)')
        fld = allowed.get(name)
        if fld is None:
            raise WsError(400, 38, f'Unable to sort by this field "{name}". However, these are available: '
                          + ", ".join(allowed))
        out.append((fld, direction.upper() == "DESC"))
    return out


def parse_limit(value: str | None) -> tuple[int, int | None]:
    """``limit=N`` or ``limit=offset,N`` into ``(offset, count)``; error 39."""
    if value is None or value == "":
        return 0, None
    parts = [p.strip() for p in value.split(",")]
    if len(parts) > 2 or not all(p.isdigit() for p in parts):
        raise WsError(400, 39, 'The "limit" value has to be formed as this example: "5,25" or "10"')
    if len(parts) == 1:
        return 0, int(parts[0])
    return int(parts[0]), int(parts[1])


def parse_languages(value: str | None, active: list[int], existing: set[int]) -> list[int]:
    """The languages in effect: ``language=1``, ``[1|3]``, ``[1,3]``; errors 78-81."""
    if value is None:
        return active
    inner = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    if "," in inner and "|" not in inner:
        bounds = inner.split(",")
        if len(bounds) != 2:
            raise WsError(400, 78, "The \"language\" value has to be formed as this example: \"[1,5]\"")
        if not all(b.strip().isdigit() for b in bounds):
            raise WsError(400, 80, "language value is wrong")
        lo, hi = sorted(int(b) for b in bounds)
        wanted = list(range(lo, hi + 1))
    else:
        items = [p for p in inner.split("|")]
        if not items or any(not p.strip().isdigit() for p in items):
            raise WsError(400, 79, "language value is wrong")
        wanted = [int(p) for p in items]
    langs = [lang for lang in dict.fromkeys(wanted) if lang in existing]
    if not langs:
        raise WsError(400, 81, "language is not available")
    return langs


def _num(value: Any) -> float:
    # MySQL coerces a string to the leading number it contains ("12abc" -> 12, "abc" -> 0).
    m = re.match(r"\s*[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)", str(value or ""))
    return float(m.group(0)) if m else 0.0


def _like(pattern: str) -> re.Pattern[str]:
    parts = [re.escape(p).replace("_", ".") for p in pattern.split("%")]
    return re.compile(".*".join(parts), re.I | re.S)


def _text(value: Any) -> str:
    # a text column compares case-insensitively (MySQL's *_ci collations)
    return str(value if value is not None else "").casefold()


def _matcher(flt: Filter) -> Callable[[Any], bool]:
    numeric = flt.field.numeric
    key: Callable[[Any], Any] = _num if numeric else _text
    vals = [key(v) for v in flt.values]
    if flt.op == "eq" or flt.op == "in":
        wanted = set(vals)
        return lambda v: key(v) in wanted
    if flt.op == "notin":
        refused = set(vals)
        return lambda v: key(v) not in refused
    if flt.op == "between":
        lo, hi = vals
        return lambda v: lo <= key(v) <= hi
    if flt.op == "gt":
        return lambda v: key(v) > vals[0]
    if flt.op == "lt":
        return lambda v: key(v) < vals[0]
    rx = _like(flt.values[0])
    return lambda v: rx.fullmatch(str(v if v is not None else "")) is not None


def candidate_rows(store: Any, resource: str, filters: list[Filter]) -> list[Row]:
    """The rows a list request has to look at, in id order: through a hash index on the first
    equality filter of a field that is not multilingual (``filter[reference]=[X]``,
    ``filter[id_order]=[5]``: what MySQL answers from an index, kept cheap as tables grow), keyed
    by the comparison the filter itself makes; else every row. :func:`select` still applies every
    filter, so the answer is the same either way."""
    for flt in filters:
        if flt.op in ("eq", "in") and not flt.field.lang:
            key = _num if flt.field.numeric else _text
            ids = store.ids_where(resource, flt.field.name, "num" if flt.field.numeric else "text", key,
                                  {key(v) for v in flt.values})
            return [row for row in (store.get(resource, i) for i in ids) if row is not None]
    return list(store.rows(resource))


def select(rows: list[Row], filters: list[Filter], sort: list[tuple[Field, bool]],
           limit: tuple[int, int | None], langs: list[int]) -> list[Row]:
    """Filter (AND), sort (stable, multi-key) and slice rows."""
    for flt in filters:
        match = _matcher(flt)
        name = flt.field.name
        if flt.field.lang:
            rows = [r for r in rows if any(match((r.get(name) or {}).get(lg, "")) for lg in langs)]
        else:
            rows = [r for r in rows if match(r.get(name))]
    for fld, desc in reversed(sort):
        name = fld.name
        if fld.lang:
            def value(r: Row, name: str = name) -> Any:
                return str((r.get(name) or {}).get(langs[0], "")).casefold()
        elif fld.numeric:
            def value(r: Row, name: str = name) -> Any:
                return _num(r.get(name))
        else:
            def value(r: Row, name: str = name) -> Any:
                return str(r.get(name) or "").casefold()
        rows = sorted(rows, key=value, reverse=desc)
    offset, count = limit
    if count is not None:
        rows = rows[offset:offset + count]
    elif offset:
        rows = rows[offset:]
    return rows
