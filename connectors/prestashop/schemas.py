"""Resource schemas: the field tables of PrestaShop 8.2, loaded from ``resources.json``.

``resources.json`` (next to this module) was generated from PrestaShop 8.2.0's entity classes
and is the single source of field facts: output order, types, required flags, sizes,
validators, multilingual fields, read-only fields (setter ``false``: sending them answers error
93) and associations. Nothing here hard-codes a field list.

The functions below prepare records for writing: they drop read-only fields and associations
that have no setter, and expand multilingual values so that every language is sent (a language
left out of a non-required multilingual field is blanked by PrestaShop, even on PATCH).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources as _res
from typing import Any

from connectors.errors import ConfigError, ValidationError

__all__ = [
    "AssociationSpec",
    "FieldSpec",
    "ResourceSchema",
    "all_schemas",
    "check_fields",
    "expand_languages",
    "schema",
    "writable_record",
]


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a resource as PrestaShop 8.2 declares it."""

    name: str
    type: str  # int | float | bool | string | html | date
    required: bool = False
    size: int | None = None
    validate: str | None = None
    lang: bool = False
    read_only: bool = False
    hidden: bool = False
    virtual: bool = False
    server_managed: bool = False
    not_filterable: bool = False
    xlink_resource: str | None = None


@dataclass(frozen=True, slots=True)
class AssociationSpec:
    """One association (``<categories>`` of a product, ``<order_rows>`` of an order...)."""

    name: str
    node: str
    api: str | None
    writable: bool
    fields: tuple[str, ...]
    read_only_fields: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class ResourceSchema:
    """A resource (``customers``...) with its XML node names, fields in output order and associations."""

    name: str
    node: str
    list_node: str
    class_name: str
    fields: dict[str, FieldSpec]
    associations: dict[str, AssociationSpec] = field(default_factory=dict)
    forbidden_methods: frozenset[str] = frozenset()

    @property
    def lang_fields(self) -> frozenset[str]:
        return frozenset(n for n, f in self.fields.items() if f.lang)

    @property
    def read_only_fields(self) -> frozenset[str]:
        return frozenset(n for n, f in self.fields.items() if f.read_only)

    @property
    def association_nodes(self) -> dict[str, str]:
        return {name: a.node for name, a in self.associations.items()}

    @property
    def has_date_upd(self) -> bool:
        return "date_upd" in self.fields

    def check_method(self, method: str) -> None:
        """Raise :class:`ValidationError` when PrestaShop forbids ``method`` on this resource (error 101)."""
        if method.upper() in self.forbidden_methods:
            raise ValidationError(
                f"PrestaShop does not allow {method.upper()} on '{self.name}' (error 101); "
                f"{'rows are created with their product' if self.name == 'stock_availables' else 'use another resource'}.",
                system="prestashop",
                code=101,
            )


def _load_raw() -> dict[str, Any]:
    text = _res.files("connectors.prestashop").joinpath("resources.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _build(name: str, raw: Mapping[str, Any]) -> ResourceSchema:
    fields: dict[str, FieldSpec] = {}
    for fname, spec in raw["fields"].items():
        fields[fname] = FieldSpec(
            name=fname,
            type=spec.get("type") or "string",
            required=bool(spec.get("required")),
            size=spec.get("size"),
            validate=spec.get("validate"),
            lang=bool(spec.get("lang")),
            read_only=bool(spec.get("read_only")),
            hidden=bool(spec.get("hidden")),
            virtual=bool(spec.get("virtual")),
            server_managed=bool(spec.get("server_managed")),
            not_filterable=bool(spec.get("not_filterable")) or bool(spec.get("getter")),
            xlink_resource=spec.get("xlink_resource"),
        )
    assocs: dict[str, AssociationSpec] = {}
    for aname, spec in (raw.get("associations") or {}).items():
        afields = spec.get("fields") or {"id": {}}
        assocs[aname] = AssociationSpec(
            name=aname,
            node=spec["node"],
            api=spec.get("api"),
            writable=bool(spec.get("writable")),
            fields=tuple(afields),
            read_only_fields=frozenset(k for k, v in afields.items() if v.get("read_only")),
        )
    return ResourceSchema(
        name=name,
        node=raw["node_name"],
        list_node=raw["list_node_name"],
        class_name=raw["class"],
        fields=fields,
        associations=assocs,
        forbidden_methods=frozenset(m.upper() for m in raw.get("forbidden_methods") or ()),
    )


@cache
def all_schemas() -> dict[str, ResourceSchema]:
    """Every resource described in ``resources.json``, by resource name."""
    return {name: _build(name, raw) for name, raw in _load_raw().items()}


def schema(resource: str) -> ResourceSchema:
    """The schema of ``resource``; :class:`ConfigError` naming the known ones when it is unknown."""
    schemas = all_schemas()
    try:
        return schemas[resource]
    except KeyError:
        raise ConfigError(
            f"Unknown PrestaShop resource '{resource}'. Known resources: {', '.join(sorted(schemas))}."
        ) from None


def expand_languages(value: Any, language_ids: Iterable[int], *, field_name: str) -> dict[int, Any]:
    """Return a value for every language of ``language_ids``.

    A plain value is copied to every language; a mapping must already name languages by id
    and is completed with ``""`` for the missing ones only when it is empty (a partial mapping
    is the caller's business: :func:`writable_record` merges it with the stored values first).
    """
    ids = list(language_ids)
    if isinstance(value, Mapping):
        out: dict[int, Any] = {}
        for key, text in value.items():
            try:
                out[int(key)] = text
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Field '{field_name}' is multilingual: give it a text or a mapping of language id to text.",
                    system="prestashop",
                ) from None
        return out
    return {lid: value for lid in ids}


def writable_record(
    res: ResourceSchema,
    record: Mapping[str, Any],
    *,
    language_ids: Iterable[int],
    base: Mapping[str, Any] | None = None,
    keep_associations: Iterable[str] | None = None,
) -> dict[str, Any]:
    """Prepare ``record`` (optionally laid over ``base``, the stored object) for an XML write.

    * read-only fields (error 93 if sent) and hidden fields are dropped;
    * multilingual fields get every language: values of ``base`` fill the languages the caller
      did not give, a plain text is copied to every language in ``language_ids`` (default
      language first), and a language known nowhere gets the default language's text;
    * associations without a setter are dropped (PrestaShop ignores them); of the others only
      those named in ``keep_associations`` (default: those in ``record``) are sent, because an
      association element present in the body *replaces* the whole set.
    Field order follows the resource's canonical order, then unknown keys in the caller's order.
    """
    langs = list(language_ids)
    merged: dict[str, Any] = dict(base or {})
    for key, value in record.items():
        if key == "associations":
            continue
        spec = res.fields.get(key)
        if spec is not None and spec.lang:
            old = merged.get(key)
            new = expand_languages(value, langs, field_name=key)
            if isinstance(old, Mapping) and isinstance(value, Mapping):
                combined = {int(k): v for k, v in old.items()}
                combined.update(new)
                new = combined
            merged[key] = new
        else:
            merged[key] = value
    for key, spec in res.fields.items():
        if spec.lang and key in merged and not isinstance(merged[key], Mapping):
            merged[key] = expand_languages(merged[key], langs, field_name=key)
        elif spec.lang and isinstance(merged.get(key), Mapping) and langs:
            # Fill the languages nobody gave: an absent language would be blanked on save.
            # They get the default language's text (langs[0]), as PrestaShop itself does for
            # required multilingual fields on creation.
            filled = {int(k): v for k, v in merged[key].items()}
            fallback = filled.get(langs[0], next(iter(filled.values()), ""))
            for lid in langs:
                filled.setdefault(lid, fallback)
            merged[key] = filled
    out: dict[str, Any] = {}
    for key, spec in res.fields.items():
        if key in merged and not spec.read_only and not spec.hidden:
            out[key] = merged[key]
    for key, value in merged.items():
        if key not in res.fields and key != "associations":
            out[key] = value
    wanted = set(keep_associations) if keep_associations is not None else set(record.get("associations") or {})
    assocs: dict[str, list[dict[str, Any]]] = {}
    source_assocs = dict((base or {}).get("associations") or {})
    source_assocs.update(record.get("associations") or {})
    for name in wanted:
        spec_a = res.associations.get(name)
        if spec_a is None:
            raise ValidationError(f"'{res.name}' has no association named '{name}'.", system="prestashop", code=86)
        if not spec_a.writable:
            continue
        rows = source_assocs.get(name) or []
        assocs[name] = [{k: v for k, v in row.items() if k not in spec_a.read_only_fields} for row in rows]
    if assocs:
        out["associations"] = assocs
    return out


def check_fields(res: ResourceSchema, record: Mapping[str, Any]) -> None:
    """Refuse fields the resource does not have (with a "did you mean") and read-only fields.

    PrestaShop ignores unknown elements silently, so a typo would lose data without a word;
    read-only fields would be answered with error 93. Raises :class:`ValidationError`.
    """
    for key in record:
        if key == "associations" or key in res.fields:
            continue
        hint = difflib.get_close_matches(key, list(res.fields), n=1)
        raise ValidationError(
            f"'{res.name}' has no field '{key}'"
            + (f" — did you mean '{hint[0]}'?" if hint else ".")
            + " PrestaShop would ignore it silently, so it was refused.",
            system="prestashop",
        )
    for key in record:
        spec = res.fields.get(key)
        if spec is not None and spec.read_only:
            raise ValidationError(
                f"Field '{key}' of '{res.name}' is read-only in PrestaShop (error 93); do not write it.",
                system="prestashop", code=93,
            )
