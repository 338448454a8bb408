"""Run the sandbox with uvicorn: blocking (CLI) or in a background thread (tests, demos).

``run_in_thread(config)`` is a context manager: it binds 127.0.0.1 on a free port (unless
``config.port`` is non-zero and free), starts uvicorn in a daemon thread, waits until the
server accepts connections and yields the base URL ``http://127.0.0.1:<port>``; on exit it
stops the server and joins the thread. The SOAP endpoint is ``base_url + config.service_path``.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import uvicorn

from .app import create_app
from .config import SandboxConfig

__all__ = ["free_port", "run_in_thread", "serve"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago on ``host``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _uvicorn_config(config: SandboxConfig) -> uvicorn.Config:
    return uvicorn.Config(create_app(config), host=config.host, port=config.port, access_log=False,
                          log_level="warning", lifespan="on")


def serve(config: SandboxConfig) -> None:
    """Serve until interrupted (used by the CLI)."""
    uvicorn.Server(_uvicorn_config(config)).run()


@contextlib.contextmanager
def run_in_thread(config: SandboxConfig | None = None, *, timeout: float = 20.0) -> Iterator[str]:
    """Serve ``config`` on 127.0.0.1 in a thread; yields the base URL (see module docstring)."""
    config = replace(config or SandboxConfig(), host="127.0.0.1", port=0)
    config.port = free_port()
    server = uvicorn.Server(_uvicorn_config(config))
    # uvicorn installs signal handlers only in the main thread, so a thread is safe to use
    thread = threading.Thread(target=server.run, name=f"ax-sandbox-{config.port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"The AX sandbox did not start on 127.0.0.1:{config.port} within {timeout} s.")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
