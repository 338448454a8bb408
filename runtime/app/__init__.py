"""The Starlette app of the Serve ingress: webhooks, admin API, health and metrics.

:func:`build_app` is a plain function of its dependencies so it can be tested without Ray
(``starlette.testclient.TestClient``); the Serve deployment is a thin wrapper around it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from runtime.app.admin import admin_routes, bearer_guard
from runtime.app.flows_api import flow_routes
from runtime.app.webhooks import WebhookIngest
from runtime.store import AsyncStore
from runtime.tracing import setup_tracing

__all__ = ["build_app"]

Nudge = Callable[[str, str, dict[str, str]], Any]


def build_app(store: AsyncStore, *, webhook_secrets: list[str], admin_token: str, nudge: Nudge,
              max_body_bytes: int = 1024 * 1024, tolerance_s: int = 300, url_tokens: list[str] | None = None,
              info: Callable[[], dict[str, Any]] | None = None, flow_dirs: list[Path] | None = None) -> Starlette:
    setup_tracing()  # no-op when the process already has a provider; ids are needed even with no exporter
    ingest = WebhookIngest(store, webhook_secrets, nudge, max_body_bytes=max_body_bytes, tolerance_s=tolerance_s,
                            url_tokens=url_tokens)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics(request: Request) -> Response:
        counts = await store.counts()
        lines = ["# HELP presta_ax_messages Messages in the journal by entity and status.",
                 "# TYPE presta_ax_messages gauge"]
        for entity, by_status in sorted(counts.items()):
            for status, n in sorted(by_status.items()):
                lines.append(f'presta_ax_messages{{entity="{entity}",status="{status}"}} {n}')
        lines += ["# HELP presta_ax_webhook_duplicate_mismatches_total Webhooks whose id was reused with a "
                  "different body (answered as duplicates, the new body not journaled; see the original "
                  "message's timeline).",
                  "# TYPE presta_ax_webhook_duplicate_mismatches_total counter",
                  f"presta_ax_webhook_duplicate_mismatches_total {ingest.duplicate_mismatches}"]
        return PlainTextResponse("\n".join(lines) + "\n", media_type="text/plain; version=0.0.4")

    routes = [
        Route("/webhooks/prestashop", ingest.__call__, methods=["POST"]),
        Route("/webhooks/ps_webhooks", ingest.ps_webhooks, methods=["POST"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/metrics", metrics, methods=["GET"]),
        *admin_routes(store, admin_token, nudge, info),
        *flow_routes(store, list(flow_dirs or []), bearer_guard(admin_token)),
    ]
    return Starlette(routes=routes)
