"""Shared pieces of the XSD builders: the schema file list, namespaces and element helpers.

``SCHEMA_FILES`` maps each schema file to its target namespace in ``?xsd=xsdN`` order; the
helpers build ``xs:`` elements with lxml so that no text is ever concatenated into XML.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from lxml import etree

from .catalog import NS, SERVICES

__all__ = ["SCHEMA_FILES", "XS", "complex_type", "elem", "enum_type", "load_reference", "schema", "sub"]

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


def load_reference(path: Path) -> dict[str, Any]:
    """Read ``documents.json`` (the machine-readable AX reference)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def schema(target_ns: str, prefixes: dict[str, str]) -> etree._Element:
    nsmap = {"xs": XS, "tns": target_ns, **prefixes}
    root = etree.Element(_X + "schema", nsmap=nsmap)
    root.set("targetNamespace", target_ns)
    root.set("elementFormDefault", "qualified")
    for ns in prefixes.values():
        if ns in _FILE_OF_NS and ns != target_ns:
            etree.SubElement(root, _X + "import", namespace=ns, schemaLocation=_FILE_OF_NS[ns])
    return root


def sub(parent: etree._Element, tag: str, **attrs: str) -> etree._Element:
    return etree.SubElement(parent, _X + tag, {k.rstrip("_"): v for k, v in attrs.items()})


def elem(
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
    return sub(seq, "element", **attrs)


def complex_type(root: etree._Element, name: str, members: list[tuple[str, str, str, str]]) -> None:
    """A sequence type; members are (name, type, minOccurs, maxOccurs), all nillable."""
    seq = sub(sub(root, "complexType", name=name), "sequence")
    for m_name, m_type, lo, hi in members:
        elem(seq, m_name, m_type, min_occurs=lo, max_occurs=hi, nillable=True)


def enum_type(root: etree._Element, name: str, values: list[str]) -> None:
    restriction = sub(sub(root, "simpleType", name=name), "restriction", base="xs:string")
    for v in values:
        sub(restriction, "enumeration", value=v)
