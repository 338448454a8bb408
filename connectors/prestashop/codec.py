"""XML and JSON <-> plain records for the PrestaShop webservice.

A *record* is the connector's neutral shape of one object, the same whatever the wire format:

* a plain field is a ``str`` exactly as the shop stores it (``"19.900000"``, ``"1"``, ``""``);
* a multilingual field is a ``dict[int, str]`` keyed by language id;
* associations live under the key ``"associations"`` as ``{name: [{field: str, ...}, ...]}``.

Decoding refuses DTDs and never resolves entities (XML from a shop is untrusted input), and
handles the JSON output's quirks: ``[]`` for an empty list, numbers as strings, ``id`` as a
number, multilingual fields collapsed to one string when a single language is in effect.

Encoding writes what the webservice accepts: one ``<prestashop>`` envelope, one element per
field, every value in CDATA with no whitespace around it (whitespace would become part of
the value and break validators), booleans as ``0``/``1``, decimals with a dot and no exponent,
and one ``<language id>`` element per language for multilingual fields.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from lxml import etree

from connectors.errors import NotFoundError, TransientError, ValidationError

__all__ = [
    "Record",
    "decode_errors",
    "decode_json_list",
    "decode_json_object",
    "decode_xml_list",
    "decode_xml_object",
    "encode_objects",
    "format_scalar",
    "parse_xml",
]

Record = dict[str, Any]

XLINK_NS = "http://www.w3.org/1999/xlink"
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Characters XML 1.0 cannot carry at all, even inside CDATA.
_ILLEGAL_XML_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

# One parser for the whole process: lxml parsers are reusable and thread-safe per call.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
    huge_tree=False, remove_blank_text=False,
)


def parse_xml(body: bytes, *, where: str) -> etree._Element:
    """Parse a webservice XML body and return its root element.

    Raises :class:`TransientError` when the body is not XML (a truncated or HTML answer from a
    proxy is usually passing) and :class:`ValidationError` when it declares a DTD, which a
    PrestaShop answer never does. ``where`` names the request in the message.
    """
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise TransientError(
            f"The shop answered {where} with a body that is not XML ({exc.msg}).", system="prestashop"
        ) from None
    if root is None:
        raise TransientError(f"The shop answered {where} with an empty XML document.", system="prestashop")
    if root.getroottree().docinfo.doctype:
        raise ValidationError(
            f"The shop's answer to {where} declares a DTD; it was refused as unsafe XML.", system="prestashop"
        )
    if root.tag != "prestashop":
        # every webservice answer is one <prestashop> element in no namespace; anything else
        # (an XHTML page of a proxy or firewall, a forged document) is not the shop speaking
        raise TransientError(
            f"The shop answered {where} with XML that is not a PrestaShop webservice document.", system="prestashop"
        )
    return root


def _lang_id(value: Any) -> int:
    """A language id of a multilingual field; a shop always writes a small positive integer."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    text = str(value).strip() if isinstance(value, str) else ""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise TransientError("The shop's answer holds a multilingual field whose language id is not a number.",
                             system="prestashop")
    return int(text)


def _text(elem: etree._Element) -> str:
    return elem.text or ""


def _is_multilingual(elem: etree._Element) -> bool:
    children = list(elem)
    return bool(children) and all(c.tag == "language" and c.get("id") is not None for c in children)


def _decode_associations(elem: etree._Element) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for assoc in elem:
        if not isinstance(assoc.tag, str):
            continue
        items: list[dict[str, str]] = []
        for item in assoc:
            if not isinstance(item.tag, str):
                continue
            fields = {f.tag: _text(f) for f in item if isinstance(f.tag, str)}
            if not fields and item.get("id") is not None:
                fields = {"id": item.get("id", "")}
            items.append(fields)
        out[assoc.tag] = items
    return out


def decode_element(elem: etree._Element) -> Record:
    """Decode one entity element (``<customer>...</customer>``) into a record."""
    record: Record = {}
    for child in elem:
        tag = child.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        if len(child) == 0:  # the common case first: a plain field (len() is a C call)
            record[tag] = child.text or ""
        elif tag == "associations":
            record["associations"] = _decode_associations(child)
        elif _is_multilingual(child):
            record[tag] = {_lang_id(lang.get("id", "0")): _text(lang) for lang in child}
        else:
            record[tag] = _text(child)
    return record


def _entity_children(root: etree._Element) -> list[etree._Element]:
    return [c for c in root if isinstance(c.tag, str)]


def decode_xml_object(body: bytes, *, where: str, node: str | None = None) -> Record:
    """Decode a single-object answer (GET one, POST/PUT/PATCH response).

    With ``display`` a single object comes wrapped in its list node
    (``<orders><order>...</order></orders>``); given the item ``node``, that wrapper is undone.
    """
    root = parse_xml(body, where=where)
    children = _entity_children(root)
    if not children:
        raise TransientError(f"The shop's answer to {where} holds no object.", system="prestashop")
    first = children[0]
    if node is not None and first.tag != node:
        items = [c for c in first if isinstance(c.tag, str) and c.tag == node]
        if not items:
            raise NotFoundError(f"The shop's answer to {where} holds no '{node}'.", system="prestashop")
        first = items[0]
    return decode_element(first)


def decode_xml_objects(body: bytes, *, where: str) -> list[Record]:
    """Decode every entity element of a write answer (a batch write returns several)."""
    root = parse_xml(body, where=where)
    return [decode_element(c) for c in _entity_children(root)]


def decode_xml_list(body: bytes, *, where: str) -> list[Record]:
    """Decode a list answer. Minimal lists give ``{"id": ...}`` records; ``display`` lists full ones."""
    root = parse_xml(body, where=where)
    lists = _entity_children(root)
    if not lists:
        return []
    records: list[Record] = []
    for item in lists[0]:
        if not isinstance(item.tag, str):
            continue
        if len(item) == 0 and item.get("id") is not None:
            records.append({"id": item.get("id", "")})
        else:
            records.append(decode_element(item))
    return records


def decode_errors(body: bytes, content_type: str = "") -> list[tuple[int | None, str]]:
    """Extract ``(code, message)`` pairs from an XML or JSON error body; ``[]`` when none.

    Never raises: a body that is neither gives an empty list and the caller falls back to the
    HTTP status and the body's first line.
    """
    stripped = body.lstrip()
    if not stripped:
        return []
    if stripped[:1] in (b"{", b"["):
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            return []
        errors = data.get("errors") if isinstance(data, dict) else None
        out: list[tuple[int | None, str]] = []
        for err in errors if isinstance(errors, list) else []:
            if isinstance(err, dict):
                out.append((_as_int(err.get("code")), str(err.get("message", ""))))
        return out
    if not stripped.startswith(b"<"):
        return []
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return []
    if root is None or root.getroottree().docinfo.doctype:
        return []
    found: list[tuple[int | None, str]] = []
    for err in root.iter("error"):
        code = err.find("code")
        message = err.find("message")
        found.append((_as_int(code.text if code is not None else None),
                      (message.text or "") if message is not None else ""))
    return found


def _as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# ---------------------------------------------------------------- JSON


def _json_scalar(value: Any) -> str:
    if value is None or value is False:
        return "0" if value is False else ""
    if value is True:
        return "1"
    return str(value)


def _json_item(item: Mapping[str, Any], lang_fields: frozenset[str], single_lang_id: int | None) -> Record:
    record: Record = {}
    for key, value in item.items():
        if key == "associations" and isinstance(value, Mapping):
            record["associations"] = {
                name: [{k: _json_scalar(v) for k, v in row.items()} for row in rows if isinstance(row, Mapping)]
                for name, rows in value.items()
                if isinstance(rows, list)
            }
        elif isinstance(value, list) and all(isinstance(v, Mapping) and "id" in v for v in value):
            record[key] = {_lang_id(v["id"]): _json_scalar(v.get("value")) for v in value}
        elif key in lang_fields and not isinstance(value, list):
            # One language in effect: PrestaShop collapses the field to a bare string.
            record[key] = {single_lang_id or 0: _json_scalar(value)}
        else:
            record[key] = _json_scalar(value)
    return record


def decode_json_list(
    data: Any, list_node: str, *, lang_fields: Iterable[str] = (), single_lang_id: int | None = None
) -> list[Record]:
    """Normalise a JSON list answer. ``[]`` (PrestaShop's empty list) gives ``[]``."""
    if isinstance(data, list):
        return []
    if not isinstance(data, Mapping):
        raise TransientError("The shop's JSON list answer is neither an object nor a list.", system="prestashop")
    items = data.get(list_node)
    if items is None:
        # Some answers use another key than expected (e.g. a singular resource); take the one there is.
        items = next(iter(data.values()), [])
    if isinstance(items, Mapping):
        items = [items]
    if not isinstance(items, list):
        raise TransientError(f"The shop's JSON list answer holds no list of '{list_node}'.", system="prestashop")
    langs = frozenset(lang_fields)
    return [_json_item(i, langs, single_lang_id) for i in items if isinstance(i, Mapping)]


def decode_json_object(
    data: Any, node: str, list_node: str, *, lang_fields: Iterable[str] = (), single_lang_id: int | None = None
) -> Record:
    """Normalise a single object in JSON: ``{"customer": {...}}`` or, with ``display``, ``{"customers": [{...}]}``."""
    langs = frozenset(lang_fields)
    if isinstance(data, Mapping) and isinstance(data.get(node), Mapping):
        return _json_item(data[node], langs, single_lang_id)
    records = decode_json_list(data, list_node, lang_fields=langs, single_lang_id=single_lang_id)
    if not records:
        raise TransientError(f"The shop's JSON answer holds no '{node}' object.", system="prestashop")
    return records[0]


# ---------------------------------------------------------------- encoding


def format_scalar(value: Any) -> str:
    """The text PrestaShop expects for a Python value: bools 0/1, decimals without exponent."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        text = format(Decimal(repr(value)), "f")
        return text
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _cdata(text: str, where: str) -> str:
    if _ILLEGAL_XML_RE.search(text):
        raise ValidationError(
            f"The value of {where} contains a control character that XML cannot carry; remove it.",
            system="prestashop",
        )
    # "]]>" would end the CDATA section early: split it across two sections.
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _check_name(name: str, where: str) -> str:
    if not _NAME_RE.match(name):
        raise ValidationError(f"'{name}' in {where} is not a valid PrestaShop field name.", system="prestashop")
    return name


def _encode_field(name: str, value: Any, out: list[str], where: str) -> None:
    tag = _check_name(name, where)
    if isinstance(value, Mapping):
        out.append(f"<{tag}>")
        for lang_id, text in value.items():
            try:
                lid = int(lang_id)
            except (TypeError, ValueError):
                raise ValidationError(
                    f"Field '{name}' of {where} has language key {lang_id!r}; language keys must be ids.",
                    system="prestashop",
                ) from None
            out.append(f'<language id="{lid}">{_cdata(format_scalar(text), f"{where}.{name}[{lid}]")}</language>')
        out.append(f"</{tag}>")
        return
    try:
        text = format_scalar(value)
    except ValueError:
        raise ValidationError(f"Field '{name}' of {where} is not a finite number.", system="prestashop") from None
    out.append(f"<{tag}>{_cdata(text, f'{where}.{name}')}</{tag}>")


def encode_objects(node: str, records: Iterable[Mapping[str, Any]], association_nodes: Mapping[str, str]) -> bytes:
    """Encode records as one XML request body (several records = one batch request).

    ``association_nodes`` maps each association name to its item element (``categories`` ->
    ``category``, ``accessories`` -> ``product``); an association not listed there is refused,
    since PrestaShop would answer error 86 anyway.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>', f'<prestashop xmlns:xlink="{XLINK_NS}">']
    _check_name(node, "the request")
    for record in records:
        out.append(f"<{node}>")
        for name, value in record.items():
            if name == "associations":
                continue
            _encode_field(name, value, out, node)
        assocs = record.get("associations")
        if assocs:
            out.append("<associations>")
            for name, rows in assocs.items():
                item = association_nodes.get(name)
                if item is None:
                    raise ValidationError(f"'{node}' has no association named '{name}'.", system="prestashop")
                _check_name(name, node)
                out.append(f"<{name}>")
                for row in rows:
                    out.append(f"<{item}>")
                    for key, val in row.items():
                        _encode_field(key, val, out, f"{node}.associations.{name}")
                    out.append(f"</{item}>")
                out.append(f"</{name}>")
            out.append("</associations>")
        out.append(f"</{node}>")
    out.append("</prestashop>")
    return "".join(out).encode("utf-8")
