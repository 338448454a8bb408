"""The PrestaShop sandbox served over real HTTP (uvicorn on 127.0.0.1, a free port, a thread).

``serve`` also runs other ASGI apps the same way (the webhook receiver of test_webhooks).

One seeded shop for the whole module set (``seed=1050`` gives > 1,000 products, enough to page
past the 1,000-record mark). Tests that change the clock or inject faults restore them.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr

from connectors.prestashop import Client, ClientConfig
from connectors.prestashop.sandbox.config import ApiKey, SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread

KEY = "SANDBOXKEY0123456789ABCDEFGHIJKL"
LIMITED_KEY = "LIMITEDKEY0123456789ABCDEFGHIJKL"  # GET/HEAD on customers only
NOPATCH_KEY = "NOPATCHKEY0123456789ABCDEFGHIJKL"  # manufacturers without PATCH (a pre-8.0 key)
SEED = 1050


@contextlib.contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (free port) in a thread; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def sandbox_url() -> Iterator[str]:
    config = SandboxConfig(
        api_keys=[
            ApiKey(key=SecretStr(KEY), description="contract tests"),
            ApiKey(key=SecretStr(LIMITED_KEY), permissions={"customers": ["GET", "HEAD"]}),
            ApiKey(key=SecretStr(NOPATCH_KEY),
                   permissions={"manufacturers": ["GET", "HEAD", "POST", "PUT", "DELETE"]}),
        ],
        seed=SEED,
    )
    with run_in_thread(config) as url:  # the sandbox's own runner (uvicorn in a thread)
        yield url


@pytest.fixture
def serve_app():
    """The :func:`serve` helper as a fixture (test modules do not import conftest)."""
    return serve


@pytest.fixture
async def shop(sandbox_url: str) -> AsyncIterator[Client]:
    async with Client(ClientConfig(base_url=sandbox_url, api_key=KEY)) as client:
        yield client


@pytest.fixture
def make_client(sandbox_url: str):
    def factory(**overrides: Any) -> Client:
        key = overrides.pop("api_key", KEY)
        return Client(ClientConfig(base_url=sandbox_url, api_key=key, **overrides))

    return factory


@pytest.fixture
def control(sandbox_url: str) -> Iterator[httpx.Client]:
    """Plain HTTP client for the sandbox's own controls (``/_sandbox/...``)."""
    with httpx.Client(base_url=sandbox_url, auth=(KEY, "")) as http:
        yield http
        http.delete("/_sandbox/faults")
        http.put("/_sandbox/clock", json={"frozen": "", "offset_s": 0})
