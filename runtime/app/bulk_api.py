"""Admin API of bulk runs: ``GET /api/v1/bulk-runs`` (latest first, ``?limit=``) and
``GET /api/v1/bulk-runs/{run_id}``: each run's status, progress (listed, done, chunks), counts
(created, updated, unchanged, failed...), duration, achieved writes/s and its limiter's state,
as the driver of ``presta-ax sync`` keeps them in the store (about every second)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.app.webhooks import error
from runtime.store import AsyncStore
from runtime.store.bulk_runs import get_run, list_runs

__all__ = ["bulk_routes"]


def bulk_routes(store: AsyncStore, guarded: Callable[[Any], Any]) -> list[Route]:
    async def runs(request: Request) -> Response:
        try:
            limit = int(request.query_params.get("limit", "20"))
        except ValueError:
            raise ValueError("limit must be a whole number from 1 to 500.") from None
        if not 1 <= limit <= 500:
            raise ValueError("limit must be a whole number from 1 to 500.")
        items = await asyncio.get_running_loop().run_in_executor(None, list_runs, store.sync, limit)
        return JSONResponse({"items": items})

    async def one(request: Request) -> Response:
        run_id = request.path_params["run_id"]
        run = await asyncio.get_running_loop().run_in_executor(None, get_run, store.sync, run_id)
        if run is None:
            return error(404, "not_found", f"There is no bulk run '{run_id[:80]}'.")
        return JSONResponse(run)

    return [Route("/api/v1/bulk-runs", guarded(runs), methods=["GET"]),
            Route("/api/v1/bulk-runs/{run_id}", guarded(one), methods=["GET"])]


def openapi_paths() -> dict[str, Any]:
    """The OpenAPI ``paths`` of these routes (merged into :mod:`runtime.app.openapi`)."""
    err = {"description": "Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    obj = {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    limit = {"name": "limit", "in": "query", "required": False, "description": "How many runs, latest first (1-500)",
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 20}}
    run_id = {"name": "run_id", "in": "path", "required": True, "schema": {"type": "string"},
              "description": "The run id `presta-ax sync` printed"}
    return {
        "/api/v1/bulk-runs": {"get": {
            "summary": "Bulk runs of `presta-ax sync`: status, progress, counts, writes/s, limiter state",
            "parameters": [limit], "responses": {"200": obj, "400": err, "401": err}}},
        "/api/v1/bulk-runs/{run_id}": {"get": {
            "summary": "One bulk run", "parameters": [run_id],
            "responses": {"200": obj, "401": err, "404": err}}},
    }
