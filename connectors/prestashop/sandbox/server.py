"""Run the sandbox in a background thread (for tests, demos and benchmarks).

``with run_in_thread(config) as base_url:`` serves the app of ``config`` on 127.0.0.1 on a free
port through :func:`connectors._serving.serve_in_thread`, yields ``http://127.0.0.1:PORT`` once it
answers and stops the server on exit (the lifespan runs, so the webhook emitter stops and a SQLite
store is closed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from connectors._serving import free_port, serve_in_thread

from .app import create_app
from .config import SandboxConfig

__all__ = ["free_port", "run_in_thread"]


@contextlib.contextmanager
def run_in_thread(config: SandboxConfig, startup_timeout_s: float = 15.0) -> Iterator[str]:
    """Serve a sandbox built from ``config``; yields its base URL. Raises RuntimeError if it
    does not start within ``startup_timeout_s``."""
    with serve_in_thread(create_app(config), name="PrestaShop sandbox", startup_timeout_s=startup_timeout_s) as url:
        yield url
