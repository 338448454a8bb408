"""POST, PUT, PATCH and DELETE with PrestaShop 8.2's rules (reference §6).

:func:`write` parses an XML body (DTDs and entities refused), applies, for each entity element in
order, the id rules (codes 89-92), the field rules (93 read-only, 41 required, PUT resetting every
omitted optional field, PATCH leaving them alone, the per-language rules for multilingual fields),
the ``ws_modifier``s, the validation (84 multilingual, 85 others), the save with its side effects,
then the association setters. It returns the saved rows for the response.
"""

from __future__ import annotations

import copy
from typing import Any
from xml.etree.ElementTree import Element

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, fromstring

from ..validators import check, php_empty
from . import orders
from .model import ShopModel, slugify
from .schema import Field, Resource
from .store import Row
from .wserrors import WsError

__all__ = ["parse_body", "write", "delete", "normalize"]


def parse_body(raw: bytes) -> list[Element]:
    """Entity elements of a body (children of the root); error 127 when it is not XML."""
    text = raw.decode("utf-8", errors="replace")
    if text.startswith("xml="):
        text = text[4:]  # a leading xml= is stripped but NOT url-decoded (reference §6.1)
    try:
        root = fromstring(text.encode("utf-8"), forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise WsError(500, 127, f"XML error : {exc}\n{text[:2000]}") from None
    return [child for child in root if isinstance(child.tag, str)]


def normalize(fld: Field, value: Any) -> Any:
    """The value as MySQL stores and prints it (``getFields`` formatting + column types)."""
    if fld.lang:
        return value
    if value is None:
        if fld.allow_null:
            return None
        if fld.default is not None:
            return fld.default
        if fld.type in ("int", "bool"):
            return "0"
        if fld.type == "float":
            return "0.000000"
        if fld.type == "date":
            return "0000-00-00" if fld.date_only else "0000-00-00 00:00:00"
        return ""
    if fld.type == "int":
        text = value.strip()
        sign = -1 if text.startswith("-") else 1
        digits = ""
        for ch in text.lstrip("+-"):
            if not ch.isdigit():
                break
            digits += ch
        return str(sign * int(digits)) if digits else "0"
    if fld.type == "bool":
        return "0" if value in ("", "0") else "1"
    if fld.type == "float":
        try:
            return f"{float(value.strip() or 0):.6f}"
        except ValueError:
            return "0.000000"
    if fld.type == "date" and value.strip() == "":
        return "0000-00-00" if fld.date_only else "0000-00-00 00:00:00"
    return value


def _text(el: Element) -> str:
    return el.text or ""


def _apply_lang(model: ShopModel, row: Row, fld: Field, el: Element | None, method: str, old: Row | None) -> None:
    langs = model.languages(active_only=False)
    sent: dict[int, str] = {}
    if el is not None:
        children = [c for c in el if c.tag == "language"]
        if children:
            for child in children:
                lid = (child.get("id") or "").strip()
                if lid.isdigit():
                    sent[int(lid)] = _text(child)
        else:
            sent = {lg: _text(el) for lg in langs}  # a bare value goes to every language
    current = dict((old or {}).get(fld.name) or {})
    if el is None:
        row[fld.name] = {lg: "" for lg in langs}
    elif fld.required:
        if method == "POST":
            fallback = sent.get(model.default_lang, next(iter(sent.values()), ""))
            row[fld.name] = {lg: sent.get(lg, fallback) for lg in langs}
        else:
            row[fld.name] = {lg: sent.get(lg, current.get(lg, "")) for lg in langs}
    else:
        row[fld.name] = {lg: sent.get(lg, "") for lg in langs}


def _validate(resource: Resource, row: Row, fld: Field, default_lang: int) -> str | None:
    cls, name = resource.class_name, fld.name
    values = row.get(name)
    if fld.lang:
        items = list((values or {}).items())
        # ObjectModel::validateField checks "required" for the default language only, with
        # Tools::isEmpty ('' or null: "0" is a value) and the same message as other fields.
        if fld.required and (values or {}).get(default_lang) in (None, ""):
            return f"Property {cls}->{name} is empty."
    else:
        if fld.required and (values is None or values == ""):
            return f"Property {cls}->{name} is empty."
        items = [(0, values)]
    for _, value in items:
        if value is None or php_empty(value):
            continue
        text = str(value)
        if fld.values is not None and text not in fld.values:
            return f"Property {cls}->{name} has a bad value (allowed values are: {', '.join(v for v in fld.values if v)})."
        if fld.size is not None and len(text) > fld.size:
            return (f"The length of property {cls}->{name} is currently {len(text)} chars. "
                    f"It must be between 0 and {fld.size} chars.")
        if fld.range is not None and fld.type == "int":
            try:
                number = int(text)
            except ValueError:
                number = None
            if number is not None and not (fld.range[0] <= number <= fld.range[1]):
                return (f"The range of property {cls}->{name} is currently {number}. "
                        f"It must be between {fld.range[0]} and {fld.range[1]}.")
        if not check(fld.validate, text):
            return f"Property {cls}->{name} is not valid"
    return None


def _entity(model: ShopModel, resource: Resource, el: Element, method: str) -> tuple[Row, Row | None, Element | None]:
    children = {c.tag: c for c in el if isinstance(c.tag, str)}
    id_el = children.get("id")
    id_text = _text(id_el).strip() if id_el is not None else ""
    old: Row | None = None
    if method == "POST":
        if id_text:
            raise WsError(400, 91, "id is forbidden when adding a new resource")
        row: Row = {}
    else:
        if not id_text:
            raise WsError(400, 90, "id is required when modifying a resource")
        found = model.store.get(resource.name, int(id_text)) if id_text.isdigit() else None
        if found is None:
            raise WsError(404, 92, "Invalid ID")
        old = found
        row = copy.deepcopy(found)
    for fld in resource.fields:
        if fld.name == "id":
            continue
        f_el = children.get(fld.name)
        if method == "PATCH" and f_el is None:
            continue
        if f_el is not None and fld.read_only:
            raise WsError(400, 93, f'parameter "{fld.name}" not writable. Please remove this attribute of this XML')
        if fld.lang:
            if fld.virtual and fld.name != "names":
                continue
            _apply_lang(model, row, fld, f_el, method, old)
        elif f_el is not None:
            model.apply_setter(resource, row, fld, _text(f_el), method)
        elif fld.required and not fld.virtual and not fld.getter:
            raise WsError(400, 41, f'parameter "{fld.name}" required')
        elif not fld.virtual:
            row[fld.name] = None
    _modifiers(model, resource, row, method)
    return row, old, children.get("associations")


def _modifiers(model: ShopModel, resource: Resource, row: Row, method: str) -> None:
    if method == "POST" and resource.name in ("products", "categories"):
        names, rewrites = row.get("name") or {}, dict(row.get("link_rewrite") or {})
        for lg, text in names.items():
            current = rewrites.get(lg, "")
            if not current:
                rewrites[lg] = slugify(text)
            elif not check("isLinkRewrite", current):
                rewrites[lg] = slugify(current)
        row["link_rewrite"] = rewrites
    if resource.name == "currencies":
        if row.get("names") and any(row["names"].values()):
            row["name"] = row["names"].get(model.default_lang) or next(iter(row["names"].values()))
        elif row.get("name"):
            row["names"] = {lg: row["name"] for lg in model.languages(active_only=False)}
        if row.get("iso_code"):
            row["iso_code"] = str(row["iso_code"]).upper()


def _finish(model: ShopModel, resource: Resource, row: Row) -> None:
    for fld in resource.fields:
        if fld.name != "id" and not fld.virtual and fld.name in row:
            row[fld.name] = normalize(fld, row[fld.name])
        elif fld.name != "id" and not fld.virtual and not fld.lang and fld.name not in row:
            row[fld.name] = normalize(fld, None)


def write(model: ShopModel, resource: Resource, raw: bytes, method: str, params: dict[str, str]) -> tuple[list[Row], bool]:
    """Apply a write body; returns ``(rows to render, render_posted)``.

    ``render_posted`` is True for order creation, whose answer echoes the posted object with only
    the id replaced (reference §8.1).
    """
    entities = parse_body(raw)
    if method in ("PUT", "PATCH"):
        ids = [(_text(e.find("id")) if e.find("id") is not None else "").strip() for e in entities]  # type: ignore[arg-type]
        seen = set()
        for value in ids:
            if value and value in seen:
                raise WsError(400, 89, "id is duplicate in request")
            seen.add(value)
    out: list[Row] = []
    posted_echo = False
    for el in entities:
        row, old, assoc_el = _entity(model, resource, el, method)
        error = None
        for fld in [f for f in resource.fields if f.lang] + [f for f in resource.fields if not f.lang]:
            if fld.name == "id" or fld.virtual or (method == "PATCH" and fld.name not in row):
                continue
            message = _validate(resource, row, fld, model.default_lang)
            if message:
                error = (84 if fld.lang else 85, f'Validation error: "{message}"')
                break
        if error:
            raise WsError(400, *error)
        if resource.name == "orders" and method == "POST":
            echo = dict(row)
            stored = orders.create_order(model, row)
            echo["id"] = stored["id"]
            _finish(model, resource, echo)
            out.append(echo)
            posted_echo = True
            continue
        _finish(model, resource, row)
        pending_state = row.pop("_pending_state", None)
        pending_tracking = row.pop("_pending_shipping_number", None)
        model.before_save(resource, row, method, old)
        if resource.name == "order_histories" and method == "POST":
            order = model.store.get("orders", int(row.get("id_order") or 0))
            if order is None:
                raise WsError(500, 46, "Unable to save resource")
            history = orders.change_state(model, order, row.get("id_order_state") or "0",
                                          employee=row.get("id_employee") or "0")
            out.append(history)
            continue
        # An orders PUT without <current_state> resets the column to 0 like any omitted field
        # (reference §8.2: use PATCH); with it, the setter below moves the state and adds a history.
        model.save(resource, row, method, old)
        if pending_state and pending_state != (old or {}).get("current_state"):
            orders.change_state(model, row, pending_state)
        if pending_tracking is not None:
            for carrier in model.store.find("order_carriers", id_order=row["id"]):
                carrier["tracking_number"] = pending_tracking
                model.store.save("order_carriers", carrier)
                break
        if assoc_el is not None:
            for child in assoc_el:
                assoc = resource.association(child.tag)
                if assoc is None:
                    raise WsError(400, 86, f'The association "{child.tag}" does not exists')
                items = [{c.tag: _text(c) for c in item} for item in child]
                model.set_association(resource, row, assoc, items)
        out.append(row)
    return out, posted_echo


def delete(model: ShopModel, resource: Resource, url_id: str | None, param_ids: str | None) -> None:
    """``DELETE /api/r/{id}`` or ``?id=[1,2]``: all ids must exist (404 code 87) or nothing happens."""
    if url_id is not None:
        wanted = [url_id]
    elif param_ids:
        inner = param_ids[1:-1] if param_ids.startswith("[") and param_ids.endswith("]") else param_ids
        wanted = [p.strip() for p in inner.replace("|", ",").split(",") if p.strip()]
    else:
        raise WsError(400, 87, "You have to set one or more ids to delete")
    rows, missing = [], []
    for value in wanted:
        row = model.store.get(resource.name, int(value)) if value.isdigit() else None
        if row is None:
            missing.append(value)
        else:
            rows.append(row)
    if missing:
        raise WsError(404, 87, f"Id(s) not exists: {', '.join(missing)}")
    for row in rows:
        model.delete(resource.name, row)
