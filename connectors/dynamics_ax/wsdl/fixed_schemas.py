"""The fixed schemas of an AX 2012 port: EntityKey(List), QueryCriteria, paging, AifFault,
CallContext, WCF serialization arrays, sharedtypes, and the services wrapper elements.

Each ``build_*`` returns one ``xs:schema`` element tree; shapes follow the reference
(AX 2009/2012 ItemService XSDs, the R3 proxy, the 2012 sharedtypes schema).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from .catalog import NS, SERVICES
from .xsd_common import complex_type as _complex
from .xsd_common import elem as _elem
from .xsd_common import enum_type as _enum
from .xsd_common import schema as _schema
from .xsd_common import sub as _sub

__all__ = [
    "build_arrays",
    "build_call_context",
    "build_document_paging",
    "build_entity_key",
    "build_entity_key_list",
    "build_entity_key_page",
    "build_fault",
    "build_framework",
    "build_query_criteria",
    "build_serialization",
    "build_services",
    "build_shared_types",
]


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
