"""Document records of the sandbox and their XML form.

An :class:`Entity` is one record of one data source (``SalesTable``, ``SalesLine`` ...):
field values as the canonical XML text, child records by data-source name, and the
system fields ``RecId``/``RecVersion`` kept by the server. Parsing follows the document's
type index (so ``xsi:type`` derived parties and products work); rendering writes fields in
schema order and, as AX does on outbound documents, omits empty and zero values of
non-mandatory fields.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import TypeAlias

from lxml import etree

from ..wsdl import NS
from .schemas import DocumentIndex, TypeInfo

__all__ = ["NIL", "Entity", "document_hash", "parse_document", "render_document", "walk"]

XSI_TYPE = f"{{{NS['xsi']}}}type"
XSI_NIL = f"{{{NS['xsi']}}}nil"


class _Nil:
    """An element sent with ``xsi:nil="true"`` (distinct from absent and from empty)."""

    def __repr__(self) -> str:
        return "NIL"


NIL = _Nil()
Value: TypeAlias = str | _Nil | etree._Element


class Entity:
    """One record. ``type_name`` is its XSD type (a derived type for polymorphic sources)."""

    __slots__ = ("action", "children", "fields", "rec_id", "rec_version", "source", "type_name")

    def __init__(self, source: str, type_name: str, fields: dict[str, Value] | None = None) -> None:
        self.source = source
        self.type_name = type_name
        self.fields: dict[str, Value] = fields or {}
        self.children: dict[str, list[Entity]] = {}
        self.rec_id = 0
        self.rec_version = 0
        self.action: str | None = None

    def get(self, name: str, default: str = "") -> str:
        value = self.fields.get(name)
        return value if isinstance(value, str) else default

    def dec(self, name: str) -> Decimal:
        try:
            return Decimal(self.get(name) or "0")
        except InvalidOperation:
            return Decimal(0)

    def child(self, name: str) -> Entity | None:
        items = self.children.get(name)
        return items[0] if items else None

    def clone(self) -> Entity:
        """A deep copy of the record tree (field values are immutable or shared elements)."""
        twin = Entity(self.source, self.type_name, dict(self.fields))
        twin.children = {name: [c.clone() for c in items] for name, items in self.children.items()}
        twin.rec_id, twin.rec_version, twin.action = self.rec_id, self.rec_version, self.action
        return twin

    def __repr__(self) -> str:  # field values may be personal data: never shown
        return f"Entity({self.source}, RecId={self.rec_id})"


def walk(entity: Entity) -> Iterator[Entity]:
    """The entity and all its descendants, parents first."""
    yield entity
    for items in entity.children.values():
        for child in items:
            yield from walk(child)


def document_hash(entity: Entity) -> str:
    """32 lowercase hex characters over RecId/RecVersion of every record of the document."""
    text = "|".join(f"{e.rec_id}:{e.rec_version}" for e in walk(entity))
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _parse_entity(el: etree._Element, declared: str, index: DocumentIndex) -> Entity:
    type_name = declared
    xsi = el.get(XSI_TYPE)
    if xsi:
        candidate = xsi.rpartition(":")[2]
        if candidate in index.types:
            type_name = candidate
    info: TypeInfo = index.types[type_name]
    entity = Entity(_local(el.tag), type_name)
    entity.action = el.get("action")
    for child in el:
        if not isinstance(child.tag, str):
            continue  # comments, processing instructions
        name = _local(child.tag)
        child_type = info.child_map.get(name)
        if child_type is not None:
            entity.children.setdefault(name, []).append(_parse_entity(child, child_type, index))
        elif name in info.field_map:
            if child.get(XSI_NIL) in ("true", "1"):
                entity.fields[name] = NIL
            elif len(child):
                entity.fields[name] = child
            else:
                f = info.field_map[name]
                text = (child.text or "").strip() if f.kind != "string" else (child.text or "")
                # AX cuts strings to the EDT size without a word [reference §5.5]; with "Validate
                # document XML" on, the schema's maxLength has already refused them.
                entity.fields[name] = text[:f.max_length] if f.max_length else text
    return entity


def parse_document(doc_el: etree._Element, index: DocumentIndex) -> tuple[dict[str, str], list[Entity]]:
    """``(root fields, top-level entities)`` of a validated document element."""
    root_fields: dict[str, str] = {}
    entities: list[Entity] = []
    for child in doc_el:
        if not isinstance(child.tag, str):
            continue
        name = _local(child.tag)
        if name == index.root_entity:
            entities.append(_parse_entity(child, index.root_type, index))
        elif child.get(XSI_NIL) not in ("true", "1"):
            root_fields[name] = (child.text or "").strip()
    return root_fields, entities


def _is_empty(value: str, kind: str, zero: str) -> bool:
    if value == "" or value == zero:
        return True
    if kind in ("decimal", "int"):
        try:
            return Decimal(value) == 0
        except InvalidOperation:
            return False
    return False


def _render_entity(parent: etree._Element, entity: Entity, declared: str, index: DocumentIndex,
                   top: bool) -> None:
    ns = index.namespace
    info = index.types[entity.type_name]
    el = etree.SubElement(parent, f"{{{ns}}}{entity.source}")
    el.set("class", "entity")
    if entity.type_name != declared:
        el.set(XSI_TYPE, entity.type_name)  # default namespace = document namespace
    # Only the fields the record has (plus system and mandatory ones), in schema order: far
    # fewer than the ~160 the big entities declare.
    present = {n: info.field_map[n] for n in entity.fields if n in info.field_map}
    present.update((f.name, f) for f in info.always)
    for f in sorted(present.values(), key=lambda fi: info.position[fi.name]):
        name = f.name
        if name == "RecId":
            value: Value | None = str(entity.rec_id)
        elif name == "RecVersion":
            value = str(entity.rec_version)
        elif name == "_DocumentHash":
            value = document_hash(entity) if top else None
        else:
            value = entity.fields.get(name)
        if value is None or value is NIL:
            continue
        if isinstance(value, etree._Element):
            copy = etree.SubElement(el, f"{{{ns}}}{name}")
            for sub in value:
                copy.append(etree.fromstring(etree.tostring(sub)))
            continue
        assert isinstance(value, str)
        if not f.mandatory and _is_empty(value, f.kind, f.zero):
            continue
        etree.SubElement(el, f"{{{ns}}}{name}").text = value
    for child_name, child_type in info.children:
        for child in entity.children.get(child_name, ()):
            _render_entity(el, child, child_type, index, False)


def render_document(parent: etree._Element, document: str, index: DocumentIndex, entities: list[Entity],
                    sender: str) -> etree._Element:
    """Append ``<Document>`` with ``DocPurpose=Original``, ``SenderId`` and the entities."""
    ns = index.namespace
    doc = etree.SubElement(parent, f"{{{ns}}}{document}", nsmap={None: ns, "xsi": NS["xsi"]})
    for f in index.root_fields:
        if f.name == "DocPurpose":
            etree.SubElement(doc, f"{{{ns}}}DocPurpose").text = "Original"
        elif f.name == "SenderId":
            etree.SubElement(doc, f"{{{ns}}}SenderId").text = sender
    for entity in entities:
        _render_entity(doc, entity, index.root_type, index, True)
    return doc
