"""The port's schemas at run time: safe parsing, XSD validation with AX/.NET style messages,
the document type index, and the WSDL/XSD files as served on ``?wsdl`` / ``?xsd=xsdN``.

Contract: ``parse_xml`` refuses DTDs and never resolves entities or fetches the network;
``SchemaSet.validate`` raises :class:`~.faults.AxFault` whose text is the one AX gives
("Invalid document schema. The following error is reported : ..."), with the .NET
validator wording the reference quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from lxml import etree

from ..wsdl import NS, SCHEMA_FILES, SERVICES, WSDL_DIR, WSDL_FILES
from .faults import AxFault

__all__ = ["FieldInfo", "SchemaSet", "TypeInfo", "parse_xml"]

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
XS = f"{{{NS['xs']}}}"
DEFAULT_ADDRESS = "http://localhost/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"


def parse_xml(data: bytes) -> etree._Element:
    """Parse a request body; DTDs (and so entity declarations) are refused outright."""
    if b"<!DOCTYPE" in data[:4096].upper() or b"<!ENTITY" in data.upper():
        raise ValueError("DTDs and entity declarations are not allowed in SOAP messages.")
    return etree.fromstring(data, _PARSER)


@dataclass
class FieldInfo:
    name: str
    kind: str  # string | decimal | int | date | datetime | enum | complex
    mandatory: bool
    zero: str = ""  # the value AX treats as "empty" and omits on output
    max_length: int | None = None  # EDT string size (xs:maxLength)


@dataclass
class TypeInfo:
    name: str
    base: str | None = None
    abstract: bool = False
    own_fields: list[FieldInfo] = field(default_factory=list)
    own_children: list[tuple[str, str]] = field(default_factory=list)  # (element, type)
    fields: list[FieldInfo] = field(default_factory=list)  # including the base chain
    children: list[tuple[str, str]] = field(default_factory=list)
    field_map: dict[str, FieldInfo] = field(default_factory=dict)
    child_map: dict[str, str] = field(default_factory=dict)
    position: dict[str, int] = field(default_factory=dict)  # field name -> schema order
    always: list[FieldInfo] = field(default_factory=list)  # system and mandatory fields


@dataclass
class DocumentIndex:
    """The entity types of one document namespace."""

    namespace: str
    root_fields: list[FieldInfo]
    root_entity: str
    root_type: str
    types: dict[str, TypeInfo]
    #: data source name -> every type an element of that name may have (for find)
    sources: dict[str, set[str]]


def _enum_first_values() -> dict[str, str]:
    tree = etree.parse(str(WSDL_DIR / "SharedTypes.xsd"), _PARSER)
    out = {}
    for st in tree.getroot().iter(XS + "simpleType"):
        first = st.find(f"{XS}restriction/{XS}enumeration")
        if first is not None and st.get("name"):
            out[st.get("name", "")] = first.get("value", "")
    return out


def _field_info(el: etree._Element, enums: dict[str, str]) -> FieldInfo:
    type_ = el.get("type", "")
    local = type_.split(":")[-1]
    mandatory = el.get("minOccurs") == "1"
    if type_ == "xs:decimal":
        return FieldInfo(el.get("name", ""), "decimal", mandatory, "0")
    if type_ in ("xs:int", "xs:long"):
        return FieldInfo(el.get("name", ""), "int", mandatory, "0")
    if type_ == "xs:date":
        return FieldInfo(el.get("name", ""), "date", mandatory)
    if local == "AxdType_DateTime":
        return FieldInfo(el.get("name", ""), "datetime", mandatory)
    if local in enums:
        return FieldInfo(el.get("name", ""), "enum", mandatory, enums[local])
    if type_.startswith("st:"):
        return FieldInfo(el.get("name", ""), "complex", mandatory)
    limit = el.find(f"{XS}simpleType/{XS}restriction/{XS}maxLength")
    size = int(limit.get("value", "0")) if limit is not None else 0
    return FieldInfo(el.get("name", ""), "string", mandatory, max_length=size or None)


def _index_document(ns: str, file_name: str, enums: dict[str, str]) -> DocumentIndex:
    root = etree.parse(str(WSDL_DIR / file_name), _PARSER).getroot()
    types: dict[str, TypeInfo] = {}
    root_fields: list[FieldInfo] = []
    root_entity = root_type = ""
    for ct in root.findall(XS + "complexType"):
        name = ct.get("name", "")
        ext = ct.find(f"{XS}complexContent/{XS}extension")
        holder = ext if ext is not None else ct
        seq = holder.find(XS + "sequence")
        elements = [] if seq is None else seq.findall(XS + "element")
        if name.startswith("Axd") and not name.startswith("AxdEntity_"):
            for el in elements:
                if el.get("type", "").startswith("tns:AxdEntity_"):
                    root_entity, root_type = el.get("name", ""), el.get("type", "")[4:]
                else:
                    root_fields.append(_field_info(el, enums))
            continue
        info = TypeInfo(name, abstract=ct.get("abstract") == "true")
        if ext is not None:
            info.base = ext.get("base", "")[4:]
        for el in elements:
            if el.get("type", "").startswith("tns:AxdEntity_"):
                info.own_children.append((el.get("name", ""), el.get("type", "")[4:]))
            else:
                info.own_fields.append(_field_info(el, enums))
        types[name] = info
    for info in types.values():
        chain = [info]
        while chain[-1].base:
            chain.append(types[chain[-1].base])
        for t in reversed(chain):
            info.fields += t.own_fields
            info.children += t.own_children
        info.field_map = {f.name: f for f in info.fields}
        info.position = {f.name: i for i, f in enumerate(info.fields)}
        info.always = [f for f in info.fields if f.name in ("RecId", "RecVersion", "_DocumentHash") or f.mandatory]
        info.child_map = dict(info.children)
    sources: dict[str, set[str]] = {root_entity: {root_type}}
    for info in types.values():
        for child, child_type in info.children:
            sources.setdefault(child, set()).add(child_type)
    for names in sources.values():  # derived types of polymorphic data sources
        names |= {t.name for t in types.values() if t.base in names}
    return DocumentIndex(ns, root_fields, root_entity, root_type, types, sources)


_EXPECTED = re.compile(r"Expected is (?:one of )?\( ?(.*?) ?\)")
_QNAME = re.compile(r"\{([^}]*)\}(\w+)")


def _locate(wrapper: etree._Element, path: str) -> etree._Element | None:
    """The element an error path (``/*/*[2]/*``, rooted at the validated element) points at."""
    rest = path[2:] if path.startswith("/*") else ""
    if not rest:
        return wrapper
    found = wrapper.xpath("." + rest)
    return found[0] if found else None


def readable_path(el: etree._Element | None) -> str | None:
    """``/SalesOrderServiceCreateRequest/SalesOrder/SalesTable/CustAccount`` for a fault's XPath."""
    if el is None:
        return None
    names = []
    while el is not None and isinstance(el.tag, str):
        names.append(etree.QName(el).localname)
        el = el.getparent()
        if names[-1].endswith("Request"):
            break
    return "/" + "/".join(reversed(names))


def _dotnet_message(error: etree._LogEntry, wrapper: etree._Element, missing: list[str]) -> str:
    """Translate a libxml2 validation message into the .NET validator wording AX shows."""
    msg = error.message
    names = _QNAME.findall(msg)
    child_ns, child = names[0] if names else ("", "?")
    target = _locate(wrapper, error.path or "")
    parent_el = target.getparent() if target is not None else None
    parent = etree.QName(parent_el).localname if parent_el is not None and isinstance(parent_el.tag, str) else ""
    expected = _EXPECTED.search(msg)
    expected_txt = ""
    if expected:
        exp = [n for _, n in _QNAME.findall(expected.group(1))]
        exp_ns = _QNAME.findall(expected.group(1))[0][0] if exp else child_ns
        expected_txt = f" List of possible elements expected: '{', '.join(exp)}' in namespace '{exp_ns}'."
    if "This element is not expected" in msg:
        return (f"The element '{parent}' in namespace '{child_ns}' has invalid child element '{child}' "
                f"in namespace '{child_ns}'.{expected_txt}")
    if "Missing child element" in msg:
        if missing:  # libxml2 cuts its list short; name the mandatory elements AX waits for
            expected_txt = f" List of possible elements expected: '{', '.join(missing)}' in namespace '{child_ns}'."
        return f"The element '{child}' in namespace '{child_ns}' has incomplete content.{expected_txt}"
    value = re.search(r"The value '(.*?)'", msg) or re.search(r"'(.*?)' is not a valid value", msg)
    shown = value.group(1) if value else ""
    if "maxLength" in msg:
        reason = "The actual length is greater than the MaxLength value."
    elif "enumeration" in msg:
        reason = "The Enumeration constraint failed."
    else:
        reason = f"The string '{shown}' is not a valid value for this type."
    return (f"The '{child_ns}:{child}' element is invalid - The value '{shown}' is invalid according to "
            f"its datatype - {reason}")


class SchemaSet:
    """Loaded once per process: validator, type index and the served files."""

    def __init__(self) -> None:
        imports = "".join(
            f'<xs:import namespace="{ns}" schemaLocation="{(WSDL_DIR / name).as_uri()}"/>'
            for name, ns in SCHEMA_FILES.items()
        )
        master = f'<xs:schema xmlns:xs="{NS["xs"]}" targetNamespace="urn:presta-ax:sandbox">{imports}</xs:schema>'
        self.validator = etree.XMLSchema(etree.fromstring(master.encode()))
        enums = _enum_first_values()
        self.enum_first = enums
        self.documents = {
            spec.document: _index_document(spec.document_ns, f"{spec.document}.xsd", enums)
            for spec in SERVICES.values()
        }
        self._files = {name: (WSDL_DIR / name).read_bytes() for name in (*SCHEMA_FILES, *WSDL_FILES)}
        self._files["xppservice.wsdl"] = (WSDL_DIR / "xppservice.wsdl").read_bytes()
        self.xsd_ids = {f"xsd{i}": name for i, name in enumerate(SCHEMA_FILES)}
        self.wsdl_ids = {f"wsdl{i}": name for i, name in enumerate(WSDL_FILES)}

    def validate(self, wrapper: etree._Element) -> None:
        """Raise an AxFault (XppExceptionType 3) when the body wrapper breaks the schema."""
        if self.validator.validate(wrapper):
            return
        error = self.validator.error_log[0]
        target = _locate(wrapper, error.path or "")
        text = "Invalid document schema. The following error is reported : " + _dotnet_message(
            error, wrapper, self._missing_mandatory(target))
        raise AxFault([text], xpath=readable_path(target), field=etree.QName(target).localname if target is not None
                      else None, line=error.line, code="InvalidDocumentSchema")

    def _missing_mandatory(self, el: etree._Element | None) -> list[str]:
        if el is None or not isinstance(el.tag, str):
            return []
        qname = etree.QName(el)
        present = {etree.QName(c).localname for c in el if isinstance(c.tag, str)}
        for index in self.documents.values():
            if index.namespace != qname.namespace or qname.localname not in index.sources:
                continue
            for type_name in sorted(index.sources[qname.localname]):
                info = index.types[type_name]
                return [f.name for f in info.fields if f.mandatory and f.name not in present]
        return []

    @lru_cache(maxsize=32)  # noqa: B019 - one SchemaSet per process, a handful of base URLs
    def served(self, name: str, base_url: str) -> bytes | None:
        """The file as published at ``base_url`` (locations rewritten), or None if unknown."""
        data = self._files.get(name)
        if data is None:
            return None
        text = data.decode("utf-8")
        for xsd_id, file_name in self.xsd_ids.items():
            text = text.replace(f'schemaLocation="{file_name}"', f'schemaLocation="{base_url}?xsd={xsd_id}"')
        for wsdl_id, file_name in self.wsdl_ids.items():
            text = text.replace(f'location="{file_name}"', f'location="{base_url}?wsdl={wsdl_id}"')
        return text.replace(DEFAULT_ADDRESS, base_url).encode("utf-8")
