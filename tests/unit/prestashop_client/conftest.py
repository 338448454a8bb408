"""A tiny in-memory shop speaking the PrestaShop webservice protocol over httpx.MockTransport.

Only what the unit tests need: Basic/ws_key auth, GET one (404 with an empty body), lists with
equality / ``>`` / ``[a|b]`` filters, ``sort`` and ``limit=offset,count``, POST/PUT/PATCH/DELETE
with XML bodies and PrestaShop's PUT semantics (omitted fields are reset). Bodies are shaped as
the reference shows (CDATA, ``<language id>``, xlink, ``nodeType`` on associations).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from lxml import etree

from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.schemas import schema

KEY = "UCCLLQ9N2ARSHWCXLT74KUKSSK34BFKX"
BASE = "https://shop.example/api/"
HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n<prestashop xmlns:xlink="http://www.w3.org/1999/xlink">\n'
TAIL = "</prestashop>\n"


def cdata(text: str) -> str:
    return f"<![CDATA[{text}]]>"


def render_object(resource: str, rec: dict[str, Any]) -> str:
    res = schema(resource)
    out = [f"<{res.node}>\n"]
    for name, value in rec.items():
        if name == "associations":
            continue
        if isinstance(value, dict):
            langs = "".join(
                f'<language id="{lid}" xlink:href="{BASE}languages/{lid}">{cdata(v)}</language>'
                for lid, v in value.items()
            )
            out.append(f"\t<{name}>{langs}</{name}>\n")
        else:
            out.append(f"\t<{name}>{cdata(str(value))}</{name}>\n")
    assocs = rec.get("associations")
    if assocs:
        out.append("<associations>\n")
        for name, rows in assocs.items():
            spec = res.associations[name]
            if not rows:
                out.append(f'<{name} nodeType="{spec.node}" api="{spec.api}"/>\n')
                continue
            out.append(f'<{name} nodeType="{spec.node}" api="{spec.api}">\n')
            for row in rows:
                inner = "".join(f"<{k}>{cdata(str(v))}</{k}>\n" for k, v in row.items())
                out.append(f'<{spec.node} xlink:href="{BASE}{name}/{row.get("id", "")}">\n{inner}</{spec.node}>\n')
            out.append(f"</{name}>\n")
        out.append("</associations>\n")
    out.append(f"</{res.node}>\n")
    return "".join(out)


def error_xml(code: int, message: str) -> str:
    return (HEAD + "<errors>\n<error>\n<code>" + cdata(str(code)) + "</code>\n<message>" + cdata(message)
            + "</message>\n</error>\n</errors>\n" + TAIL)


def _parse_body(body: bytes) -> list[dict[str, Any]]:
    root = etree.fromstring(body)
    out = []
    for ent in root:
        rec: dict[str, Any] = {}
        for f in ent:
            if f.tag == "associations":
                rec["associations"] = {a.tag: [{c.tag: c.text or "" for c in item} for item in a] for a in f}
            elif len(f) and f[0].tag == "language":
                rec[f.tag] = {int(lang.get("id")): lang.text or "" for lang in f}
            else:
                rec[f.tag] = f.text or ""
        out.append(rec)
    return out


def _matches(value: str, expr: str) -> bool:
    if expr.startswith(">["):
        return value > expr[2:-1]
    if expr.startswith("<["):
        return value < expr[2:-1]
    inner = expr[1:-1] if expr.startswith("[") else expr
    if "|" in inner:
        return value in inner.split("|")
    return value == inner


class FakeShop:
    """State and request log of the fake shop; ``handler`` is the MockTransport callable."""

    def __init__(self) -> None:
        self.data: dict[str, dict[int, dict[str, Any]]] = {}
        self.requests: list[httpx.Request] = []
        self.next_id: dict[str, int] = {}
        self.hook: Callable[[httpx.Request], httpx.Response | None] | None = None

    def add(self, resource: str, rec: dict[str, Any]) -> dict[str, Any]:
        rid = int(rec.get("id") or self.next_id.get(resource, 1))
        self.next_id[resource] = max(self.next_id.get(resource, 1), rid + 1)
        full = {"id": str(rid), **{k: v for k, v in rec.items() if k != "id"}}
        self.data.setdefault(resource, {})[rid] = full
        return full

    def _auth_ok(self, request: httpx.Request) -> bool:
        if request.url.params.get("ws_key") == KEY:
            return True
        auth = request.headers.get("authorization", "")
        if auth.startswith("Basic "):
            user = base64.b64decode(auth[6:]).decode().split(":", 1)[0]
            return user == KEY
        return False

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.hook is not None:
            forced = self.hook(request)
            if forced is not None:
                return forced
        if not self._auth_ok(request):
            return httpx.Response(401, text="401 Unauthorized", headers={"WWW-Authenticate": 'Basic realm="x"'})
        xml_headers = {"Content-Type": "text/xml", "PSWS-Version": "8.2.0"}
        method = request.url.params.get("ps_method", request.method)
        parts = [p for p in request.url.path.split("/api/", 1)[1].split("/") if p]
        if not parts:
            return httpx.Response(200, headers=xml_headers)
        resource = parts[0]
        res = schema(resource)
        table = self.data.setdefault(resource, {})
        if method == "GET" and len(parts) == 2:
            rec = table.get(int(parts[1]))
            if rec is None:
                return httpx.Response(404, headers={"Content-Type": ""})
            return httpx.Response(200, text=HEAD + render_object(resource, rec) + TAIL, headers=xml_headers)
        if method == "GET":
            rows = list(table.values())
            for key, value in request.url.params.multi_items():
                m = re.match(r"filter\[(\w+)\]", key)
                if m:
                    rows = [r for r in rows if _matches(str(r.get(m.group(1), "")), value)]
            sort = request.url.params.get("sort")
            if sort:
                for item in reversed(sort.strip("[]").split(",")):
                    field, _, direction = item.rpartition("_")
                    conv = int if field == "id" else str
                    rows.sort(key=lambda r, f=field, c=conv: c(r.get(f, "")), reverse=direction == "DESC")
            limit = request.url.params.get("limit")
            if limit:
                nums = [int(x) for x in limit.split(",")]
                off, cnt = (0, nums[0]) if len(nums) == 1 else nums
                rows = rows[off:off + cnt]
            display = request.url.params.get("display")
            body = [f"<{res.list_node}>\n"]
            for r in rows:
                if display is None:
                    body.append(f'<{res.node} id="{r["id"]}" xlink:href="{BASE}{resource}/{r["id"]}"/>\n')
                else:
                    keep = r if display == "full" else {k: v for k, v in r.items() if k in display.strip("[]").split(",")}
                    body.append(render_object(resource, keep))
            body.append(f"</{res.list_node}>\n")
            return httpx.Response(200, text=HEAD + "".join(body) + TAIL, headers=xml_headers)
        if method == "DELETE":
            ids = [int(parts[1])] if len(parts) == 2 else [int(x) for x in request.url.params["id"].strip("[]").split(",")]
            missing = [i for i in ids if i not in table]
            if missing:
                return httpx.Response(404, text=error_xml(87, f"Id(s) not exists: {missing[0]}"), headers=xml_headers)
            for i in ids:
                del table[i]
            return httpx.Response(200, headers={"Content-Type": ""})
        saved = []
        for rec in _parse_body(request.content):
            if method == "POST":
                if rec.get("id"):
                    return httpx.Response(400, text=error_xml(91, "id is forbidden when adding a new resource"))
                rec.pop("id", None)
                saved.append(self.add(resource, rec))
            else:
                rid = int(rec.get("id") or 0)
                if rid not in table:
                    return httpx.Response(404, text=error_xml(92, "Invalid ID"), headers=xml_headers)
                if method == "PUT":  # PrestaShop resets every field the body leaves out
                    new = {k: ("" if not isinstance(v, dict) else {lid: "" for lid in v}) for k, v in table[rid].items()}
                    new.pop("associations", None)
                    new.update(rec)
                    new["associations"] = {**table[rid].get("associations", {}), **rec.get("associations", {})}
                else:
                    new = {**table[rid], **rec}
                table[rid] = new
                saved.append(new)
        text = HEAD + "".join(render_object(resource, r) for r in saved) + TAIL
        return httpx.Response(201 if method == "POST" else 200, text=text, headers=xml_headers)


@pytest.fixture
def shop() -> FakeShop:
    return FakeShop()


@pytest.fixture
def make_client(shop: FakeShop):
    def factory(**overrides: Any) -> Client:
        langs = overrides.pop("langs", [1, 2])
        cfg = ClientConfig(base_url="https://shop.example", api_key=KEY, **overrides)
        return Client(cfg, transport=httpx.MockTransport(shop.handler), language_ids=langs)

    return factory


@pytest.fixture
def client(make_client) -> Client:
    return make_client()
