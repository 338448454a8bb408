"""Content hashes of mapped documents: what echo suppression and "skip unchanged" compare.

A document is hashed in a canonical form, so the hash of what the bridge wrote and the hash of
the same content read back from the system agree, whatever the wire format did to it:

* keys sorted; ``None`` and ``""`` values (and keys holding them) left out: PrestaShop answers
  an unset field as ``""``, AX leaves it out, a mapping gives ``None``; ``"No"`` counts as
  empty too: AX leaves an enum at its default (``NoYes``/``Blocked`` ``No``) out of a read;
* numbers normalised: ``3``, ``3.0``, ``"3"``, ``Decimal("3.00")`` are the same content
  (PrestaShop returns every number as text, AX decimals with their scale); booleans are ``1``/``0``
  (PrestaShop's ``active``);
* nested objects and lists kept as structure (lists in order).

:func:`project` restricts a record to the shape of a document (the fields a mapping writes), so
a record read back from a system (which carries many more fields) can be compared with what was
written. :func:`fingerprint` is the two together. These functions are pure and cheap: one
``sha256`` over a compact JSON text per record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["canonical", "content_hash", "fingerprint", "project", "same_value"]

_NUMERIC_CHARS = frozenset("0123456789.-+")


def _number(text: str) -> str | None:
    """The normal form of a number written as text, or None when ``text`` is not one."""
    if not text or not _NUMERIC_CHARS.issuperset(text) or text in {".", "-", "+"}:
        return None
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None
    if d == 0:
        return "0"
    n = d.normalize()
    return format(n, "f")


def canonical(value: Any) -> Any:
    """The canonical form of a value (see the module docstring); ``None`` for an empty value."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        return _number(str(value)) if not isinstance(value, float) else _number(repr(value))
    if isinstance(value, str):
        if value == "" or value == "No":
            return None
        number = _number(value.strip())
        return number if number is not None else value
    if isinstance(value, Mapping):
        out = {}
        for k in sorted(value, key=str):
            v = canonical(value[k])
            if v is not None:
                out[str(k)] = v
        return out or None
    if isinstance(value, (list, tuple)):
        items = [canonical(v) for v in value]
        return items or None
    return str(value)


def content_hash(document: Any) -> str:
    """A stable hash of ``document``'s canonical form: ``c:`` + 24 hex digits of SHA-256."""
    text = json.dumps(canonical(document), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "c:" + hashlib.sha256(text.encode()).hexdigest()[:24]


def project(record: Any, shape: Any) -> Any:
    """``record`` restricted to the fields present in ``shape`` (a document, or a nested dict of
    field names): dicts keep the shape's keys, lists are projected item by item in order."""
    if isinstance(shape, Mapping):
        if not isinstance(record, Mapping):
            return None
        return {k: project(record.get(k), sub) for k, sub in shape.items()}
    if isinstance(shape, list):
        if not isinstance(record, list):
            return record if not shape else None
        item_shape = _merge_shapes(shape)
        return [project(item, item_shape) for item in record]
    return record


def _merge_shapes(items: list[Any]) -> Any:
    merged: dict[str, Any] = {}
    for item in items:
        if not isinstance(item, Mapping):
            return None
        for k, v in item.items():
            merged[k] = v if k not in merged or not isinstance(v, (Mapping, list)) else merged[k]
    return merged


def fingerprint(record: Any, shape: Any) -> str:
    """The hash of ``record`` projected on ``shape``: equal to ``content_hash(shape)`` when the
    record holds exactly the shape's content in the shape's fields."""
    return content_hash(project(record, shape))


def same_value(a: Any, b: Any) -> bool:
    """Whether two field values are the same content (canonical forms equal)."""
    return canonical(a) == canonical(b)
