"""Read-only admin endpoints behind the console's dashboard and message explorer.

* ``GET /api/v1/stats/overview``: queue depth per entity and status (pending = ``new`` +
  ``processing``, ``retry``, ``dead``, ``held``), the oldest pending message's age per entity,
  unacknowledged alerts, pollers (each durable cursor's last advance) and leases (the dispatcher).
* ``GET /api/v1/stats/throughput?window=&bucket=``: per flow and entity, how many messages were
  received, done and failed (attempts) in each time bucket of the last ``window`` seconds.
* ``GET /api/v1/search/messages``: messages by status, entity, key, trace id, AX id (through the
  cross-references), shop reference (inside the payload) and time range; payloads masked.
* ``GET /api/v1/traces/{trace_id}``: the trace's spans from the configured Jaeger's query API
  (``tracing.ui_url``) for a waterfall, with the link to Jaeger's UI; only span names, times,
  processes and id attributes leave the server, never payloads.

All read only; errors are ``{"error", "detail"}`` like the rest of the admin API.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.app.masking import mask
from runtime.app.webhooks import error
from runtime.messages import STATUSES
from runtime.store import AsyncStore, Store

__all__ = ["overview", "search_messages", "stats_routes", "throughput"]

_PENDING = ("new", "processing", "retry")
#: event kinds counted as a finished attempt / a failed one on the throughput chart
_DONE_KINDS = ("attempt_succeeded", "skipped_echo", "skipped_stale", "skipped_no_flow", "held")
_FAILED_KINDS = ("attempt_failed",)
_TRACE_ID = re.compile(r"^[0-9a-fA-F]{32}$")
#: span attributes the waterfall may show: ids and outcomes only (runtime.trace_view's choice)
_SPAN_ATTRS = ("flow", "entity", "record.key", "message.id", "message.attempt", "message.outcome",
               "shop.order_id", "shop.order_reference", "ax.sales_id", "http.request.method",
               "http.response.status_code", "error.type", "rpc.method")


def overview(store: Store, now: float | None = None) -> dict[str, Any]:
    """Queue depth, oldest pending age (seconds) per entity, alerts, pollers and leases."""
    now = time.time() if now is None else now
    with store.backend.read() as cur:
        # status IN (...) uses the (status, next_attempt_at) index: done messages are not scanned
        cur.execute("SELECT entity, status, COUNT(*), MIN(received_at) FROM messages WHERE status IN "
                    "('new', 'processing', 'retry', 'dead', 'held') GROUP BY entity, status")
        rows = cur.fetchall()
        cur.execute("SELECT name, updated_at FROM poll_cursors ORDER BY name")
        cursors = cur.fetchall()
        cur.execute("SELECT name, info, renewed_at, expires_at FROM leases ORDER BY name")
        leases = cur.fetchall()
    entities: dict[str, dict[str, Any]] = {}
    for entity, status, n, oldest in rows:
        e = entities.setdefault(entity, {"pending": 0, "retrying": 0, "dead": 0, "held": 0, "oldest_pending_s": None})
        bucket = {"new": "pending", "processing": "pending", "retry": "retrying"}.get(status, status)
        e[bucket] += int(n)
        if status in _PENDING and oldest is not None:
            age = max(0.0, now - float(oldest))
            e["oldest_pending_s"] = max(e["oldest_pending_s"] or 0.0, age)
    totals = {k: sum(e[k] for e in entities.values()) for k in ("pending", "retrying", "dead", "held")}
    ages = [e["oldest_pending_s"] for e in entities.values() if e["oldest_pending_s"] is not None]
    alerts = store.list_alerts()
    return {
        "now": now,
        "totals": {**totals, "oldest_pending_s": max(ages) if ages else None},
        "entities": entities,
        "alerts": {"count": len(alerts), "items": alerts[:20]},
        "pollers": [{"name": n, "last_advance_s": max(0.0, now - float(at))} for n, at in cursors],
        "leases": [{"name": n, "holder": info, "renewed_s_ago": max(0.0, now - float(r)), "live": float(x) > now}
                   for n, info, r, x in leases],
    }


def _first_seq_at_or_after(cur: Any, since: float) -> int | None:
    """The first ``message_events.seq`` written at or after ``since``, by bisection on the key.

    ``message_events`` has no index on ``at`` (adding one would cost every write); events are
    appended with the clock, so ``at`` grows with ``seq`` (to within the clock skew of the
    writing processes of one machine, which a chart bucket does not notice)."""
    cur.execute("SELECT MIN(seq), MAX(seq) FROM message_events")
    lo, hi = cur.fetchone()
    if lo is None:
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        cur.execute("SELECT at FROM message_events WHERE seq >= ? ORDER BY seq LIMIT 1", (mid,))
        row = cur.fetchone()
        if row is not None and float(row[0]) >= since:
            hi = mid
        else:
            lo = mid + 1
    return int(lo)


def throughput(store: Store, window_s: int = 3600, bucket_s: int = 60, now: float | None = None) -> dict[str, Any]:
    """Per ``(flow, entity)``: ``received``, ``done`` and ``failed`` counts per bucket, oldest first.

    Bucket ``i`` covers ``[start + i*bucket_s, start + (i+1)*bucket_s)``; ``start`` is aligned to
    ``bucket_s`` so consecutive polls draw the same buckets. ``flow`` is null for messages no flow
    has run yet (received only)."""
    now = time.time() if now is None else now
    n = max(1, -(-window_s // bucket_s))
    start = (int(now) // bucket_s + 1) * bucket_s - n * bucket_s
    series: dict[tuple[str | None, str], dict[str, list[int]]] = {}
    kinds = ("received", *_DONE_KINDS, *_FAILED_KINDS)
    # counted in the database, one row per (bucket, kind, entity, flow); FLOOR where CAST rounds
    bucket = ("CAST((e.at - ?) / ? AS INTEGER)" if store.backend.dialect == "sqlite"
              else "CAST(FLOOR((e.at - ?) / ?) AS INTEGER)")
    with store.backend.read() as cur:
        first = _first_seq_at_or_after(cur, start)
        rows: list[Any] = []
        if first is not None:
            cur.execute(f"SELECT {bucket}, e.kind, m.entity, m.flow, COUNT(*) FROM message_events e "
                        f"JOIN messages m ON m.id = e.message_id WHERE e.seq >= ? AND e.at >= ? AND e.kind IN "
                        f"({', '.join('?' * len(kinds))}) GROUP BY 1, 2, 3, 4",
                        (float(start), int(bucket_s), first, float(start), *kinds))
            rows = cur.fetchall()
    for i, kind, entity, flow, count in rows:
        if i is None or not 0 <= int(i) < n:
            continue  # after now: a writer's clock ahead of this one
        col = "received" if kind == "received" else "done" if kind in _DONE_KINDS else "failed"
        s = series.setdefault((flow if col != "received" else None, entity),
                              {"received": [0] * n, "done": [0] * n, "failed": [0] * n})
        s[col][int(i)] += int(count)
    return {"start": start, "bucket_s": bucket_s, "buckets": n,
            "series": [{"flow": f, "entity": e, **counts} for (f, e), counts in
                       sorted(series.items(), key=lambda kv: (kv[0][1], kv[0][0] or ""))]}


def search_messages(store: Store, *, status: str | None = None, entity: str | None = None, key: str | None = None,
                    trace_id: str | None = None, ax_id: str | None = None, reference: str | None = None,
                    since: float | None = None, until: float | None = None, limit: int = 50) -> list[dict[str, Any]]:
    """Messages matching every given filter, newest first (masked payloads, trace ids).

    ``ax_id`` finds the record's shop key through the cross-references of ``entity`` (or of
    every entity when none is given) and the AX-sourced messages keyed by it; ``reference`` matches
    the shop's order reference inside the payload."""
    where: list[str] = []
    params: list[Any] = []
    for col, val in (("status", status), ("entity", entity), ("key", key)):
        if val:
            where.append(f"{col} = ?")
            params.append(val)
    if trace_id:
        where.append("traceparent LIKE ?")
        params.append(f"00-{trace_id.lower()}-%")
    if since is not None:
        where.append("received_at >= ?")
        params.append(since)
    if until is not None:
        where.append("received_at < ?")
        params.append(until)
    if reference:
        # the shop's references are letters and digits: the LIKE pattern cannot be widened
        where.append("payload LIKE ?")
        params.append(f'%"reference":"{reference}"%')
    with store.backend.read() as cur:
        if ax_id:
            cur.execute("SELECT entity, ps_id FROM xrefs WHERE ax_id = ?" + (" AND entity = ?" if entity else ""),
                        (ax_id, entity) if entity else (ax_id,))
            pairs = [(r[0], r[1]) for r in cur.fetchall()]
            alts = ["(entity = ? AND key = ?)" for _ in pairs] + ["key = ?"]
            where.append("(" + " OR ".join(alts) + ")")
            params.extend([v for p in pairs for v in p] + [ax_id])
        sql = ("SELECT id FROM messages" + (" WHERE " + " AND ".join(where) if where else "")
               + " ORDER BY seq DESC LIMIT ?")
        cur.execute(sql, (*params, int(limit)))
        ids = [r[0] for r in cur.fetchall()]
    out = []
    for mid in ids:
        m = store.get(mid)
        if m is None:
            continue
        d = msgspec.structs.asdict(m)
        d["payload"] = mask(d["payload"])
        tp = m.traceparent or ""
        d["trace_id"] = tp.split("-")[1] if tp.count("-") == 3 else None
        out.append(d)
    return out


def _spans(trace: dict[str, Any]) -> list[dict[str, Any]]:
    from runtime.trace_view import spans_of

    spans = spans_of(trace)
    t0 = min((s.start_us for s in spans), default=0)
    return [{"span_id": s.span_id, "parent_id": s.parent_id, "name": s.name, "start_us": s.start_us - t0,
             "duration_us": s.duration_us, "service": s.process.get("service"), "kind": s.kind,
             "error": s.tags.get("error") in (True, "true") or s.tags.get("otel.status_code") == "ERROR",
             "attrs": {k: s.tags[k] for k in _SPAN_ATTRS if k in s.tags}} for s in spans]


def _float_param(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"Query parameter '{name}' must be a time in seconds since the epoch.") from None


def _int_param(request: Request, name: str, default: int, lo: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if not raw:
        return default
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise ValueError(f"Query parameter '{name}' must be a whole number from {lo} to {hi}.")
    return int(raw)


def stats_routes(store: AsyncStore, guarded: Callable[[Any], Any], trace_ui_url: str | None = None) -> list[Route]:
    """The routes; each store call runs off the event loop."""

    async def run(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(None, lambda: fn(*args, **kwargs))

    async def get_overview(request: Request) -> Response:
        return JSONResponse(await run(overview, store.sync))

    async def get_throughput(request: Request) -> Response:
        window = _int_param(request, "window", 3600, 60, 7 * 86400)
        bucket = _int_param(request, "bucket", 60, 1, 86400)
        if window // bucket > 500:
            raise ValueError("window/bucket gives more than 500 buckets; choose a larger bucket.")
        return JSONResponse(await run(throughput, store.sync, window, bucket))

    async def get_search(request: Request) -> Response:
        q = request.query_params
        status = q.get("status") or None
        if status is not None and status not in STATUSES:
            raise ValueError(f"Unknown status '{status[:40]}'; use one of {', '.join(STATUSES)}.")
        trace_id = q.get("trace_id") or None
        if trace_id is not None and not _TRACE_ID.match(trace_id):
            raise ValueError("trace_id must be 32 hexadecimal digits.")
        reference = q.get("reference") or None
        if reference is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", reference):
            raise ValueError("reference must be letters, digits, '-' or '_' (at most 64).")
        items = await run(search_messages, store.sync, status=status, entity=q.get("entity") or None,
                          key=q.get("key") or None, trace_id=trace_id, ax_id=q.get("ax_id") or None,
                          reference=reference, since=_float_param(request, "since"),
                          until=_float_param(request, "until"), limit=_int_param(request, "limit", 50, 1, 500))
        for d in items:
            d["trace_url"] = f"{trace_ui_url.rstrip('/')}/trace/{d['trace_id']}" if trace_ui_url and d["trace_id"] else None
        return JSONResponse({"items": items})

    async def get_trace(request: Request) -> Response:
        trace_id = request.path_params["trace_id"]
        if not _TRACE_ID.match(trace_id):
            raise ValueError("A trace id is 32 hexadecimal digits.")
        if not trace_ui_url:
            return JSONResponse({"configured": False, "trace_id": trace_id, "spans": [], "ui_url": None})
        from runtime.trace_view import JaegerQuery, trace_link

        def fetch() -> dict[str, Any] | None:
            q = JaegerQuery(trace_ui_url, timeout_s=5.0)
            try:
                return q.trace(trace_id.lower())
            finally:
                q.close()

        try:
            trace = await run(fetch)
        except Exception as exc:  # noqa: BLE001 - any failure of Jaeger is one answer: unreachable
            return error(502, "jaeger_unreachable", f"Jaeger's query API did not answer ({type(exc).__name__}); "
                         "check tracing.ui_url and that Jaeger runs.")
        return JSONResponse({"configured": True, "trace_id": trace_id, "found": trace is not None,
                             "spans": _spans(trace) if trace else [], "ui_url": trace_link(trace_ui_url, trace_id)})

    return [
        Route("/api/v1/stats/overview", guarded(get_overview), methods=["GET"]),
        Route("/api/v1/stats/throughput", guarded(get_throughput), methods=["GET"]),
        Route("/api/v1/search/messages", guarded(get_search), methods=["GET"]),
        Route("/api/v1/traces/{trace_id}", guarded(get_trace), methods=["GET"]),
    ]


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI ``paths`` of these routes (merged into :mod:`runtime.app.openapi`)."""
    err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    obj = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}

    def q(name: str, typ: str, desc: str) -> dict[str, Any]:
        return {"name": name, "in": "query", "required": False, "description": desc, "schema": {"type": typ}}

    return {
        "/api/v1/stats/overview": {"get": {
            "summary": "Queue depth per entity (pending, retrying, dead, held), oldest pending age, alerts, "
                       "pollers and leases", "responses": {"200": obj, "401": err}}},
        "/api/v1/stats/throughput": {"get": {
            "summary": "Received, done and failed counts per flow and entity in time buckets",
            "parameters": [q("window", "integer", "Seconds back from now (60 to 604800, default 3600)"),
                           q("bucket", "integer", "Bucket width in seconds (default 60; at most 500 buckets)")],
            "responses": {"200": obj, "400": err, "401": err}}},
        "/api/v1/search/messages": {"get": {
            "summary": "Search messages (newest first, payloads masked)",
            "parameters": [q("status", "string", "Message status"), q("entity", "string", "Entity"),
                           q("key", "string", "Record key"), q("trace_id", "string", "32-hex trace id"),
                           q("ax_id", "string", "AX id (via cross-references)"),
                           q("reference", "string", "Shop order reference"),
                           q("since", "number", "Received at or after (epoch seconds)"),
                           q("until", "number", "Received before (epoch seconds)"),
                           q("limit", "integer", "At most this many (1-500, default 50)")],
            "responses": {"200": obj, "400": err, "401": err}}},
        "/api/v1/traces/{trace_id}": {"get": {
            "summary": "A trace's spans from Jaeger (tracing.ui_url) for a waterfall, with its Jaeger link",
            "parameters": [{"name": "trace_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": obj, "400": err, "401": err, "502": err}}},
    }
