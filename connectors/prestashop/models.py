"""Typed views (msgspec Structs) of PrestaShop records, generated from the field tables.

One Struct class per resource of :data:`VIEW_RESOURCES`, built once at import from
``resources.json`` so that the views follow the reference exactly (no hand-copied field lists):

* ``int`` / ``float`` / ``bool`` fields become ``int | None`` / ``float | None`` / ``bool | None``
  (an empty value is ``None``); ``string``, ``html`` and ``date`` stay ``str``;
* multilingual fields become ``dict[int, str]`` (language id -> text);
* ``associations`` becomes a Struct with one ``list`` of row Structs per association;
* a field the record did not carry (``display=[id,date_upd]``) is ``msgspec.UNSET``, so a view
  never pretends to know a value it was not given, and :func:`record_of` leaves it out.

``view("orders", record)`` decodes a record from :class:`~connectors.prestashop.Client`;
``record_of(view)`` turns a view back into a record fit for writing.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import msgspec

from connectors.errors import MappingError

from .schemas import ResourceSchema, all_schemas, schema

__all__ = ["VIEW_RESOURCES", "record_of", "view", "view_type"]

#: the resources the bridge reads and writes (issue 3); any other resource works through records.
VIEW_RESOURCES = (
    "customers", "addresses", "countries", "states", "currencies", "languages", "products",
    "combinations", "stock_availables", "categories", "orders", "order_details", "order_histories",
    "order_states", "order_carriers", "carriers", "order_payments", "order_invoices", "specific_prices",
    "tax_rule_groups", "manufacturers", "shops",
)

_SCALAR: dict[str, Any] = {"int": int | None, "float": float | None, "bool": bool | None}
_ZERO_DATE = "0000-00-00"


def _camel(name: str) -> str:
    return "".join(p.capitalize() for p in name.split("_"))


def _build(res: ResourceSchema) -> type[msgspec.Struct]:
    fields: list[tuple[str, Any, Any]] = []
    for name, spec in res.fields.items():
        if spec.hidden:
            continue
        typ = dict[int, str] if spec.lang else _SCALAR.get(spec.type, str)
        fields.append((name, typ | msgspec.UnsetType, msgspec.UNSET))
    if res.associations:
        assoc_fields: list[tuple[str, Any, Any]] = []
        for aname, aspec in res.associations.items():
            row = msgspec.defstruct(
                f"{_camel(res.node)}{_camel(aname)}Row",
                [(f, str, "") for f in aspec.fields],
                kw_only=True, forbid_unknown_fields=False,
            )
            assoc_fields.append((aname, list[row], msgspec.field(default_factory=list)))  # type: ignore[valid-type]
        assoc = msgspec.defstruct(f"{_camel(res.node)}Associations", assoc_fields, kw_only=True)
        fields.append(("associations", assoc, msgspec.field(default_factory=assoc)))
    return msgspec.defstruct(_camel(res.node), fields, kw_only=True, forbid_unknown_fields=False)


@cache
def view_type(resource: str) -> type[msgspec.Struct]:
    """The Struct class of ``resource`` (any resource of ``resources.json``)."""
    return _build(schema(resource))


def _prepare(res: ResourceSchema, record: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        spec = res.fields.get(key)
        if spec is None:
            if key == "associations":
                out[key] = value
            continue
        if spec.lang:
            out[key] = value if isinstance(value, Mapping) else {}
        elif spec.type in _SCALAR:
            text = "" if value is None else str(value).strip()
            out[key] = None if text == "" else text
        else:
            out[key] = "" if value is None else str(value)
    return out


def view(resource: str, record: Mapping[str, Any]) -> Any:
    """Decode a record into the typed view of ``resource``.

    Raises :class:`MappingError` naming the field when a value does not fit its type (a
    non-numeric ``price``...). Unknown keys (fields added by modules) are ignored.
    """
    res = schema(resource)
    try:
        return msgspec.convert(_prepare(res, record), view_type(resource), strict=False)
    except msgspec.ValidationError as exc:
        raise MappingError(
            f"A '{res.node}' record does not fit its PrestaShop field table: {exc}.", system="prestashop"
        ) from None


def record_of(resource: str, obj: msgspec.Struct) -> dict[str, Any]:
    """A view back as a record for writing: unset and read-only fields are left out.

    ``None`` becomes ``""`` (PrestaShop's empty value); associations stay nested and empty
    association lists are dropped (sending one would wipe the relation).
    """
    res = schema(resource)
    data = msgspec.to_builtins(obj)
    out: dict[str, Any] = {}
    for key, value in data.items():
        spec = res.fields.get(key)
        if spec is not None and spec.read_only:
            continue
        if value is None:
            out[key] = ""
            continue
        if key == "associations":
            out[key] = {k: v for k, v in value.items() if v}
            if not out[key]:
                del out[key]
            continue
        if isinstance(value, dict):
            out[key] = {int(k): v for k, v in value.items()}
        else:
            out[key] = value
    return out


def is_zero_date(value: str | None) -> bool:
    """MySQL's ``0000-00-00 00:00:00`` (an unset date in PrestaShop)."""
    return not value or value.startswith(_ZERO_DATE)


# Build the views of the main resources now, so a broken field table fails at import, not mid-flow.
for _name in VIEW_RESOURCES:
    if _name in all_schemas():
        view_type(_name)
