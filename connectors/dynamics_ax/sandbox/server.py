"""Run the sandbox with uvicorn: blocking (CLI) or in a background thread (tests, demos).

``run_in_thread(config)`` is a context manager: it binds 127.0.0.1 on a free port (whatever
``config.port`` says), starts uvicorn in a daemon thread through
:func:`connectors._serving.serve_in_thread`, waits until the server accepts connections and
yields the base URL ``http://127.0.0.1:<port>``; on exit it stops the server and joins the
thread. The SOAP endpoint is ``base_url + config.service_path``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace

import uvicorn

from connectors._serving import LOOPBACK, free_port, serve_in_thread

from .app import create_app
from .config import SandboxConfig

__all__ = ["free_port", "run_in_thread", "serve"]


def _uvicorn_config(config: SandboxConfig) -> uvicorn.Config:
    return uvicorn.Config(create_app(config), host=config.host, port=config.port, access_log=False,
                          log_level="warning", lifespan="on")


def serve(config: SandboxConfig) -> None:
    """Serve until interrupted (used by the CLI)."""
    uvicorn.Server(_uvicorn_config(config)).run()


@contextlib.contextmanager
def run_in_thread(config: SandboxConfig | None = None, *, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``config`` on 127.0.0.1 in a thread; yields the base URL (see module docstring)."""
    # The port is chosen before the app is built: the app writes it into its WSDL addresses.
    config = replace(config or SandboxConfig(), host=LOOPBACK, port=0)
    config.port = free_port()
    with serve_in_thread(create_app(config), port=config.port, name="AX sandbox", startup_timeout_s=timeout) as url:
        yield url
