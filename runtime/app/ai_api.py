"""Admin API of the AI features (Bearer token, like the rest of ``/api/v1``).

* ``POST /api/v1/mappings/suggest`` -- body ``{"source": schema, "target": schema, "top": 3}``;
  answers :func:`pipelines.ai.suggest.suggest`'s ``{"suggestions": [...]}`` (400 with every
  problem when a schema is malformed); runs off the event loop;
* ``GET /api/v1/review?status=pending&entity=&limit=`` -- the review queue (records a guard
  held); ``GET /api/v1/review/{id}`` -- one item with the held record (personal data masked);
* ``POST /api/v1/review/{id}/release`` -- body ``{"edit": {path: value}?, "by"?}``: the record
  continues its flow from the guard, with the edits; ``POST /api/v1/review/{id}/edit-and-release``
  is the same but requires ``edit``; ``POST /api/v1/review/{id}/reject`` -- body ``{"reason",
  "by"?}``: the message ends with the reason. A decision on an item that is not pending is 409.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.app.admin import json_body
from runtime.app.masking import mask
from runtime.app.webhooks import error
from runtime.store import AsyncStore

__all__ = ["ai_routes", "openapi_paths"]

_MAX_FIELDS = 2000


def _item_json(item: dict[str, Any], with_snapshot: bool) -> dict[str, Any]:
    out = {k: v for k, v in item.items() if k not in ("snapshot", "edit")}
    if with_snapshot:
        out["record"] = mask(item.get("snapshot"))
        out["edited_fields"] = sorted(item["edit"]) if item.get("edit") else []
    return out


def ai_routes(store: AsyncStore, nudge: Callable[[str, str, dict[str, str]], Any],
              guarded: Callable[[Any], Any]) -> list[Route]:
    async def suggest(request: Request) -> Response:
        from pipelines.ai.suggest import parse_schema
        from pipelines.ai.suggest import suggest as run

        data = await json_body(request)
        top = data.get("top", 3)
        if isinstance(top, bool) or not isinstance(top, int) or not 1 <= top <= 20:
            raise ValueError("'top' must be an integer from 1 to 20.")
        src = parse_schema(data.get("source"), "source")
        tgt = parse_schema(data.get("target"), "target")
        if len(src.fields) > _MAX_FIELDS or len(tgt.fields) > _MAX_FIELDS:
            raise ValueError(f"A schema may have at most {_MAX_FIELDS} fields here.")
        loop = asyncio.get_running_loop()
        return JSONResponse(await loop.run_in_executor(None, lambda: run(src, tgt, top=top)))

    async def list_review(request: Request) -> Response:
        raw = request.query_params.get("limit", "100")
        if not raw.isdigit() or not 1 <= int(raw) <= 1000:
            raise ValueError("Query parameter 'limit' must be an integer from 1 to 1000.")
        status = request.query_params.get("status", "pending") or None
        items = await store.list_reviews(status if status != "all" else None,
                                         request.query_params.get("entity") or None, int(raw))
        return JSONResponse({"items": [_item_json(i, False) for i in items]})

    async def show_review(request: Request) -> Response:
        rid = request.path_params["id"]
        item = await store.get_review(rid)
        if item is None:
            return error(404, "not_found", f"No review item has id '{rid[:40]}'.")
        return JSONResponse(_item_json(item, True))

    async def _decided(rid: str, item: dict[str, Any] | None, verb: str) -> Response:
        if item is not None:
            return JSONResponse(_item_json(item, False))
        known = await store.get_review(rid)
        if known is None:
            return error(404, "not_found", f"No review item has id '{rid[:40]}'.")
        return error(409, "not_pending", f"The item was {known['status']} already; only a pending item can be {verb}.")

    async def release(request: Request, require_edit: bool = False) -> Response:
        rid = request.path_params["id"]
        data = await json_body(request)
        edit = data.get("edit")
        if require_edit and not edit:
            raise ValueError("Give 'edit': an object of field paths to new values.")
        if edit is not None and not isinstance(edit, dict):
            raise ValueError("'edit' must be an object of field paths to new values.")
        by = data.get("by") if isinstance(data.get("by"), str) else None
        item = await store.release_review(rid, edit=edit or None, by=by)
        if item is not None:
            nudge(item["entity"], item["key"], {})  # the actor takes the message up now
        return await _decided(rid, item, "released")

    async def edit_and_release(request: Request) -> Response:
        return await release(request, require_edit=True)

    async def reject(request: Request) -> Response:
        rid = request.path_params["id"]
        data = await json_body(request)
        by = data.get("by") if isinstance(data.get("by"), str) else None
        item = await store.reject_review(rid, data.get("reason"), by=by)
        return await _decided(rid, item, "rejected")

    return [
        Route("/api/v1/mappings/suggest", guarded(suggest), methods=["POST"]),
        Route("/api/v1/review", guarded(list_review), methods=["GET"]),
        Route("/api/v1/review/{id}", guarded(show_review), methods=["GET"]),
        Route("/api/v1/review/{id}/release", guarded(release), methods=["POST"]),
        Route("/api/v1/review/{id}/edit-and-release", guarded(edit_and_release), methods=["POST"]),
        Route("/api/v1/review/{id}/reject", guarded(reject), methods=["POST"]),
    ]


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI ``paths`` of these routes (merged into :mod:`runtime.app.openapi`)."""
    err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    auth = {"401": err}
    rid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Review id"}
    obj = {"type": "object"}
    schema_ref = {"type": "object", "required": ["system", "entity", "fields"], "properties": {
        "system": {"type": "string", "minLength": 1}, "entity": {"type": "string", "minLength": 1},
        "fields": {"type": "array", "minItems": 1, "maxItems": 2000, "uniqueItems": True, "description": "names unique",
                   "items": {
            "type": "object", "required": ["name"], "properties": {
                "name": {"type": "string", "pattern": "\\S"}, "samples": {"type": "array"},
                # read leniently: the type as text, a label only when it is a string
                "type": {"description": "the field's type as the system names it"},
                "label": {"description": "a display label (used when it is a non-empty string)"}}}}}}

    def body(props: dict[str, Any], required: list[str]) -> dict[str, Any]:
        return {"required": bool(required), "content": {"application/json": {"schema": {
            "type": "object", "required": required, "properties": props}}}}

    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": obj}}}}
    decide = {**ok, "400": err, "404": err, "409": err, **auth}
    return {
        "/api/v1/mappings/suggest": {"post": {
            "summary": "Suggest, for each target field, the source fields that feed it (offline)",
            "requestBody": body({"source": schema_ref, "target": schema_ref,
                                 "top": {"type": "integer", "minimum": 1, "maximum": 20}}, ["source", "target"]),
            "responses": {**ok, "400": err, **auth}}},
        "/api/v1/review": {"get": {
            "summary": "The review queue: records a guard held (pending oldest first)",
            "parameters": [{"name": "status", "in": "query", "schema": {
                "type": "string", "enum": ["pending", "released", "rejected", "all"]}},
                {"name": "entity", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}}],
            "responses": {**ok, "400": err, **auth}}},
        "/api/v1/review/{id}": {"get": {"summary": "One held record (personal data masked)", "parameters": [rid],
                                        "responses": {**ok, "404": err, **auth}}},
        "/api/v1/review/{id}/release": {"post": {
            "summary": "Release: the record continues its flow from the guard (optional edits applied)",
            "parameters": [rid], "requestBody": body({"edit": {**obj, "propertyNames": {"minLength": 1}},
                                                      "by": {"type": "string"}}, []),
            "responses": decide}},
        "/api/v1/review/{id}/edit-and-release": {"post": {
            "summary": "Edit the held record ({path: value}) and release it", "parameters": [rid],
            "requestBody": body({"edit": {**obj, "minProperties": 1, "propertyNames": {"minLength": 1}},
                                 "by": {"type": "string"}}, ["edit"]),
            "responses": decide}},
        "/api/v1/review/{id}/reject": {"post": {
            "summary": "Reject: the message ends with the reason", "parameters": [rid],
            "requestBody": body({"reason": {"type": "string", "pattern": "\\S"}, "by": {"type": "string"}}, ["reason"]),
            "responses": decide}},
    }
