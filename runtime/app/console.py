"""The web console: the built front end (``console/dist``, see ``console/README.md``) at ``/console``.

Contract:

* ``GET /console`` redirects to ``/console/``; ``/console/assets/<file>`` are the built, hashed
  assets (cached for a long time: their names change with their content); any other path under
  ``/console/`` answers ``index.html`` (no-cache), so a reload of any screen works.
* The static files need no token: they hold no data. Every API call the app makes carries the
  admin token (``/api/v1``, :mod:`runtime.app.admin`).
* Without a build (no Node on this machine), ``/console/`` answers 503 with a one-line page
  saying how to build it; the rest of the bridge is unaffected.
* Pages carry a Content-Security-Policy that allows scripts and connections to this origin only,
  so a payload shown on a page cannot load or send anything elsewhere.
"""

from __future__ import annotations

import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

__all__ = ["console_dist", "console_routes"]

#: the app's own origin only; inline styles are allowed because React Flow positions nodes with them
_CSP = ("default-src 'self'; script-src 'self'; connect-src 'self'; img-src 'self' data:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
_HEADERS = {"Content-Security-Policy": _CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-cache"}

_NOT_BUILT = ("<!doctype html><title>Console not built</title><p>The console is not built on this machine: "
              "install Node &ge; 20 and npm, then run <code>make console</code> in the repository.</p>")


def console_dist() -> Path:
    """Where the built console is: ``$PRESTA_AX_CONSOLE_DIR`` or ``console/dist`` of this checkout."""
    env = os.environ.get("PRESTA_AX_CONSOLE_DIR")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "console" / "dist"


def console_routes(dist: Path | None = None) -> list[BaseRoute]:
    """The routes serving the console from ``dist`` (default :func:`console_dist`)."""
    root = dist or console_dist()

    async def redirect(request: Request) -> Response:
        return RedirectResponse(url="/console/", status_code=308)

    async def index(request: Request) -> Response:
        page = root / "index.html"
        if not page.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503, headers=_HEADERS)
        return FileResponse(page, media_type="text/html", headers=_HEADERS)

    # check_dir=False and the check below: a bridge without a build still starts, and serves a
    # build made after it started (`make console` while the demo runs)
    static = StaticFiles(directory=root / "assets", check_dir=False)

    async def assets(scope: Scope, receive: Receive, send: Send) -> None:
        if not (root / "assets").is_dir():
            await Response("Not Found", status_code=404)(scope, receive, send)
            return
        await static(scope, receive, send)

    return [
        Route("/console", redirect, methods=["GET", "HEAD"]),
        Mount("/console/assets", app=assets, name="console-assets"),
        Route("/console/{path:path}", index, methods=["GET", "HEAD"]),
    ]
