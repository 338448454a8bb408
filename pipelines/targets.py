"""Field tables of both systems, read as data, for validation and lint.

The PrestaShop resource tables (``connectors/prestashop/resources.json``) and the AX document
schemas (``connectors/dynamics_ax/documents.json``) are read directly from the JSON files, so
the pipelines do not depend on the connector code. :func:`schema_for` gives an
:class:`EntitySchema` for a PrestaShop resource or an AX ``Service.Entity``; nested entities
(``associations.order_rows``, ``SalesLine``, ``TableDlvAddr``...) resolve through
:meth:`EntitySchema.child`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import connectors

__all__ = ["EntitySchema", "FieldInfo", "ax_documents", "prestashop_resources", "schema_for"]

_CONNECTORS = Path(connectors.__file__).resolve().parent


@cache
def prestashop_resources() -> dict[str, Any]:
    """The PrestaShop 8.2 resource field tables (resource -> definition)."""
    return json.loads((_CONNECTORS / "prestashop" / "resources.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@cache
def ax_documents() -> dict[str, Any]:
    """The AX 2012 document schemas (service -> definition, plus ``enums``)."""
    return json.loads((_CONNECTORS / "dynamics_ax" / "documents.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FieldInfo:
    """One field of a target: its type as the source table spells it (PrestaShop ``int``,
    ``float``, ``string``, ``bool``, ``date``, ``html``; AX ``string``, ``decimal``, ``date``,
    ``datetime``, ``int``, ``int64``, ``enum:X``...), whether it is required, its maximum
    length, PrestaShop validator, AX enum values, and whether it is multilingual/read-only.
    ``setter`` marks PrestaShop fields whose written value goes through a setter first (the
    customer password is hashed), so the validator applies to the result, not to what we send."""

    name: str
    type: str
    required: bool = False
    max_length: int | None = None
    validator: str | None = None
    enum_values: tuple[str, ...] | None = None
    lang: bool = False
    read_only: bool = False
    setter: bool = False

    @property
    def kind(self) -> str:
        """A coarse type for lint: text, number, integer, bool, date, datetime, enum, other."""
        t = self.type
        if t.startswith("enum:"):
            return "enum"
        return {
            "string": "text",
            "html": "text",
            "float": "number",
            "decimal": "number",
            "int": "integer",
            "int64": "integer",
            "bool": "bool",
            "date": "date" if self.validator != "isDate" else "datetime",
            "datetime": "datetime",
        }.get(t, "other")


@dataclass
class EntitySchema:
    """Fields of one entity plus how to reach nested ones. ``open`` schemas accept any field
    (used where the reference has no field list)."""

    system: str
    name: str
    fields: dict[str, FieldInfo] = field(default_factory=dict)
    children: dict[str, tuple[str, str]] = field(default_factory=dict)
    open: bool = False
    includes: dict[str, EntitySchema] = field(default_factory=dict)

    def child(self, name: str) -> EntitySchema | None:
        """The schema of a nested entity or include, or ``None``."""
        if name in self.includes:
            return self.includes[name]
        ref = self.children.get(name)
        if ref is None:
            return None
        kind, key = ref
        if kind == "ps_assoc":
            return _ps_association(self.name, key)
        if kind == "ps_associations":
            return _ps_associations(self.name)
        return _ax_entity(*key.split(".", 1))

    def names(self) -> list[str]:
        """Field, child and include names (for did-you-mean suggestions)."""
        return [*self.fields, *self.children, *self.includes]

    def resolve(self, path: tuple[str | int, ...]) -> FieldInfo | EntitySchema | None:
        """What ``path`` names: a field, a nested entity, or ``None`` when unknown. Integer
        parts (list positions) are skipped. An open schema resolves anything below it to an
        open schema."""
        node: EntitySchema = self
        keys = [k for k in path if isinstance(k, str)]
        for i, key in enumerate(keys):
            if key in node.fields and i == len(keys) - 1:
                return node.fields[key]
            sub = node.child(key)
            if sub is None:
                if node.open:
                    return EntitySchema(node.system, f"{node.name}.{key}", open=True)
                return None
            node = sub
        return node


def _ps_field(name: str, spec: dict[str, Any]) -> FieldInfo:
    return FieldInfo(
        name=name,
        type=str(spec.get("type") or "string"),
        required=bool(spec.get("required")),
        max_length=spec.get("size"),
        validator=spec.get("validate"),
        lang=bool(spec.get("lang")),
        read_only=bool(spec.get("read_only")),
        setter=bool(spec.get("setter")),
    )


@cache
def _ps_resource(resource: str) -> EntitySchema | None:
    table = prestashop_resources().get(resource)
    if table is None:
        return None
    fields = {name: _ps_field(name, spec) for name, spec in table.get("fields", {}).items()}
    children: dict[str, tuple[str, str]] = {}
    if table.get("associations"):
        children["associations"] = ("ps_associations", resource)
    return EntitySchema("prestashop", resource, fields, children)


@cache
def _ps_associations(resource: str) -> EntitySchema:
    assocs = prestashop_resources()[resource].get("associations") or {}
    return EntitySchema("prestashop", f"{resource}.associations", {}, {a: ("ps_assoc", a) for a in assocs})


def _ps_association(owner: str, assoc: str) -> EntitySchema:
    resource = owner.split(".", 1)[0]
    spec = prestashop_resources()[resource]["associations"][assoc]
    fields = {}
    for name, f in (spec.get("fields") or {}).items():
        # association rows carry no types; take them from the resource the rows belong to
        target = (prestashop_resources().get(spec.get("api") or "") or {}).get("fields", {}).get(name, {})
        fields[name] = FieldInfo(
            name=name,
            type=str(target.get("type") or ("int" if name == "id" or name.endswith("_id") else "string")),
            required=bool(f.get("required")),
            read_only=bool(f.get("read_only")),
        )
    return EntitySchema("prestashop", f"{resource}.associations.{assoc}", fields)


def _enum_values(type_name: str) -> tuple[str, ...] | None:
    if not type_name.startswith("enum:"):
        return None
    enum = ax_documents().get("enums", {}).get(type_name[5:])
    return tuple(enum["values"]) if enum and enum.get("values") else None


@cache
def _ax_entity(service: str, entity: str) -> EntitySchema | None:
    svc = ax_documents().get(service)
    if not isinstance(svc, dict) or "entities" not in svc:
        return None
    entities: dict[str, Any] = svc["entities"]
    spec = entities.get(entity)
    if spec is None:
        return None
    same = spec.get("same_as")
    if same and not spec.get("fields"):
        base = _ax_entity(*same.split(".", 1)) if "." in same else _ax_entity(service, same)
        if base is not None:
            return EntitySchema("ax", f"{service}.{entity}", dict(base.fields), dict(base.children))
    raw_fields: dict[str, Any] = dict(spec.get("fields") or {})
    child_names = [c.split(" ")[0] for c in spec.get("children") or []]
    # polymorphic entities (DirParty, Product) take the fields and children of their variants
    for other, ospec in entities.items():
        if other != entity and str(ospec.get("element", "")).startswith(entity + " ("):
            for k, v in (ospec.get("fields") or {}).items():
                raw_fields.setdefault(k, v)
            child_names += [c.split(" ")[0] for c in ospec.get("children") or []]
    fields = {
        name: FieldInfo(
            name=name,
            type=str(f.get("type") or "string"),
            required=bool(f.get("mandatory")),
            max_length=f.get("max_length"),
            enum_values=_enum_values(str(f.get("type") or "")),
        )
        for name, f in raw_fields.items()
    }
    children = {c: ("ax", f"{service}.{c}") for c in child_names if c in entities}
    schema = EntitySchema("ax", f"{service}.{entity}", fields, children)
    # entities the reference lists without fields are accepted as open rather than rejected
    schema.open = not fields
    return schema


def schema_for(
    system: str,
    resource: str | None = None,
    service: str | None = None,
    entity: str | None = None,
    includes: dict[str, str] | None = None,
) -> EntitySchema | None:
    """The schema of a PrestaShop ``resource`` or an AX ``service`` + ``entity`` (``None`` when
    unknown), with ``includes`` (name -> ``resource``, ``Service.Entity``, or the same
    prefixed with ``prestashop:``/``ax:``) attached as nested schemas."""
    if system == "prestashop":
        base = _ps_resource(resource or "")
    else:
        base = _ax_entity(service or "", entity or "")
    if base is None:
        return None
    if not includes:
        return base
    extra: dict[str, EntitySchema] = {}
    for name, ref in includes.items():
        sys_name, _, rest = ref.partition(":") if ":" in ref else (system, "", ref)
        if sys_name == "prestashop":
            sub = _ps_resource(rest)
        else:
            svc, _, ent = rest.partition(".")
            sub = _ax_entity(svc, ent)
        extra[name] = sub if sub is not None else EntitySchema(sys_name, ref, open=True)
    return EntitySchema(base.system, base.name, base.fields, base.children, base.open, extra)
