"""The admin API under ``/api/v1`` (Bearer token), described by :mod:`runtime.app.openapi`.

Every route answers JSON; errors are ``{"error": <code>, "detail": <sentence>}``. Payloads are
masked (personal data) before they leave the server.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime import __version__
from runtime.app.masking import DEFAULT_MASKED_FIELDS, mask
from runtime.app.openapi import openapi_document
from runtime.app.ratelimit import AuthFailures
from runtime.app.webhooks import error
from runtime.messages import STATUSES, Message
from runtime.store import AsyncStore

__all__ = ["admin_routes", "bearer_guard", "cors_middleware", "json_body"]

Handler = Callable[[Request], Awaitable[Response]]


def _message_json(m: Message, trace_ui_url: str | None = None) -> dict[str, Any]:
    """The message as JSON, payload masked, with its ``trace_id`` and, when Jaeger's URL is
    configured (``tracing.ui_url``), ``trace_url``: the trace's page in Jaeger (else null)."""
    d = msgspec.structs.asdict(m)
    d["payload"] = mask(d["payload"])
    trace_id = m.traceparent.split("-")[1] if m.traceparent and m.traceparent.count("-") == 3 else None
    d["trace_id"] = trace_id
    d["trace_url"] = f"{trace_ui_url.rstrip('/')}/trace/{trace_id}" if trace_ui_url and trace_id else None
    return d


def _masked_conflict(c: dict[str, Any]) -> dict[str, Any]:
    """A conflict with both values masked when its field is personal (the masking set, judged by
    the field's last name: ``DirParty.Name`` -> ``Name``), and nested values masked inside."""
    leaf = str(c.get("field") or "").rsplit(".", 1)[-1]
    out = dict(c)
    for side in ("ps_value", "ax_value"):
        value = out.get(side)
        out[side] = "***" if leaf in DEFAULT_MASKED_FIELDS and value not in (None, "") else mask(value)
    return out


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ValueError(f"Query parameter '{name}' must be an integer from {lo} to {hi}.")
    return int(raw)


def _bool_param(request: Request, name: str) -> bool:
    """A boolean query parameter: ``true``/``false`` (also ``1``/``0``, ``yes``/``no``); absent is false."""
    raw = request.query_params.get(name)
    if raw is None:
        return False
    value = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(raw.lower())
    if value is None:
        raise ValueError(f"Query parameter '{name}' must be true or false.")
    return value


async def json_body(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body:
        return {}
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ValueError(f"The body is not valid JSON: {exc}.") from None
    if not isinstance(data, dict):
        raise ValueError("The body must be a JSON object.")
    return data


def bearer_guard(token: str, limiter: AuthFailures | None = None) -> Callable[[Handler], Handler]:
    """Wrap a handler: 401 unless ``Authorization: Bearer <token>`` (constant-time compare);
    a ``ValueError`` raised by the handler becomes a 400 with its message. With ``limiter``
    (shared by every guarded route), an address with too many wrong tokens in its window gets
    429 with ``Retry-After`` before its token is even looked at (see :mod:`runtime.app.ratelimit`)."""
    expected = token.encode()

    def guarded(fn: Handler) -> Handler:
        async def wrapper(request: Request) -> Response:
            address = request.client.host if request.client else ""
            wait = limiter.retry_after(address) if limiter is not None else None
            if wait is not None:
                return JSONResponse({"error": "too_many_failed_logins",
                                     "detail": f"Too many wrong admin tokens; try again in {wait} s."},
                                    status_code=429, headers={"Retry-After": str(wait)})
            auth = request.headers.get("authorization", "")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not given:
                return JSONResponse({"error": "unauthorized", "detail": "Send 'Authorization: Bearer <admin token>'."},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            if not hmac.compare_digest(given.strip().encode(), expected):
                if limiter is not None:
                    limiter.failed(address)
                return JSONResponse({"error": "unauthorized", "detail": "The admin token is not valid."},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            try:
                return await fn(request)
            except ValueError as exc:
                return error(400, "bad_request", str(exc))
        return wrapper

    return guarded


def cors_middleware(origins: list[str]) -> list[Middleware]:
    """CORS for the admin API: with no ``origins`` (the default) none at all, so no answer carries
    ``Access-Control-Allow-Origin`` and a browser's preflight (``OPTIONS``) is refused (405: no
    route accepts it). Listed origins (exact ``scheme://host[:port]``, no wildcard) may call with
    the ``Authorization`` header; cookies are never used, so credentials stay off."""
    if not origins:
        return []
    return [Middleware(CORSMiddleware, allow_origins=list(origins), allow_methods=["GET", "POST"],
                       allow_headers=["Authorization", "Content-Type"], allow_credentials=False, max_age=600)]


def admin_routes(store: AsyncStore, token: str, nudge: Callable[[str, str, dict[str, str]], Any],
                 info: Callable[[], dict[str, Any]] | None = None, trace_ui_url: str | None = None,
                 guard: Callable[[Handler], Handler] | None = None) -> list[Route]:
    """The routes; ``token`` is compared in constant time; ``nudge`` restarts replayed messages;
    ``trace_ui_url`` (Jaeger) makes each message carry a link to its trace; ``guard`` (default
    ``bearer_guard(token)``) is the app's one guard, so failed logins count across all routes."""

    guarded = guard or bearer_guard(token)

    async def health(request: Request) -> Response:
        counts = await store.counts()
        body = {"status": "ok", "version": __version__, "schema_version": store.sync.schema_version,
                "counts": counts}
        if info:
            body.update(info())
        from runtime.breaker_actor import breaker_health  # per target: state, failures, opened_at, next probe

        body["breakers"] = await breaker_health(body.get("namespace"))
        return JSONResponse(body)

    async def list_messages(request: Request) -> Response:
        status = request.query_params.get("status")
        if status is not None and status not in STATUSES:
            raise ValueError(f"Unknown status '{status[:40]}'; use one of {', '.join(STATUSES)}.")
        before = _int_param(request, "before", 0, 0, 2**63 - 1) if "before" in request.query_params else None
        msgs = await store.list_messages(
            status=status, entity=request.query_params.get("entity"), key=request.query_params.get("key"),
            trace_id=request.query_params.get("trace_id"), limit=_int_param(request, "limit", 100, 1, 1000),
            before_seq=before)
        items = [_message_json(m, trace_ui_url) for m in msgs]
        return JSONResponse({"items": items, "next_before": items[-1]["seq"] if items else None})

    async def show_message(request: Request) -> Response:
        mid = request.path_params["id"]
        m = await store.get(mid)
        if m is None:
            return error(404, "not_found", f"No message has id '{mid[:40]}'.")
        body = _message_json(m, trace_ui_url)
        body["timeline"] = await store.timeline(mid)
        body["step_payloads"] = await store.step_payloads(mid)  # masked when journaled
        return JSONResponse(body)

    async def list_dlq(request: Request) -> Response:
        msgs = await store.list_messages(status="dead", entity=request.query_params.get("entity"),
                                         limit=_int_param(request, "limit", 100, 1, 1000))
        return JSONResponse({"items": [_message_json(m, trace_ui_url) for m in msgs]})

    async def _sort(ids: list[str], act: Callable[[str], Awaitable[bool]], done_key: str) -> dict[str, Any]:
        """Apply ``act`` to each id and sort the ids: done, ``skipped`` (the message exists but is
        not in a state ``act`` applies to; its status in ``statuses``) or ``not_found``."""
        done: list[str] = []
        skipped: list[str] = []
        not_found: list[str] = []
        statuses: dict[str, str] = {}
        for mid in ids:
            if await act(mid):
                done.append(mid)
                continue
            m = await store.get(mid)
            if m is None:
                not_found.append(mid)
            else:
                skipped.append(mid)
                statuses[mid] = m.status
        return {done_key: done, "skipped": skipped, "not_found": not_found, "statuses": statuses}

    async def _replay_one(mid: str) -> bool:
        if not await store.replay(mid):
            return False
        m = await store.get(mid)
        if m is not None:
            nudge(m.entity, m.key, {})
        return True

    async def _ids_from(request: Request) -> list[str]:
        data = await json_body(request)
        for name, kind, what in (("all", bool, "true or false"), ("entity", str, "a string"),
                                 ("reason", str, "a string")):
            if name in data and not isinstance(data[name], kind):
                raise ValueError(f"'{name}' must be {what}.")
        ids = data.get("ids")
        if "ids" in data and (not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)):
            raise ValueError("'ids' must be a list of message ids.")
        if data.get("all"):
            msgs = await store.list_messages(status="dead", entity=data.get("entity"), limit=1000)
            return [m.id for m in msgs]
        if not ids:
            raise ValueError("Give 'ids' (a non-empty list of message ids) or 'all': true.")
        return ids

    async def replay_many(request: Request) -> Response:
        return JSONResponse(await _sort(await _ids_from(request), _replay_one, "replayed"))

    async def replay_one(request: Request) -> Response:
        mid = request.path_params["id"]
        result = await _sort([mid], _replay_one, "replayed")
        if result["not_found"]:
            return error(404, "not_found", f"No message has id '{mid[:40]}'.")
        if not result["replayed"]:
            return error(409, "not_replayable", f"The message is not in the dead-letter queue (status "
                         f"{result['statuses'][mid]}): only a dead or discarded message can be replayed.")
        return JSONResponse(result)

    async def discard(request: Request) -> Response:
        data = await json_body(request)
        ids = await _ids_from(request)
        reason = data.get("reason")

        async def discard_one(mid: str) -> bool:
            return bool(await store.discard(mid, reason))

        return JSONResponse(await _sort(ids, discard_one, "discarded"))

    async def xrefs(request: Request) -> Response:
        entity = request.query_params.get("entity")
        ps_id, ax_id = request.query_params.get("ps_id"), request.query_params.get("ax_id")
        if ps_id or ax_id:
            if not entity:
                raise ValueError("Looking up by ps_id or ax_id needs 'entity' too.")
            one = await store.get_xref(entity, ps_id=ps_id or None, ax_id=None if ps_id else ax_id)
            return JSONResponse({"items": [one] if one else []})
        return JSONResponse({"items": await store.list_xrefs(entity, _int_param(request, "limit", 100, 1, 1000))})

    async def alerts(request: Request) -> Response:
        return JSONResponse({"items": await store.list_alerts()})

    async def conflicts(request: Request) -> Response:
        """The conflict log; values masked (personal data) unless ``unmasked=true``."""
        unmasked = _bool_param(request, "unmasked")
        items = await store.list_conflicts(request.query_params.get("entity") or None,
                                           request.query_params.get("key") or None,
                                           _int_param(request, "limit", 100, 1, 1000))
        if not unmasked:
            items = [_masked_conflict(c) for c in items]
        return JSONResponse({"items": items, "masked": not unmasked})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    return [
        Route("/api/v1/openapi.json", guarded(openapi), methods=["GET"]),
        Route("/api/v1/health", guarded(health), methods=["GET"]),
        Route("/api/v1/messages", guarded(list_messages), methods=["GET"]),
        Route("/api/v1/messages/{id}", guarded(show_message), methods=["GET"]),
        Route("/api/v1/messages/{id}/replay", guarded(replay_one), methods=["POST"]),
        Route("/api/v1/dlq", guarded(list_dlq), methods=["GET"]),
        Route("/api/v1/dlq/replay", guarded(replay_many), methods=["POST"]),
        Route("/api/v1/dlq/discard", guarded(discard), methods=["POST"]),
        Route("/api/v1/xrefs", guarded(xrefs), methods=["GET"]),
        Route("/api/v1/alerts", guarded(alerts), methods=["GET"]),
        Route("/api/v1/conflicts", guarded(conflicts), methods=["GET"]),
    ]
