"""Output of the webservice in XML (reference §4) and JSON (reference §5).

Rendering is string building, not a DOM: the output's shape is fixed and this is the hot path of
every GET. Values are whatever :class:`~.model.ShopModel` returns for a field: ``str``, ``None``
(NULL, printed empty), ``int`` (virtual getters that PHP returns as numbers) or ``dict[int, str]``
for multilingual fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol
from xml.sax.saxutils import quoteattr

import msgspec

from .query import Display
from .schema import CORE_RESOURCES, Association, Field, Resource
from .store import Row

__all__ = ["Values", "XML_HEAD", "xml_list", "xml_object", "xml_errors", "xml_schema", "xml_root",
           "json_list", "json_object", "json_errors"]

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
XML_TAIL = "</prestashop>\n"
_json = msgspec.json.Encoder()
# Association items link to /api/{association}/{id} only when the association is itself a resource.
_LINKED = frozenset(CORE_RESOURCES)


# Virtual ``price[NAME]`` fields: row -> [(element name, value)], printed after the regular fields.
Extras = Callable[[Row], list[tuple[str, str]]]


class Values(Protocol):
    """What the renderer needs from the shop model."""

    def value(self, resource: Resource, row: Row, fld: Field) -> Any: ...

    def assoc_items(self, resource: Resource, row: Row, assoc: Association) -> list[dict[str, str]]: ...


def cdata(value: Any) -> str:
    text = "" if value is None else str(value)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _href(ws: str, target: str, value: Any, row: Row) -> str:
    if target == "images/products":
        return f"{ws}images/products/{row.get('id')}/{value}"
    return f"{ws}{target}/{value}"


def _field_xml(ws: str, fld: Field, value: Any, row: Row, langs: list[int]) -> str:
    attrs = ""
    if fld.xlink and not fld.lang and not (fld.name.startswith("id_") and value in (None, "", "0", 0)):
        attrs += f' xlink:href="{_href(ws, fld.xlink, value, row)}"'
    if fld.getter or fld.not_filterable:
        attrs += ' notFilterable="true"'
    if fld.lang:
        value = value or {}
        inner = "".join(
            f'<language id="{lg}" xlink:href="{ws}languages/{lg}">{cdata(value.get(lg, ""))}</language>'
            for lg in langs
        )
        return f"\t<{fld.name}{attrs}>{inner}</{fld.name}>\n"
    return f"\t<{fld.name}{attrs}>{cdata(value)}</{fld.name}>\n"


def _assoc_xml(ws: str, assoc: Association, items: list[dict[str, str]], subs: list[str] | None,
               parent_id: str) -> str:
    head = f'<{assoc.name} nodeType="{assoc.node}"'
    head += ' virtualEntity="true"' if assoc.virtual_entity else f' api="{assoc.api}"'
    if not items:
        return head + "/>\n"
    names = subs or list(assoc.field_names())
    out = [head, ">\n"]
    for item in items:
        if assoc.name == "images":
            out.append(f'<{assoc.node} xlink:href="{ws}images/products/{item.get("_parent", parent_id)}/{item.get("id", "")}">\n')
        elif assoc.name in _LINKED:
            out.append(f'<{assoc.node} xlink:href="{ws}{assoc.name}/{item.get("id", "")}">\n')
        else:
            out.append(f"<{assoc.node}>\n")
        for af in assoc.fields:
            if af.name not in names:
                continue
            val = item.get(af.name, "")
            attr = f' xlink:href="{ws}{af.xlink}/{val}"' if af.xlink and val not in ("", "0") else ""
            out.append(f"\t<{af.name}{attr}>{cdata(val)}</{af.name}>\n")
        out.append(f"</{assoc.node}>\n")
    out.append(f"</{assoc.name}>\n")
    return "".join(out)


def _object_body(ws: str, model: Values, resource: Resource, row: Row, display: Display | None,
                 langs: list[int], extras: Extras | None = None) -> str:
    out = [f"<{resource.node}>\n"]
    full = display is None or display.full
    wanted = None if full else set(display.fields)  # type: ignore[union-attr]
    for fld in resource.visible_fields:
        if wanted is not None and fld.name not in wanted:
            continue
        out.append(_field_xml(ws, fld, model.value(resource, row, fld), row, langs))
    for name, value in extras(row) if extras else ():
        if wanted is None or name in wanted:
            out.append(f"\t<{name}>{cdata(value)}</{name}>\n")
    assocs = resource.associations if full else [
        a for a in resource.associations if a.name in display.associations  # type: ignore[union-attr]
    ]
    if assocs:
        out.append("<associations>\n")
        for assoc in assocs:
            subs = None if full else display.associations.get(assoc.name)  # type: ignore[union-attr]
            out.append(_assoc_xml(ws, assoc, model.assoc_items(resource, row, assoc), subs, str(row.get("id", ""))))
        out.append("</associations>\n")
    out.append(f"</{resource.node}>\n")
    return "".join(out)


def xml_object(ws: str, model: Values, resource: Resource, rows: list[Row], display: Display | None,
               langs: list[int], extras: Extras | None = None) -> str:
    """One or more objects directly under ``<prestashop>`` (single GET, POST/PUT/PATCH answers)."""
    return XML_HEAD + "".join(_object_body(ws, model, resource, r, display, langs, extras) for r in rows) + XML_TAIL


def xml_list(ws: str, model: Values, resource: Resource, rows: list[Row], display: Display | None,
             langs: list[int], extras: Extras | None = None) -> str:
    if display is None:
        items = "".join(
            f'<{resource.node} id="{r["id"]}" xlink:href="{ws}{resource.name}/{r["id"]}"/>\n' for r in rows
        )
    else:
        items = "".join(_object_body(ws, model, resource, r, display, langs, extras) for r in rows)
    return f"{XML_HEAD}<{resource.list_node}>\n{items}</{resource.list_node}>\n{XML_TAIL}"


def xml_errors(errors: list[tuple[int, str]]) -> str:
    body = "".join(
        f"<error>\n<code>{cdata(code)}</code>\n<message>{cdata(msg)}</message>\n</error>\n" for code, msg in errors
    )
    return f"{XML_HEAD}<errors>\n{body}</errors>\n{XML_TAIL}"


def xml_schema(ws: str, resource: Resource, kind: str, langs: list[int]) -> str:
    """``schema=blank`` or ``schema=synopsis`` (reference §4.5)."""
    out = [f"<{resource.node}>\n"]
    for fld in resource.visible_fields:
        if kind == "blank" and fld.read_only:
            continue
        if kind == "synopsis" and fld.name == "id":
            continue
        attrs = ""
        if kind == "synopsis":
            if fld.required:
                attrs += ' required="true"'
            if fld.size:
                attrs += f' maxSize="{fld.size}"'
            if fld.validate:
                attrs += f' format="{fld.validate}"'
            if fld.read_only or fld.synopsis_read_only:
                attrs += ' readOnly="true"'
            if fld.read_only:
                attrs += ' read_only="true"'
            if fld.getter or fld.not_filterable:
                attrs += ' notFilterable="true"'
        if fld.lang:
            if kind == "synopsis":
                inner = "".join(f'<language id="{lg}" xlink:href="{ws}languages/{lg}" format="isUnsignedId"></language>'
                                for lg in langs)
            else:
                inner = "".join(f'<language id="{lg}"></language>' for lg in langs)
            out.append(f"\t<{fld.name}{attrs}>{inner}</{fld.name}>\n")
        else:
            out.append(f"\t<{fld.name}{attrs}>{cdata('')}</{fld.name}>\n")
    if resource.associations:
        out.append("<associations>\n")
        for assoc in resource.associations:
            head = f"<{assoc.name}"
            if kind == "synopsis":
                head += f' nodeType="{assoc.node}"' + (' virtualEntity="true"' if assoc.virtual_entity
                                                        else f' api="{assoc.api}"')
            out.append(f"{head}>\n<{assoc.node}>\n")
            for af in assoc.fields:
                req = ' required="true"' if kind == "synopsis" and af.required else ""
                out.append(f"\t<{af.name}{req}>{cdata('')}</{af.name}>\n")
            out.append(f"</{assoc.node}>\n</{assoc.name}>\n")
        out.append("</associations>\n")
    out.append(f"</{resource.node}>\n")
    return XML_HEAD + "".join(out) + XML_TAIL


def xml_root(ws: str, shop_name: str, granted: dict[str, set[str]], resources: dict[str, Resource]) -> str:
    """The ``GET /api/`` listing of resources granted to the key (reference §2)."""
    out = [f"<api shopName={quoteattr(shop_name)}>\n"]
    for name in sorted(granted):
        methods = granted[name]
        perms = " ".join(f'{m.lower()}="{"true" if m in methods else "false"}"'
                         for m in ("GET", "PUT", "POST", "PATCH", "DELETE", "HEAD"))
        res = resources.get(name)
        desc = res.description if res else name
        out.append(f'<{name} xlink:href="{ws}{name}" {perms}>\n')
        out.append(f'<description xlink:href="{ws}{name}" {perms}>\n{desc}</description>\n')
        if name not in ("images", "attachments", "search"):
            out.append(f'<schema xlink:href="{ws}{name}?schema=blank" type="blank"/>\n')
            out.append(f'<schema xlink:href="{ws}{name}?schema=synopsis" type="synopsis"/>\n')
        out.append(f"</{name}>\n")
    out.append("</api>\n")
    return XML_HEAD + "".join(out) + XML_TAIL


# -- JSON -----------------------------------------------------------------------------------------
def _json_value(fld: Field, value: Any, langs: list[int], numeric_lang_ids: bool) -> Any:
    if fld.lang:
        value = value or {}
        if len(langs) == 1:
            return value.get(langs[0], "")
        return [{"id": lg if numeric_lang_ids else str(lg), "value": value.get(lg, "")} for lg in langs]
    if fld.name == "id":
        return int(value) if value not in (None, "") else value
    return value


def _json_object(model: Values, resource: Resource, row: Row, display: Display | None, langs: list[int],
                 numeric_lang_ids: bool, extras: Extras | None = None) -> dict[str, Any]:
    full = display is None or display.full
    wanted = None if full else set(display.fields)  # type: ignore[union-attr]
    obj: dict[str, Any] = {}
    for fld in resource.visible_fields:
        if wanted is None or fld.name in wanted:
            obj[fld.name] = _json_value(fld, model.value(resource, row, fld), langs, numeric_lang_ids)
    for name, value in extras(row) if extras else ():
        if wanted is None or name in wanted:
            obj[name] = value
    assocs = resource.associations if full else [
        a for a in resource.associations if a.name in display.associations  # type: ignore[union-attr]
    ]
    rendered: dict[str, Any] = {}
    for assoc in assocs:
        items = model.assoc_items(resource, row, assoc)
        if not items:
            continue  # empty associations are omitted in JSON
        subs = None if full else display.associations.get(assoc.name)  # type: ignore[union-attr]
        names = subs or list(assoc.field_names())
        rendered[assoc.name] = [{k: it.get(k, "") for k in names if k in it or k in assoc.field_names()}
                                for it in items]
    if rendered:
        obj["associations"] = rendered
    return obj


def json_list(model: Values, resource: Resource, rows: list[Row], display: Display | None,
              langs: list[int], numeric_lang_ids: bool = False, extras: Extras | None = None) -> bytes:
    if not rows:
        return b"[]"
    if display is None:
        return _json.encode({resource.list_node: [{"id": int(r["id"])} for r in rows]})
    return _json.encode({resource.list_node: [
        _json_object(model, resource, r, display, langs, numeric_lang_ids, extras) for r in rows
    ]})


def json_object(model: Values, resource: Resource, rows: list[Row], langs: list[int],
                numeric_lang_ids: bool = False, extras: Extras | None = None) -> bytes:
    """A single object without ``display``: falsy fields dropped (PHP ``array_filter``)."""
    objs = []
    for row in rows:
        obj = _json_object(model, resource, row, None, langs, numeric_lang_ids, extras)
        objs.append({k: v for k, v in obj.items() if v not in ("", "0", None, 0, [], {}, False)})
    if len(objs) == 1:
        return _json.encode({resource.node: objs[0]})
    return _json.encode({resource.list_node: objs})


def json_errors(errors: list[tuple[int, str]]) -> bytes:
    return _json.encode({"errors": [{"code": code, "message": msg} for code, msg in errors]})
