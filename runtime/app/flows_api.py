"""Admin API for flows: list them with their deployed versions, test-run one on a sample, deploy.

The test-run executes only the system-free steps (map, validate, guard) of the flow as it is on
disk now — what the visual designer shows before deploying — and never calls PrestaShop or AX.
The flow folders are read on every request, so an edited file is seen at once. A deploy lints
the flow as the running bridge's folders hold it and records it in the bridge's own store (so
``presta-ax flow deploy`` reaches whatever journal the bridge runs on, the demo's included).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from connectors.errors import ConfigError
from runtime.app.admin import json_body
from runtime.app.webhooks import error
from runtime.store import AsyncStore

__all__ = ["flow_routes"]


def flow_routes(store: AsyncStore, flow_dirs: list[Path], guarded: Callable[[Any], Any]) -> list[Route]:
    from pipelines.registry import FlowRegistry
    from pipelines.testrun import run_flow_test

    async def list_flows(request: Request) -> Response:
        try:
            flows = FlowRegistry(flow_dirs).flows()
        except ConfigError as exc:
            return error(422, "invalid_flow", exc.message)
        items = []
        for name, flow in sorted(flows.items()):
            deployed = await store.flow_versions(name)
            items.append({"name": name, "entity": flow.spec.entity, "version_id": flow.version_id,
                          "file": Path(flow.spec.file).name,
                          "deployed": bool(deployed) and deployed[0]["version"] == flow.version_id,
                          "deployed_versions": deployed})
        return JSONResponse({"items": items})

    async def test_flow(request: Request) -> Response:
        name = request.path_params["name"]
        body = await json_body(request)
        sample = body.get("sample")
        if not isinstance(sample, dict):
            raise ValueError("Send {\"sample\": {...}}: the record (and optional context) to run the flow on.")
        try:
            flow = FlowRegistry(flow_dirs).get(name)
        except ConfigError as exc:
            return error(404, "not_found", exc.message)
        return JSONResponse(run_flow_test(flow, sample, masked=body.get("masked", True) is not False))

    async def deploy_flow(request: Request) -> Response:
        """Lint the flow as this bridge's folders hold it; if clean, record it as deployed in this
        bridge's store, where the running entity actors pick it up (no restart)."""
        import json

        from pipelines.lint import lint_flow

        name = request.path_params["name"]
        try:
            flow = FlowRegistry(flow_dirs).get(name)
        except ConfigError as exc:
            return error(404, "not_found", exc.message)
        problems = [p.format() for p in lint_flow(flow) if p.severity == "error"]
        if problems:
            return JSONResponse({"error": "invalid_flow", "detail": f"Not deployed: {len(problems)} problem(s): "
                                 f"{problems[0]}", "problems": problems}, status_code=422)
        new = await store.record_flow_version(flow.name, flow.version_id, json.dumps(flow.record()))
        return JSONResponse({"name": flow.name, "version_id": flow.version_id, "deployed": new,
                             "status": "deployed" if new else "already deployed"})

    return [
        Route("/api/v1/flows", guarded(list_flows), methods=["GET"]),
        Route("/api/v1/flows/{name}/test", guarded(test_flow), methods=["POST"]),
        Route("/api/v1/flows/{name}/deploy", guarded(deploy_flow), methods=["POST"]),
    ]
