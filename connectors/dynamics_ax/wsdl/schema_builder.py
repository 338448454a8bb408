"""Builds the XSD trees of the bundled AX 2012 port from ``documents.json``.

Contract: every ``build_*`` function returns an ``lxml`` element tree of one ``xs:schema``;
nothing is written here (``generate.py`` writes the files). Schema files import each other by
plain file name (``SharedTypes.xsd``); a server publishing them rewrites those locations.

Conventions taken from the reference (document-schema-rules, observed R3 WSDLs):
fields in case-insensitive alphabetical order with ``_DocumentHash`` first, then child
entities; entities carry ``class`` (fixed ``entity``, required) and an optional ``action``;
optional fields are ``minOccurs=0 nillable=true``; schema-mandatory fields are required.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from . import fixed_schemas as fx
from .catalog import NS, SERVICES, ServiceSpec
from .xsd_common import SCHEMA_FILES, load_reference
from .xsd_common import elem as _elem
from .xsd_common import schema as _schema
from .xsd_common import sub as _sub

__all__ = ["SCHEMA_FILES", "build_all", "load_reference"]

# Entities the reference names without capturing their fields. Charges matter for web orders
# (shipping fees), so a minimal MarkupTrans is declared [I]; the rest are left out.
_EXTRA_ENTITIES: dict[str, dict[str, Any]] = {
    "MarkupTrans": {
        "CurrencyCode": {"type": "string", "max_length": 3, "mandatory": False},
        "MarkupCode": {"type": "string", "max_length": 10, "mandatory": True},
        "RecId": {"type": "int64", "max_length": None, "mandatory": False},
        "RecVersion": {"type": "int", "max_length": None, "mandatory": False},
        "Txt": {"type": "string", "max_length": 60, "mandatory": False},
        "Value": {"type": "decimal", "max_length": None, "mandatory": False},
    }
}
# [I] The standard packing slip has no carrier tracking number (it lives in the shipping
# carrier tables); the issue wants the packing slip to carry it, so the port's document adds
# the field, as a document extension on a real AOS would.
_ADDED_FIELDS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("SalesPackingSlipService", "CustPackingSlipJour"): {
        "_DocumentHash": {"type": "string", "max_length": None, "mandatory": False},
        "RecVersion": {"type": "int", "max_length": None, "mandatory": False},
        "ShipCarrierTrackingNum": {"type": "string", "max_length": 50, "mandatory": False},
        "CurrencyCode": {"type": "string", "max_length": 3, "mandatory": False},
    },
    ("SalesPackingSlipService", "CustPackingSlipTrans"): {
        "RecId": {"type": "int64", "max_length": None, "mandatory": False},
        "RecVersion": {"type": "int", "max_length": None, "mandatory": False},
    },
    ("SalesInvoiceService", "CustInvoiceTrans"): {
        "RecVersion": {"type": "int", "max_length": None, "mandatory": False},
    },
}
# Children that hold at most one record; every other child entity is an unbounded list.
_SINGLE_CHILDREN = {
    "InventDim",
    "TableDlvAddr",
    "LineDlvAddr",
    "TableCarrierAddr",
    "LineCarrierAddr",
    "DirParty",
    "Identifier",
}


# ----- document schemas ----------------------------------------------------------------------


def _field_type(seq_el: etree._Element, field: dict[str, Any]) -> None:
    """Set the XSD type of a field element (attribute or inline simple type)."""
    kind, _, arg = field["type"].partition(":")
    simple = {
        "decimal": "xs:decimal",
        "int": "xs:int",
        "int64": "xs:long",
        "date": "xs:date",
        "datetime": "st:AxdType_DateTime",
    }
    if kind in ("enum", "entitykey", "complex"):
        seq_el.set("type", "st:" + arg)
    elif kind in simple:
        seq_el.set("type", simple[kind])
    elif field.get("max_length") is None:
        seq_el.set("type", "xs:string")
    else:
        # The reference has lengths but not EDT names, so lengths are inline restrictions
        # instead of named AxdExtType_<EDT> types (same values on the wire).
        st = _sub(seq_el, "simpleType")
        if field.get("value_mapped"):
            # A value-mapped field accepts the AX value or an external code (<= 50).
            union = _sub(st, "union", memberTypes="st:AxdType_ExtCodeValue")
            st = _sub(union, "simpleType")
        restriction = _sub(st, "restriction", base="xs:string")
        _sub(restriction, "maxLength", value=str(field["max_length"]))


def _sorted_fields(fields: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    items = [(n, f) for n, f in fields.items() if n != "_DocumentHash"]
    items.sort(key=lambda kv: kv[0].lower())
    if "_DocumentHash" in fields:
        items.insert(0, ("_DocumentHash", fields["_DocumentHash"]))
    return items


class _DocumentBuilder:
    """Turns one service's entity table into complex types of the document schema."""

    def __init__(self, ref: dict[str, Any], spec: ServiceSpec) -> None:
        self.ref = ref
        self.spec = spec
        self.entities: dict[str, Any] = ref[spec.source]["entities"]
        self.root = _schema(spec.document_ns, {"st": NS["shared"]})
        self.done: set[str] = set()

    def fields_of(self, name: str) -> dict[str, Any]:
        ent = self.entities.get(name, {})
        if ent.get("same_as"):
            svc, _, other = ent["same_as"].rpartition(".")
            ent = self.ref[svc or self.spec.source]["entities"][other]
        fields = dict(ent.get("fields") or {})
        if not fields and name.startswith("MarkupTrans"):
            fields = dict(_EXTRA_ENTITIES["MarkupTrans"])
        fields.update(_ADDED_FIELDS.get((self.spec.source, name), {}))
        return fields

    def children_of(self, name: str, inherited: tuple[str, ...] = ()) -> list[str]:
        out = []
        for child in self.entities.get(name, {}).get("children", []):
            child = child.split(" ")[0]
            if child in inherited or child not in self.entities:
                continue
            if self.fields_of(child):
                out.append(child)
        return out

    def entity_type(
        self,
        name: str,
        type_name: str,
        fields: dict[str, Any],
        children: list[str],
        base: str | None = None,
        abstract: bool = False,
    ) -> None:
        ctype = _sub(self.root, "complexType", name=type_name)
        if abstract:
            ctype.set("abstract", "true")
        holder = ctype
        if base:
            holder = _sub(_sub(ctype, "complexContent"), "extension", base="tns:" + base)
        seq = _sub(holder, "sequence")
        for fname, field in _sorted_fields(fields):
            mandatory = bool(field.get("mandatory"))
            el = _elem(seq, fname, None, min_occurs="1" if mandatory else "0", nillable=not mandatory)
            _field_type(el, field)
        for child in children:
            hi = "1" if child in _SINGLE_CHILDREN else "unbounded"
            _elem(seq, child, "tns:" + self.type_name(child), max_occurs=hi, nillable=False)
        if base is None:
            _sub(holder, "attribute", fixed="entity", name="class", type="xs:string", use="required")
            _sub(holder, "attribute", name="action", type="st:AxdEnum_AxdEntityAction")
            if "updateMode" in self.entities.get(name, {}).get("attributes", {}):
                _sub(holder, "attribute", name="updateMode", type="st:AxdEnum_ValidTimeStateUpdate")
        for child in children:
            self.build_entity(child)

    def type_name(self, name: str) -> str:
        return str(self.entities.get(name, {}).get("xsd_type") or f"AxdEntity_{name}")

    def build_entity(self, name: str) -> None:
        if name in self.done:
            return
        self.done.add(name)
        ent = self.entities[name]
        base_type = self.type_name(name)
        base_fields = self.fields_of(name)
        children = self.children_of(name)
        self.entity_type(name, base_type, base_fields, children, abstract=name == "Product")
        if not ent.get("polymorphic"):
            return
        # Polymorphic data sources: one derived type per xsi:type value, extension fields only.
        exts = {e["xsd_type"]: (key, e) for key, e in self.entities.items() if e.get("extends")}
        made: set[str] = set()
        for xsi_type in ent.get("xsi_type_values", []):
            self._derived(name, xsi_type, base_type, base_fields, children, exts, made)

    def _derived(
        self,
        name: str,
        xsi_type: str,
        base_type: str,
        base_fields: dict[str, Any],
        base_children: list[str],
        exts: dict[str, Any],
        made: set[str],
    ) -> None:
        if xsi_type in made:
            return
        parent = base_type
        own_fields: dict[str, Any] = {}
        own_children: list[str] = []
        if xsi_type in exts:
            key, ext = exts[xsi_type]
            chain = [t.strip() for t in ext["extends"].split("->")]
            parent = chain[0]
            own_fields = {k: v for k, v in ext["fields"].items() if k not in base_fields}
            own_children = [
                c
                for c in ext.get("children", [])
                if c not in base_children and c in self.entities and self.fields_of(c)
            ]
        elif (
            xsi_type.startswith("AxdEntity_DirParty_")
            and xsi_type != "AxdEntity_DirParty_DirOrganizationBase"
        ):
            parent = "AxdEntity_DirParty_DirOrganizationBase"  # [I] internal organisation kinds
        if parent != base_type:
            self._derived(name, parent, base_type, base_fields, base_children, exts, made)
        made.add(xsi_type)
        self.entity_type(name, xsi_type, own_fields, own_children, base=parent)

    def build(self) -> etree._Element:
        root_fields = self.ref[self.spec.source].get("root_fields") or {
            "ClearNilFieldsOnUpdate": "enum:AxdEnum_boolean",
            "DocPurpose": "enum:AxdEnum_XMLDocPurpose",
            "SenderId": "string(4)",
        }
        _sub(self.root, "element", name=self.spec.document, type="tns:Axd" + self.spec.document)
        seq = _sub(_sub(self.root, "complexType", name="Axd" + self.spec.document), "sequence")
        for fname in sorted(root_fields, key=str.lower):
            kind = root_fields[fname]
            field = {"type": kind, "max_length": None}
            if kind.startswith("string("):
                field = {"type": "string", "max_length": int(kind[7:-1])}
            _field_type(_elem(seq, fname, None, nillable=True), field)
        _elem(
            seq, self.spec.root_entity, "tns:" + self.type_name(self.spec.root_entity), max_occurs="unbounded"
        )
        self.build_entity(self.spec.root_entity)
        return self.root


def build_all(ref: dict[str, Any]) -> dict[str, etree._Element]:
    """Every schema of the port, by file name (keys in ``SCHEMA_FILES`` order)."""
    fixed = {
        "services.xsd": fx.build_services(),
        "EntityKeyList.xsd": fx.build_entity_key_list(),
        "EntityKey.xsd": fx.build_entity_key(),
        "QueryCriteria.xsd": fx.build_query_criteria(),
        "DocumentPaging.xsd": fx.build_document_paging(),
        "EntityKeyPage.xsd": fx.build_entity_key_page(),
        "Fault.xsd": fx.build_fault(),
        "FrameworkServices.xsd": fx.build_framework(),
        "CallContext.xsd": fx.build_call_context(),
        "Serialization.xsd": fx.build_serialization(),
        "Arrays.xsd": fx.build_arrays(),
        "SharedTypes.xsd": fx.build_shared_types(ref),
    }
    for spec in SERVICES.values():
        fixed[f"{spec.document}.xsd"] = _DocumentBuilder(ref, spec).build()
    return {name: fixed[name] for name in SCHEMA_FILES}
