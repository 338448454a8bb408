"""Reading traces back: Jaeger's query API and the journal's timelines, drawn as a text waterfall.

Jaeger (v1 and v2 alike) answers ``GET <ui_url>/api/traces/<trace id>`` and
``GET <ui_url>/api/traces?service=..&tags={..}`` with ``{"data": [trace, ...]}``; a trace is
``{"traceID", "spans": [...], "processes": {id: {"serviceName", "tags"}}}``, each span with
``spanID``, ``operationName``, ``references`` (``CHILD_OF`` its parent), ``startTime`` and
``duration`` in microseconds, ``tags`` and ``processID``. :func:`waterfall` draws spans indented
under their parents, ordered by start; :func:`journal_waterfall` draws the journal's events of
the trace's messages when no Jaeger is configured. Nothing here prints payloads: the lines show
span names, durations, the process role and the ids a span carries (order id and reference, AX
SalesId, message id, attempt, outcome).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

__all__ = ["JaegerQuery", "Span", "spans_of", "waterfall", "journal_waterfall", "trace_link"]

#: span attributes worth a place on a waterfall line (ids and outcomes only)
_SHOWN = ("shop.order_id", "shop.order_reference", "ax.sales_id", "message.attempt", "message.outcome",
          "http.response.status_code", "error.type")


def trace_link(ui_url: str, trace_id: str) -> str:
    """The trace's page in Jaeger's UI."""
    return f"{ui_url.rstrip('/')}/trace/{trace_id}"


@dataclass
class Span:
    span_id: str
    parent_id: str | None
    name: str
    start_us: int
    duration_us: int
    tags: dict[str, Any]
    process: dict[str, Any]
    logs: list[dict[str, Any]] = field(default_factory=list)
    kind: str = ""


def _tags(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {t["key"]: t.get("value") for t in items or []}


def spans_of(trace: dict[str, Any]) -> list[Span]:
    """The spans of one Jaeger trace document, each with its process's tags."""
    processes = {pid: {"service": p.get("serviceName"), **_tags(p.get("tags"))}
                 for pid, p in (trace.get("processes") or {}).items()}
    out = []
    for s in trace.get("spans") or []:
        parent = next((r["spanID"] for r in s.get("references") or [] if r.get("refType") == "CHILD_OF"), None)
        tags = _tags(s.get("tags"))
        out.append(Span(s["spanID"], parent, s["operationName"], int(s["startTime"]), int(s["duration"]), tags,
                        processes.get(s.get("processID"), {}), s.get("logs") or [], str(tags.get("span.kind", ""))))
    return out


class JaegerQuery:
    """A small client of Jaeger's query API at ``base_url`` (the ``tracing.ui_url``)."""

    def __init__(self, base_url: str, timeout_s: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self.http.close()

    def trace(self, trace_id: str) -> dict[str, Any] | None:
        """One trace, or None when Jaeger does not know it (yet)."""
        r = self.http.get(f"/api/traces/{trace_id}")
        if r.status_code == 404:
            return None
        r.raise_for_status()
        data = r.json().get("data") or []
        return data[0] if data else None

    def find(self, service: str, tags: dict[str, str], lookback: str = "168h", limit: int = 20) -> list[dict[str, Any]]:
        """Traces of ``service`` with a span carrying all ``tags`` (e.g. the shop order reference)."""
        r = self.http.get("/api/traces", params={"service": service, "tags": json.dumps(tags),
                                                 "lookback": lookback, "limit": str(limit)})
        r.raise_for_status()
        return list(r.json().get("data") or [])

    def services(self) -> list[str]:
        r = self.http.get("/api/services")
        r.raise_for_status()
        return list(r.json().get("data") or [])


def _ms(us: float) -> str:
    return f"{us / 1000:9.1f} ms"


def _detail(span: Span) -> str:
    shown = [f"{k}={span.tags[k]}" for k in _SHOWN if k in span.tags]
    role = span.process.get("presta_ax.role")
    actor = span.process.get("ray.actor.name")
    where = f"[{role}{' ' + actor if actor and role != 'serve-replica' else ''} pid {span.process.get('process.pid')}]" \
        if role else ""
    error = " ERROR" if span.tags.get("otel.status_code") == "ERROR" or span.tags.get("error") is True else ""
    return " ".join(x for x in (where, *shown) if x) + error


def waterfall(spans: list[Span]) -> list[str]:
    """Lines ``+offset duration  <indent>name  [process] ids``: children under their parent,
    siblings by start time; a span whose parent is not in the trace is a root (flagged)."""
    if not spans:
        return []
    by_id = {s.span_id: s for s in spans}
    children: dict[str | None, list[Span]] = {}
    for s in spans:
        parent = s.parent_id if s.parent_id in by_id else None
        children.setdefault(parent, []).append(s)
    t0 = min(s.start_us for s in spans)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for s in sorted(children.get(parent, []), key=lambda x: (x.start_us, x.name)):
            orphan = "  (parent missing)" if depth == 0 and s.parent_id else ""
            lines.append(f"+{(s.start_us - t0) / 1e6:8.3f}s {_ms(s.duration_us)}  {'  ' * depth}{s.name}  "
                         f"{_detail(s)}{orphan}".rstrip())
            walk(s.span_id, depth + 1)

    walk(None, 0)
    return lines


def journal_waterfall(messages: list[dict[str, Any]]) -> list[str]:
    """The journal's view of a trace: each message (admin API JSON with its ``timeline``) and its
    events (received, attempts, errors) at their offsets from the first event."""
    events = [(e["at"], m, e) for m in messages for e in m.get("timeline") or []]
    if not events:
        return []
    t0 = min(at for at, _, _ in events)
    lines: list[str] = []
    for m in sorted(messages, key=lambda m: min((e["at"] for e in m.get("timeline") or []), default=0)):
        lines.append(f"{m['entity']} {m['key']} {m['event']}  message {m['id']}  status {m['status']}"
                     f"{'  flow ' + m['flow'] if m.get('flow') else ''}")
        for e in m.get("timeline") or []:
            attempt = f" attempt {e['attempt']}" if e.get("attempt") else ""
            error = (e.get("detail") or {}).get("type") if e["kind"].endswith("failed") else None
            lines.append(f"  +{e['at'] - t0:8.3f}s  {e['kind']}{attempt}{'  ' + error if error else ''}")
    return lines
