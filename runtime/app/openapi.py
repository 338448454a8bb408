"""The OpenAPI 3.1 document of the admin API. A test checks that it lists exactly the routes the
app serves, with the same methods, so the two cannot drift apart."""

from __future__ import annotations

from typing import Any

__all__ = ["openapi_document"]

_ERR = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
_AUTH = {"401": {"description": "Missing or invalid admin token", **{k: v for k, v in _ERR.items() if k != "description"}},
         "429": {"description": "Too many wrong tokens from this client address (Retry-After says when to try again)",
                 "headers": {"Retry-After": {"schema": {"type": "integer"}}},
                 **{k: v for k, v in _ERR.items() if k != "description"}}}


def _json(ref: str, description: str = "OK") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


def _q(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema or {"type": "string"}}


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Message id (ULID)"}
_LIMIT = _q("limit", "Page size (1-1000, default 100)", {"type": "integer", "minimum": 1, "maximum": 1000})
#: stateful testing (schemathesis) and clients follow these from a page of messages to one message
_MESSAGE_LINKS = {
    "GetMessage": {"operationRef": "#/paths/~1api~1v1~1messages~1{id}/get",
                   "parameters": {"id": "$response.body#/items/0/id"}},
    "ReplayMessage": {"operationRef": "#/paths/~1api~1v1~1messages~1{id}~1replay/post",
                      "parameters": {"id": "$response.body#/items/0/id"}},
}
_SELECT = {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Selection"}}}}


def _sorted_ids(done: str, done_description: str) -> dict[str, Any]:
    """What a bulk action did with each id: done, skipped (exists, wrong status) or not found."""
    ids = {"type": "array", "items": {"type": "string"}}
    return {"type": "object", "required": [done, "skipped", "not_found", "statuses"], "properties": {
        done: {**ids, "description": done_description},
        "skipped": {**ids, "description": "Exist but are not in the dead-letter queue (see statuses)"},
        "not_found": {**ids, "description": "No message has these ids"},
        "statuses": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "The current status of each skipped message"}}}


def _with_rate_limit(paths: dict[str, Any]) -> dict[str, Any]:
    """Every operation that answers 401 can also answer 429 (failed logins: runtime.app.ratelimit)."""
    for operations in paths.values():
        for op in operations.values():
            responses = op.get("responses", {})
            if "401" in responses:
                responses.setdefault("429", _AUTH["429"])
    return paths


def openapi_document() -> dict[str, Any]:
    from runtime import __version__
    from runtime.app.ai_api import openapi_paths as ai_paths
    from runtime.app.bulk_api import openapi_paths as bulk_paths
    from runtime.app.designer_api import openapi_paths as designer_paths
    from runtime.app.stats_api import openapi_paths as stats_paths
    from runtime.messages import STATUSES

    return {
        "openapi": "3.1.0",
        "info": {"title": "Presta-AX Bridge admin API", "version": __version__},
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error", "detail"],
                          "properties": {"error": {"type": "string"}, "detail": {"type": "string"}}},
                "Message": {"type": "object", "properties": {
                    "id": {"type": "string"}, "seq": {"type": "integer"}, "entity": {"type": "string"},
                    "key": {"type": "string"}, "source": {"type": "string"}, "event": {"type": "string"},
                    "payload": {"type": "object", "description": "personal fields masked"},
                    "status": {"type": "string", "enum": list(STATUSES)}, "attempts": {"type": "integer"},
                    "traceparent": {"type": ["string", "null"]}, "trace_id": {"type": ["string", "null"]},
                    "trace_url": {"type": ["string", "null"], "description": "the trace in Jaeger (tracing.ui_url)"},
                    "last_error": {"type": ["object", "null"]}, "flow": {"type": ["string", "null"]},
                    "received_at": {"type": "number"}, "next_attempt_at": {"type": ["number", "null"]}}},
                "MessageDetail": {"allOf": [{"$ref": "#/components/schemas/Message"}, {"type": "object", "properties": {
                    "timeline": {"type": "array", "items": {"type": "object", "properties": {
                        "at": {"type": "number"}, "kind": {"type": "string"}, "attempt": {"type": ["integer", "null"]},
                        "detail": {"type": ["object", "null"]}}}},
                    "step_payloads": {"type": "object", "description": "what each step produced in the latest "
                                      "attempt that journaled any, masked, 64 KiB per step", "properties": {
                        "attempt": {"type": ["integer", "null"]}, "steps": {"type": "array", "items": {
                            "type": "object", "properties": {
                                "step": {"type": "string"}, "kind": {"type": ["string", "null"]},
                                "at": {"type": "number"}, "payload": {"description": "JSON; the cut text if truncated"},
                                "truncated": {"type": "boolean"}, "size": {"type": "integer"}}}}}}}}]},
                "MessagePage": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "next_before": {"type": ["integer", "null"]}}},
                "Selection": {"description": "Either ids (a non-empty list) or all: true", "anyOf": [
                    {"type": "object", "required": ["ids"], "properties": {
                        "ids": {"type": "array", "items": {"type": "string"}, "minItems": 1},
                        "all": {"type": "boolean"}, "entity": {"type": "string"}, "reason": {"type": "string"}}},
                    {"type": "object", "required": ["all"], "properties": {
                        "all": {"const": True}, "ids": {"type": "array", "items": {"type": "string"}},
                        "entity": {"type": "string", "description": "only this entity's dead messages"},
                        "reason": {"type": "string"}}}]},
                "ReplayResult": _sorted_ids("replayed", "Replayed: back in the queue, due now"),
                "DiscardResult": _sorted_ids("discarded", "Discarded: out of the dead-letter queue, kept in the journal"),
                "Health": {"type": "object", "properties": {"status": {"type": "string"}, "version": {"type": "string"},
                           "schema_version": {"type": "integer"}, "counts": {"type": "object"},
                           "breakers": {"type": "object", "description": "Circuit breaker per target system"}}},
                "Items": {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object"}}}},
            },
        },
        "security": [{"bearer": []}],
        "paths": _with_rate_limit({
            "/api/v1/openapi.json": {"get": {"summary": "This document", "security": [],
                                             "responses": {"200": {"description": "OpenAPI document"}}}},
            "/api/v1/health": {"get": {"summary": "Health and message counts per entity and status",
                                       "responses": {"200": _json("Health"), **_AUTH}}},
            "/api/v1/messages": {"get": {
                "summary": "Messages, newest first",
                "parameters": [_q("status", "Filter by status", {"type": "string", "enum": list(STATUSES)}),
                               _q("entity", "Filter by entity"), _q("key", "Filter by record key"),
                               _q("trace_id", "Filter by W3C trace id (32 hex)"),
                               _q("before", "Page: messages with seq below this",
                                  {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}), _LIMIT],
                "responses": {"200": {**_json("MessagePage"), "links": _MESSAGE_LINKS}, "400": _ERR, **_AUTH}}},
            "/api/v1/messages/{id}": {"get": {"summary": "One message with its timeline", "parameters": [_ID],
                                              "responses": {"200": _json("MessageDetail"), "404": _ERR, **_AUTH}}},
            "/api/v1/messages/{id}/replay": {"post": {
                "summary": "Replay one dead message",
                "description": "404 when no message has the id; 409 when it exists but is not in the dead-letter queue.",
                "parameters": [_ID],
                "responses": {"200": _json("ReplayResult"), "404": _ERR, "409": _ERR, **_AUTH}}},
            "/api/v1/dlq": {"get": {"summary": "The dead-letter queue", "parameters": [_q("entity", "Filter by entity"), _LIMIT],
                                    "responses": {"200": {**_json("MessagePage"), "links": _MESSAGE_LINKS}, "400": _ERR,
                                                  **_AUTH}}},
            "/api/v1/dlq/replay": {"post": {"summary": "Replay dead messages (ids, or all)",
                                            "description": "Unknown ids are listed in not_found, messages not in the "
                                                           "dead-letter queue in skipped.",
                                            "requestBody": _SELECT,
                                            "responses": {"200": _json("ReplayResult"), "400": _ERR, **_AUTH}}},
            "/api/v1/dlq/discard": {"post": {"summary": "Discard dead messages (ids, or all)",
                                             "description": "Unknown ids are listed in not_found, messages that are "
                                                            "not dead in skipped.",
                                             "requestBody": _SELECT,
                                             "responses": {"200": _json("DiscardResult"), "400": _ERR, **_AUTH}}},
            "/api/v1/xrefs": {"get": {"summary": "Cross-references PrestaShop id <-> AX id",
                                      "description": "ps_id or ax_id looks one record up and needs entity "
                                                     "(400 without it).",
                                      "parameters": [_q("entity", "Entity"), _q("ps_id", "PrestaShop id"),
                                                     _q("ax_id", "AX id"), _LIMIT],
                                      "responses": {"200": _json("Items"), "400": _ERR, **_AUTH}}},
            "/api/v1/alerts": {"get": {"summary": "Open alerts", "responses": {"200": _json("Items"), **_AUTH}}},
            "/api/v1/conflicts": {"get": {
                "summary": "The conflict log: field values that lost when a record changed on both sides",
                "description": "Newest first. Each item: entity, key, flow, message_id, field, winner "
                               "(prestashop|ax), rule, ps_value, ax_value, ps_version, ax_version. Personal "
                               "values are masked unless unmasked=true.",
                "parameters": [_q("entity", "Entity"), _q("key", "Record key (as the side written names it)"),
                               _q("unmasked", "true: show personal values", {"type": "boolean"}), _LIMIT],
                "responses": {"200": _json("Items"), "400": _ERR, **_AUTH}}},
            "/api/v1/flows/{name}/deploy": {"post": {
                "summary": "Lint a flow as this bridge's folders hold it and deploy it (the entity actors run it "
                           "from their next message)",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "{name, version_id, deployed, status}"}, "404": _ERR,
                              "422": _ERR, **_AUTH}}},
            "/api/v1/flows": {"get": {"summary": "Flows on disk with their content version and deployed versions",
                                      "responses": {"200": _json("Items"), "422": _ERR, **_AUTH}}},
            "/api/v1/flows/{name}/test": {"post": {
                "summary": "Test-run a flow's map/validate/guard steps on a sample (no system is called)",
                "parameters": [{"name": "name", "in": "path", "required": True, "schema": {"type": "string"}}],
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["sample"],
                    "properties": {"sample": {"type": "object"}, "masked": {"type": "boolean"}}}}}},
                "responses": {"200": {"description": "Each step's output or error"}, "400": _ERR, "404": _ERR, **_AUTH}}},
            **ai_paths(),  # mapping suggestions, review queue (runtime/app/ai_api.py)
            **bulk_paths(),  # bulk runs of `presta-ax sync` (runtime/app/bulk_api.py)
            **stats_paths(),  # console dashboard and explorer (runtime/app/stats_api.py)
            **designer_paths(),  # the visual flow designer (runtime/app/designer_api.py)
        }),
    }
