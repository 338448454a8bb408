"""Async client of the PrestaShop 8.x webservice (``/api/``) on httpx.

One :class:`Client` holds one pooled, keep-alive connection pool (:class:`.transport.Transport`);
share it. Every call is
one HTTP request except where stated (``update`` reads then writes; ``iter_all`` pages).

Contracts that protect the shop's data:

* writes are XML (the only body format PrestaShop parses), with read-only fields stripped,
  every language sent for multilingual fields and values in whitespace-free CDATA;
* :meth:`Client.update` reads the stored object and merges the changes into it before the PUT,
  because a PUT resets every field it does not carry; associations are only sent when the
  caller changes them (an association element replaces the whole set);
* field names are checked against the resource's field table, because the shop silently
  ignores unknown elements (a typo would be lost without a word).

Errors are the classes of :mod:`connectors.errors`, chosen by :mod:`.errors`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

import httpx
from opentelemetry import trace

from connectors.errors import AuthError, ConfigError, PermanentError, TransientError, ValidationError

from . import codec, read_memo
from .codec import Record
from .config import ClientConfig
from .errors import plain_text_write_error
from .query import list_params
from .schemas import ResourceSchema, check_fields, schema, writable_record
from .transport import Transport

__all__ = ["Client"]

# Aliases: inside the class, ``list`` names the method, so annotations use these instead.
Records = list[Record]
Ids = list[int]


class Client:
    """PrestaShop webservice client. Use as ``async with Client(config) as shop: ...``.

    ``transport`` replaces the network (``httpx.ASGITransport``, ``httpx.MockTransport``) for
    tests and embedding; everything else behaves the same. ``language_ids`` (default language
    first) saves the lookup of the active languages; ``tracer_provider`` defaults to the global
    OpenTelemetry provider (a no-op until the runtime installs one).
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        language_ids: Sequence[int] | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.config = config
        self.transport = Transport(config, transport=transport, tracer_provider=tracer_provider)
        self._languages: Ids | None = list(language_ids) if language_ids else None
        self._patch_ok = True  # set to False once the shop or key refuses PATCH

    def __repr__(self) -> str:  # never the key
        return f"Client(base_url={self.config.base_url!r})"

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self.transport.aclose()

    @property
    def psws_version(self) -> str | None:
        """The shop's webservice version, known after the first authenticated answer."""
        return self.transport.psws_version

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        json_output: bool = False,
    ) -> httpx.Response:
        """One raw webservice request (see :meth:`Transport.request`); bridge errors on failure.

        Inside :func:`.read_memo.read_memo` a repeated GET is answered from that scope's memory
        and any other method empties it first (see that module)."""
        if method != "GET":
            read_memo.forget_all()
            return await self.transport.request(method, path, params=params, content=content, json_output=json_output)
        answer = read_memo.remembered(self, path, params, json_output)
        if answer is None:
            answer = await self.transport.request(method, path, params=params, json_output=json_output)
            read_memo.remember(self, path, params, json_output, answer)
        return answer  # type: ignore[no-any-return]

    # ------------------------------------------------------------ reads

    async def ping(self) -> str | None:
        """``HEAD /api/``: checks the URL and key; returns the ``PSWS-Version`` header (``8.2.0``)."""
        await self.request("HEAD", "")
        return self.psws_version

    async def languages(self) -> Ids:
        """Ids of the shop's active languages (cached), the default language (``PS_LANG_DEFAULT``)
        first when the key may read ``configurations``; used to send every language on writes."""
        if self._languages is None:
            try:
                rows = await self.list("languages", display=["id", "active"], sort=["id_ASC"])
            except AuthError as exc:
                raise ConfigError(
                    "The webservice key may not read 'languages'; grant it GET on languages or pass "
                    "language_ids to the Client so multilingual fields can be written safely.",
                    system="prestashop",
                ) from exc
            langs = [int(r["id"]) for r in rows if r.get("active", "1") == "1"]
            default = await self._default_language()
            if default in langs:  # the default language first: it fills the languages left out
                langs.remove(default)
                langs.insert(0, default)
            self._languages = langs
        return list(self._languages)

    async def _default_language(self) -> int | None:
        """``PS_LANG_DEFAULT`` from ``configurations`` when the key may read it, else ``None``."""
        try:
            response = await self.request("GET", "configurations", params=[
                ("filter[name]", "[PS_LANG_DEFAULT]"), ("display", "[value]")])
            rows = codec.decode_xml_list(response.content, where="GET configurations")
            return int(rows[0]["value"]) if rows else None
        except (AuthError, PermanentError, TransientError, KeyError, ValueError):
            # Optional: without the right, the lowest active language id stands in for it.
            return None

    async def _single_language(self, res: ResourceSchema, language: int | Sequence[int] | None) -> int | None:
        # JSON collapses a multilingual field to a bare string when one language is in effect.
        if isinstance(language, int):
            return language
        if language is not None and len(language) == 1:  # language=[N] is one language too
            return int(language[0])
        if not res.lang_fields:
            return None
        langs = await self.languages()
        return langs[0] if len(langs) == 1 else None

    async def get(
        self,
        resource: str,
        id: int | str,
        *,
        display: str | Sequence[str] | None = None,
        language: int | Sequence[int] | None = None,
        json: bool | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Record:
        """One object by id. Raises :class:`NotFoundError` when it does not exist.

        In JSON the request always carries ``display`` (``full`` by default): without it
        PrestaShop drops every field whose value is falsy.
        """
        res = schema(resource)
        use_json = self.config.output_format == "JSON" if json is None else json
        if use_json and display is None:
            display = "full"
        path = f"{resource}/{int(id)}"
        q = list_params(display=display, language=language, extra=params)
        response = await self.request("GET", path, params=q, json_output=use_json)
        if use_json:
            return codec.decode_json_object(
                _json_body(response, path), res.node, res.list_node, lang_fields=res.lang_fields,
                single_lang_id=await self._single_language(res, language),
            )
        return codec.decode_xml_object(response.content, where=f"GET {path}", node=res.node)

    async def list(
        self,
        resource: str,
        *,
        display: str | Sequence[str] | None = None,
        filters: Mapping[str, Any] | None = None,
        sort: str | Sequence[str] | None = None,
        limit: int | tuple[int, int] | None = None,
        date: bool | None = None,
        language: int | Sequence[int] | None = None,
        json: bool | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Records:
        """One list request. Without ``display`` each record is just ``{"id": ...}``.

        ``filters`` maps field names to PrestaShop filter syntax (see :class:`query.F`);
        ``date=1`` is added when a date field is filtered or sorted on.
        """
        res = schema(resource)
        use_json = self.config.output_format == "JSON" if json is None else json
        q = list_params(display=display, filters=filters, sort=sort, limit=limit, date=date,
                        language=language, extra=params)
        response = await self.request("GET", resource, params=q, json_output=use_json)
        if use_json:
            return codec.decode_json_list(
                _json_body(response, resource), res.list_node, lang_fields=res.lang_fields,
                single_lang_id=await self._single_language(res, language),
            )
        return codec.decode_xml_list(response.content, where=f"GET {resource}")

    async def iter_all(
        self,
        resource: str,
        *,
        page_size: int | None = None,
        sort: str | Sequence[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[Record]:
        """Every matching record, page by page (``limit=offset,count``).

        PrestaShop reports no total, so paging stops at the first page shorter than
        ``page_size``. The sort defaults to ``[id_ASC]`` because the shop has no default order.
        """
        size = page_size or self.config.page_size
        offset = 0
        while True:
            page = await self.list(resource, sort=sort or ["id_ASC"], limit=(offset, size), **kwargs)
            for record in page:
                yield record
            if len(page) < size:
                return
            offset += size

    async def blank(self, resource: str) -> Record:
        """``schema=blank``: an empty object listing every writable field."""
        response = await self.request("GET", resource, params=[("schema", "blank")])
        return codec.decode_xml_object(response.content, where=f"GET {resource}?schema=blank")

    # ------------------------------------------------------------ writes

    async def _language_ids(self, res: ResourceSchema, *records: Mapping[str, Any]) -> Ids:
        for record in records:
            for name in res.lang_fields:
                value = record.get(name)
                if isinstance(value, Mapping) and value:
                    return [int(k) for k in value]
        if any(name in r for r in records for name in res.lang_fields):
            return await self.languages()
        return []

    async def _write(
        self, method: str, path: str, res: ResourceSchema, bodies: Sequence[Mapping[str, Any]],
        params: Mapping[str, str] | None,
    ) -> Records:
        body = codec.encode_objects(res.node, bodies, res.association_nodes)
        response = await self.request(method, path, params=list((params or {}).items()), content=body)
        where = f"{method} {path}"
        if not response.content.lstrip().startswith(b"<"):
            raise plain_text_write_error(response.content, where=where)
        return codec.decode_xml_objects(response.content, where=where)

    async def create(self, resource: str, record: Mapping[str, Any], *, params: Mapping[str, str] | None = None) -> Record:
        """POST one object; returns the saved object (with its new ``id``).

        For ``orders`` the shop's answer echoes the posted values, not the order it created
        (reference, state and totals are recomputed from the cart), so the order is read back.
        """
        (created,) = await self.create_many(resource, [record], params=params)
        if resource == "orders" and created.get("id"):
            return await self.get("orders", created["id"])
        return created

    async def create_many(
        self, resource: str, records: Sequence[Mapping[str, Any]], *, params: Mapping[str, str] | None = None
    ) -> Records:
        """POST several objects in one request (PrestaShop saves them in sequence)."""
        res = schema(resource)
        res.check_method("POST")
        bodies = []
        for record in records:
            check_fields(res, record)
            if str(record.get("id") or "").strip():
                raise ValidationError(
                    f"A new '{res.node}' must not carry an id (PrestaShop error 91).", system="prestashop", code=91
                )
            # A creation sends every active language (the default one first).
            langs = await self.languages() if any(n in record for n in res.lang_fields) else []
            bodies.append(writable_record(res, record, language_ids=langs))
        return await self._write("POST", resource, res, bodies, params)

    async def update(
        self, resource: str, id: int | str, changes: Mapping[str, Any], *, params: Mapping[str, str] | None = None
    ) -> Record:
        """Change some fields and keep every other one: GET, merge, PUT (2 requests).

        Virtual fields with setters (``position_in_category``...) are only sent when changed:
        echoing them can fail (error 134/135) or trigger side effects. Not atomic: a write by
        someone else between the GET and the PUT is overwritten for the fields it shares.
        With ``prefer_patch`` the change is one PATCH instead; when the shop or the key refuses
        PATCH (405, error 23 or 25: keys created before 8.0 lack the right) the client falls
        back to GET + PUT and stops trying PATCH.
        """
        res = schema(resource)
        res.check_method("PUT")
        check_fields(res, changes)
        if self.config.prefer_patch and self._patch_ok:
            try:
                return await self.patch(resource, id, changes, params=params)
            except PermanentError as exc:
                if exc.code not in (23, 25):
                    raise
                self._patch_ok = False
        current = await self.get(resource, id, json=False)
        base = {
            k: v for k, v in current.items()
            if not (k in res.fields and res.fields[k].virtual and k not in changes)
        }
        body = writable_record(res, changes, base=base, language_ids=await self._language_ids(res, base, changes))
        body["id"] = str(int(id))
        (saved,) = await self._write("PUT", f"{resource}/{int(id)}", res, [_id_first(body)], params)
        return saved

    async def patch(
        self, resource: str, id: int | str, changes: Mapping[str, Any], *, params: Mapping[str, str] | None = None
    ) -> Record:
        """PATCH only the given fields (PrestaShop 8.0+, needs the PATCH permission on the key).

        A multilingual field given for only some languages is completed from the stored object
        first (one extra GET), since PrestaShop blanks the languages a PATCH leaves out.
        """
        res = schema(resource)
        res.check_method("PATCH")
        check_fields(res, changes)
        partial = [
            n for n in res.lang_fields
            if isinstance(changes.get(n), Mapping)
        ]
        base: Record = {}
        if partial:
            current = await self.get(resource, id, json=False)
            base = {n: current[n] for n in partial if isinstance(current.get(n), Mapping)}
        langs = await self._language_ids(res, base, changes)
        body = writable_record(res, changes, base=base, language_ids=langs)
        body["id"] = str(int(id))
        (saved,) = await self._write("PATCH", f"{resource}/{int(id)}", res, [_id_first(body)], params)
        return saved

    async def replace(self, resource: str, record: Mapping[str, Any], *, params: Mapping[str, str] | None = None) -> Record:
        """PUT ``record`` as the full new state (omitted optional fields are reset by the shop).

        Prefer :meth:`update`. Read-only fields are stripped; ``record`` must carry ``id``.
        """
        res = schema(resource)
        res.check_method("PUT")
        if not str(record.get("id") or "").strip():
            raise ValidationError(
                f"A replaced '{res.node}' must carry its id (PrestaShop error 90).", system="prestashop", code=90
            )
        clean = {k: v for k, v in record.items() if not (k in res.fields and res.fields[k].read_only)}
        check_fields(res, clean)
        body = writable_record(res, clean, language_ids=await self._language_ids(res, clean))
        (saved,) = await self._write("PUT", f"{resource}/{int(record['id'])}", res, [_id_first(body)], params)
        return saved

    async def delete(self, resource: str, ids: int | str | Sequence[int]) -> None:
        """DELETE one id or several (``?id=[1,2]``); all or nothing (error 87 if one is unknown)."""
        res = schema(resource)
        res.check_method("DELETE")
        if isinstance(ids, (int, str)):
            await self.request("DELETE", f"{resource}/{int(ids)}")
        else:
            joined = ",".join(str(int(i)) for i in ids)
            await self.request("DELETE", resource, params=[("id", f"[{joined}]")])


def _id_first(body: dict[str, Any]) -> dict[str, Any]:
    return {"id": body["id"], **{k: v for k, v in body.items() if k != "id"}}


def _json_body(response: httpx.Response, path: str) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: nesting deeper than the parser's stack
        raise TransientError(
            f"The shop's JSON answer to GET {path} is not valid JSON.", system="prestashop"
        ) from None
