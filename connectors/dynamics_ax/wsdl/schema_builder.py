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

import json
from pathlib import Path
from typing import Any

from lxml import etree

from .catalog import NS, SERVICES, ServiceSpec

__all__ = ["SCHEMA_FILES", "build_all", "load_reference"]

XS = NS["xs"]
_X = f"{{{XS}}}"

#: schema file name -> target namespace, in the order the WSDL imports them (``?xsd=xsdN``).
SCHEMA_FILES: dict[str, str] = {
    "services.xsd": NS["services"],
    "EntityKeyList.xsd": NS["ekl"],
    "EntityKey.xsd": NS["ek"],
    "QueryCriteria.xsd": NS["qc"],
    "DocumentPaging.xsd": NS["paging"],
    "EntityKeyPage.xsd": NS["keypage"],
    "Fault.xsd": NS["fault"],
    "FrameworkServices.xsd": NS["framework"],
    "CallContext.xsd": NS["context"],
    "Serialization.xsd": NS["ser"],
    "Arrays.xsd": NS["arrays"],
    "SharedTypes.xsd": NS["shared"],
    **{f"{s.document}.xsd": s.document_ns for s in SERVICES.values()},
}
_FILE_OF_NS = {ns: name for name, ns in SCHEMA_FILES.items()}

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


def load_reference(path: Path) -> dict[str, Any]:
    """Read ``documents.json`` (the machine-readable AX reference)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _schema(target_ns: str, prefixes: dict[str, str]) -> etree._Element:
    nsmap = {"xs": XS, "tns": target_ns, **prefixes}
    root = etree.Element(_X + "schema", nsmap=nsmap)
    root.set("targetNamespace", target_ns)
    root.set("elementFormDefault", "qualified")
    for ns in prefixes.values():
        if ns in _FILE_OF_NS and ns != target_ns:
            etree.SubElement(root, _X + "import", namespace=ns, schemaLocation=_FILE_OF_NS[ns])
    return root


def _sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, _X + tag, {k.rstrip("_"): v for k, v in attrs.items()})


def _elem(
    seq: etree._Element,
    name: str,
    type_: str | None = None,
    *,
    min_occurs: str = "0",
    max_occurs: str = "1",
    nillable: bool = False,
) -> etree._Element:
    attrs = {"minOccurs": min_occurs, "maxOccurs": max_occurs, "name": name}
    if type_:
        attrs["type"] = type_
    if nillable:
        attrs["nillable"] = "true"
    return _sub(seq, "element", **attrs)


def _complex(root: etree._Element, name: str, members: list[tuple[str, str, str, str]]) -> None:
    """A sequence type; members are (name, type, minOccurs, maxOccurs), all nillable."""
    seq = _sub(_sub(root, "complexType", name=name), "sequence")
    for m_name, m_type, lo, hi in members:
        _elem(seq, m_name, m_type, min_occurs=lo, max_occurs=hi, nillable=True)


def _enum(root: etree._Element, name: str, values: list[str]) -> None:
    restriction = _sub(_sub(root, "simpleType", name=name), "restriction", base="xs:string")
    for v in values:
        _sub(restriction, "enumeration", value=v)


# ----- fixed schemas ------------------------------------------------------------------------


def build_entity_key() -> etree._Element:
    root = _schema(NS["ek"], {})
    _complex(root, "EntityKey", [("KeyData", "tns:KeyData", "1", "1")])
    _complex(root, "KeyData", [("KeyField", "tns:KeyField", "1", "unbounded")])
    _complex(root, "KeyField", [("Field", "xs:string", "1", "1"), ("Value", "xs:string", "1", "1")])
    _sub(root, "element", name="EntityKey", type="tns:EntityKey")
    return root


def build_entity_key_list() -> etree._Element:
    root = _schema(NS["ekl"], {"q1": NS["ek"]})
    seq = _sub(_sub(root, "complexType", name="EntityKeyList"), "sequence")
    _sub(seq, "element", minOccurs="0", maxOccurs="unbounded", ref="q1:EntityKey")
    _sub(root, "element", name="EntityKeyList", type="tns:EntityKeyList")
    return root


def build_query_criteria() -> etree._Element:
    root = _schema(NS["qc"], {})
    _sub(root, "element", name="QueryCriteria", type="tns:QueryCriteria")
    seq = _sub(_sub(root, "complexType", name="QueryCriteria"), "sequence")
    _sub(
        seq,
        "element",
        minOccurs="1",
        maxOccurs="unbounded",
        name="CriteriaElement",
        type="tns:CriteriaElement",
    )
    seq = _sub(_sub(root, "complexType", name="CriteriaElement"), "sequence")
    for name, type_ in (
        ("DataSourceName", "xs:string"),
        ("FieldName", "xs:string"),
        ("Operator", "tns:Operator"),
        ("Value1", "xs:string"),
    ):
        _sub(seq, "element", minOccurs="1", maxOccurs="1", name=name, type=type_)
    _sub(seq, "element", minOccurs="0", maxOccurs="1", name="Value2", type="xs:string")
    _enum(
        root, "Operator", ["Equal", "NotEqual", "Greater", "GreaterOrEqual", "Less", "LessOrEqual", "Range"]
    )
    return root


def build_document_paging() -> etree._Element:
    root = _schema(NS["paging"], {})
    _complex(root, "DocumentPaging", [("Bookmark", "xs:string", "0", "1"), ("PageSize", "xs:int", "0", "1")])
    _sub(root, "element", name="DocumentPaging", type="tns:DocumentPaging")
    return root


def build_entity_key_page() -> etree._Element:
    root = _schema(NS["keypage"], {"q1": NS["paging"], "q2": NS["ekl"]})
    seq = _sub(_sub(root, "complexType", name="EntityKeyPage"), "sequence")
    _sub(seq, "element", minOccurs="0", maxOccurs="1", ref="q1:DocumentPaging")
    _sub(seq, "element", minOccurs="0", maxOccurs="1", ref="q2:EntityKeyList")
    _elem(seq, "PageStatus", "tns:EntityKeyPageStatus")
    _elem(seq, "PageStatusDetails", "tns:EntityKeyPageStatusDetails")
    _sub(root, "element", name="EntityKeyPage", type="tns:EntityKeyPage")
    _enum(root, "EntityKeyPageStatus", ["Success", "Failure"])
    _enum(
        root,
        "EntityKeyPageStatusDetails",
        ["None", "DocumentFiltersChanged", "ChangeTrackingDisabled", "ChangedDateTimeOutOfRange"],
    )
    return root


def build_fault() -> etree._Element:
    root = _schema(NS["fault"], {"q1": NS["framework"]})
    _complex(
        root,
        "AifFault",
        [
            ("CustomDetailXml", "xs:string", "0", "1"),
            ("FaultMessageListArray", "tns:ArrayOfFaultMessageList", "0", "1"),
            ("InfologMessageList", "q1:ArrayOfInfologMessage", "0", "1"),
            ("StackTrace", "xs:string", "0", "1"),
            ("XppExceptionType", "xs:int", "0", "1"),
        ],
    )
    _sub(root, "element", name="AifFault", nillable="true", type="tns:AifFault")
    _complex(
        root, "ArrayOfFaultMessageList", [("FaultMessageList", "tns:FaultMessageList", "0", "unbounded")]
    )
    _complex(
        root,
        "FaultMessageList",
        [
            ("Document", "xs:string", "0", "1"),
            ("DocumentOperation", "xs:string", "0", "1"),
            ("FaultMessageArray", "tns:ArrayOfFaultMessage", "0", "1"),
            *[
                (n, "xs:string", "0", "1")
                for n in (
                    "Field",
                    "Service",
                    "ServiceOperation",
                    "ServiceOperationParameter",
                    "XPath",
                    "XmlLine",
                    "XmlPosition",
                )
            ],
        ],
    )
    _complex(root, "ArrayOfFaultMessage", [("FaultMessage", "tns:FaultMessage", "0", "unbounded")])
    _complex(root, "FaultMessage", [("Code", "xs:string", "0", "1"), ("Message", "xs:string", "0", "1")])
    return root


def build_framework() -> etree._Element:
    root = _schema(NS["framework"], {})
    _complex(root, "ArrayOfInfologMessage", [("InfologMessage", "tns:InfologMessage", "0", "unbounded")])
    _complex(
        root,
        "InfologMessage",
        [("InfologMessageType", "tns:InfologMessageType", "0", "1"), ("Message", "xs:string", "0", "1")],
    )
    _enum(root, "InfologMessageType", ["Info", "Warning", "Error"])
    return root


def build_call_context() -> etree._Element:
    root = _schema(NS["context"], {"q1": NS["arrays"]})
    _complex(
        root,
        "CallContext",
        [
            *[
                (n, "xs:string", "0", "1")
                for n in ("Company", "Language", "LogonAsUser", "MessageId", "PartitionKey")
            ],
            ("PropertyBag", "q1:ArrayOfKeyValueOfstringstring", "0", "1"),
        ],
    )
    _sub(root, "element", name="CallContext", nillable="true", type="tns:CallContext")
    return root


def build_arrays() -> etree._Element:
    root = _schema(NS["arrays"], {})
    seq = _sub(_sub(root, "complexType", name="ArrayOfKeyValueOfstringstring"), "sequence")
    item = _sub(seq, "element", minOccurs="0", maxOccurs="unbounded", name="KeyValueOfstringstring")
    inner = _sub(_sub(item, "complexType"), "sequence")
    _sub(inner, "element", name="Key", nillable="true", type="xs:string")
    _sub(inner, "element", name="Value", nillable="true", type="xs:string")
    _sub(
        root,
        "element",
        name="ArrayOfKeyValueOfstringstring",
        nillable="true",
        type="tns:ArrayOfKeyValueOfstringstring",
    )
    return root


def build_serialization() -> etree._Element:
    """The WCF serialization primitives every WCF WSDL imports (guid, char, duration, ids)."""
    root = _schema(NS["ser"], {})
    for name, base in (
        ("anyURI", "xs:anyURI"),
        ("boolean", "xs:boolean"),
        ("dateTime", "xs:dateTime"),
        ("decimal", "xs:decimal"),
        ("int", "xs:int"),
        ("long", "xs:long"),
        ("string", "xs:string"),
    ):
        _sub(root, "element", name=name, nillable="true", type=base)
    _sub(root, "element", name="guid", nillable="true", type="tns:guid")
    restriction = _sub(_sub(root, "simpleType", name="guid"), "restriction", base="xs:string")
    _sub(
        restriction,
        "pattern",
        value="[\\da-fA-F]{8}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{4}-[\\da-fA-F]{12}",
    )
    _sub(_sub(root, "simpleType", name="char"), "restriction", base="xs:int")
    _sub(root, "attribute", name="Id", type="xs:ID")
    _sub(root, "attribute", name="Ref", type="xs:IDREF")
    return root


def build_shared_types(ref: dict[str, Any]) -> etree._Element:
    """Enums (``AxdEnum_*`` and enum-like ``AxdExtType_*``), DateTime, entity keys, dimensions."""
    root = _schema(NS["shared"], {})
    for name in sorted(ref["enums"], key=str.lower):
        if name.startswith(("AxdEnum_", "AxdExtType_")):
            _enum(root, name, list(ref["enums"][name]["values"]))
    content = _sub(_sub(root, "complexType", name="AxdType_DateTime"), "simpleContent")
    ext = _sub(content, "extension", base="xs:dateTime")
    _sub(ext, "attribute", name="localDateTime", type="xs:dateTime")
    _sub(ext, "attribute", name="timezone", type="tns:AxdEnum_Timezone")
    restriction = _sub(_sub(root, "simpleType", name="AxdType_ExtCodeValue"), "restriction", base="xs:string")
    _sub(restriction, "maxLength", value="50")
    # [I] members of the surrogate-key replacement types beyond LogisticsPostalAddress.
    _complex(
        root,
        "AxdEntityKey_LogisticsPostalAddress",
        [("Location_LocationId", "xs:string", "1", "1"), ("ValidFrom", "tns:AxdType_DateTime", "0", "1")],
    )
    _complex(
        root,
        "AxdEntityKey_EcoResCategory",
        [("CategoryHierarchy_Name", "xs:string", "0", "1"), ("Name", "xs:string", "0", "1")],
    )
    _complex(
        root, "AxdEntityKey_DirNameAffix", [("Affix", "xs:string", "0", "1"), ("Type", "xs:string", "0", "1")]
    )
    _complex(
        root,
        "AxdEntityKey_TaxRegistrationNumbers_IN",
        [("RegistrationNumber", "xs:string", "0", "1"), ("TaxType", "xs:string", "0", "1")],
    )
    _complex(
        root,
        "AxdEntityKey_AgreementLine",
        [("LineNumber", "xs:decimal", "0", "1"), ("AgreementHeader_Document", "xs:string", "0", "1")],
    )
    _complex(
        root,
        "AxdType_DimensionAttributeValue",
        [("Name", "xs:string", "1", "1"), ("Value", "xs:string", "1", "1")],
    )
    _complex(
        root,
        "AxdType_DimensionAttributeValueSet",
        [("Values", "tns:ArrayOfAxdType_DimensionAttributeValue", "0", "1")],
    )
    _complex(
        root,
        "ArrayOfAxdType_DimensionAttributeValue",
        [("Value", "tns:AxdType_DimensionAttributeValue", "0", "unbounded")],
    )
    _complex(
        root,
        "AxdType_LedgerAccount",
        [
            ("Account", "xs:string", "0", "1"),
            ("DisplayValue", "xs:string", "0", "1"),
            ("Values", "tns:ArrayOfAxdType_DimensionAttributeValue", "0", "1"),
        ],
    )
    return root


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


def build_services() -> etree._Element:
    """The wrapper elements ``{Service}{Op}Request/Response`` of every exposed operation."""
    prefixes = {"ekl": NS["ekl"], "qc": NS["qc"], "pg": NS["paging"], "kp": NS["keypage"]}
    for i, spec in enumerate(SERVICES.values()):
        prefixes[f"d{i}"] = spec.document_ns
    root = _schema(NS["services"], prefixes)
    prefix_of = {v: k for k, v in prefixes.items()}
    for spec in SERVICES.values():
        doc = f"{prefix_of[spec.document_ns]}:{spec.document}"
        request = {
            "create": [doc],
            "read": ["ekl:EntityKeyList"],
            "update": ["ekl:EntityKeyList", doc],
            "delete": ["ekl:EntityKeyList"],
            "find": ["qc:QueryCriteria"],
            "findKeys": ["qc:QueryCriteria"],
            "getKeys": ["pg:DocumentPaging"],
            "getChangedKeys": ["pg:DocumentPaging", "changedDateTime"],
        }
        response = {
            "create": ["ekl:EntityKeyList"],
            "read": [doc],
            "update": [],
            "delete": [],
            "find": [doc],
            "findKeys": ["ekl:EntityKeyList"],
            "getKeys": ["kp:EntityKeyPage"],
            "getChangedKeys": ["kp:EntityKeyPage"],
        }
        for op in spec.operations:
            for kind, members in (("Request", request[op]), ("Response", response[op])):
                element = _sub(root, "element", name=f"{spec.name}{op[0].upper()}{op[1:]}{kind}")
                seq = _sub(_sub(element, "complexType"), "sequence")
                for member in members:
                    if ":" in member:
                        _sub(seq, "element", minOccurs="0", ref=member)
                    else:  # [I] the changed-since parameter, UTC
                        _sub(seq, "element", minOccurs="0", name=member, type="xs:dateTime")
    return root


def build_all(ref: dict[str, Any]) -> dict[str, etree._Element]:
    """Every schema of the port, by file name (keys in ``SCHEMA_FILES`` order)."""
    fixed = {
        "services.xsd": build_services(),
        "EntityKeyList.xsd": build_entity_key_list(),
        "EntityKey.xsd": build_entity_key(),
        "QueryCriteria.xsd": build_query_criteria(),
        "DocumentPaging.xsd": build_document_paging(),
        "EntityKeyPage.xsd": build_entity_key_page(),
        "Fault.xsd": build_fault(),
        "FrameworkServices.xsd": build_framework(),
        "CallContext.xsd": build_call_context(),
        "Serialization.xsd": build_serialization(),
        "Arrays.xsd": build_arrays(),
        "SharedTypes.xsd": build_shared_types(ref),
    }
    for spec in SERVICES.values():
        fixed[f"{spec.document}.xsd"] = _DocumentBuilder(ref, spec).build()
    return {name: fixed[name] for name in SCHEMA_FILES}
