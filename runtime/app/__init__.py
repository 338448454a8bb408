"""The Starlette app of the Serve ingress: webhooks, admin API, health and metrics.

:func:`build_app` is a plain function of its dependencies so it can be tested without Ray
(``starlette.testclient.TestClient``); the Serve deployment is a thin wrapper around it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.app.admin import admin_routes, bearer_guard, cors_middleware
from runtime.app.ai_api import ai_routes
from runtime.app.bulk_api import bulk_routes
from runtime.app.console import console_routes
from runtime.app.designer_api import designer_routes
from runtime.app.flows_api import flow_routes
from runtime.app.ratelimit import AuthFailures
from runtime.app.stats_api import stats_routes
from runtime.app.webhooks import WebhookIngest
from runtime.metrics import counted_webhook
from runtime.metrics_journal import CONTENT_TYPE as METRICS_CONTENT_TYPE
from runtime.metrics_journal import journal_snapshot
from runtime.metrics_journal import render as render_metrics
from runtime.store import AsyncStore
from runtime.tracing import setup_tracing

__all__ = ["build_app"]

Nudge = Callable[[str, str, dict[str, str]], Any]


def build_app(store: AsyncStore, *, webhook_secrets: list[str], admin_token: str, nudge: Nudge,
              max_body_bytes: int = 1024 * 1024, tolerance_s: int = 300, url_tokens: list[str] | None = None,
              info: Callable[[], dict[str, Any]] | None = None, flow_dirs: list[Path] | None = None,
              trace_ui_url: str | None = None, body_timeout_s: float = 10.0,
              auth_limits: tuple[int, float] = (10, 60.0), cors_origins: list[str] | None = None) -> Starlette:
    """``auth_limits``: (failed logins, window in s) per client address (runtime.app.ratelimit);
    ``cors_origins``: browser origins allowed on the admin API, none by default (docs/security.md)."""
    setup_tracing()  # no-op when the process already has a provider; ids are needed even with no exporter
    ingest = WebhookIngest(store, webhook_secrets, nudge, max_body_bytes=max_body_bytes, tolerance_s=tolerance_s,
                            url_tokens=url_tokens, body_timeout_s=body_timeout_s)
    guard = bearer_guard(admin_token, AuthFailures(*auth_limits))  # one guard: failures count app-wide

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        # the journal's figures (runtime.metrics_journal); the processes' counters are on Ray's
        # Prometheus endpoint (runtime.metrics)
        snap = await asyncio.get_running_loop().run_in_executor(None, journal_snapshot, store.sync)
        return Response(render_metrics(snap, ingest.duplicate_mismatches), media_type=METRICS_CONTENT_TYPE)

    routes = [
        Route("/webhooks/prestashop", counted_webhook("prestashop", ingest.__call__), methods=["POST"]),
        Route("/webhooks/ps_webhooks", counted_webhook("ps_webhooks", ingest.ps_webhooks), methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", guard(metrics), methods=["GET"]),  # the admin token (Prometheus: bearer_token)
        *admin_routes(store, admin_token, nudge, info, trace_ui_url, guard=guard),
        *flow_routes(store, list(flow_dirs or []), guard),
        *ai_routes(store, nudge, guard),  # mapping suggestions, review queue
        *bulk_routes(store, guard),  # bulk-sync runs (presta-ax sync)
        *designer_routes(store, list(flow_dirs or []), guard),  # the visual flow designer
        *stats_routes(store, guard, trace_ui_url),  # console dashboard, traces
        *console_routes(),  # the web console's static files (no token; its API calls carry one)
    ]
    return Starlette(routes=routes, middleware=cors_middleware(cors_origins or []))
