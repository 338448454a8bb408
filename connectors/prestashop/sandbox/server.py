"""Run the sandbox in a background thread (for tests, demos and benchmarks).

``with run_in_thread(config) as base_url:`` starts uvicorn on 127.0.0.1 on a free port, waits until
it answers, yields ``http://127.0.0.1:PORT`` and stops the server on exit (the lifespan runs, so the
webhook emitter stops and a SQLite store is closed).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import uvicorn

from .app import create_app
from .config import SandboxConfig

__all__ = ["run_in_thread", "free_port"]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def run_in_thread(config: SandboxConfig, host: str = "127.0.0.1", startup_timeout_s: float = 15.0) -> Iterator[str]:
    """Serve a sandbox built from ``config``; yields its base URL. Raises RuntimeError if it
    does not start within ``startup_timeout_s``."""
    port = free_port(host)
    server = uvicorn.Server(uvicorn.Config(create_app(config), host=host, port=port, log_level="warning",
                                           access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, name=f"ps-sandbox-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the PrestaShop sandbox did not start on {host}:{port} within {startup_timeout_s} s")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
