"""One local Ray instance and one Serve instance per test session; a fresh bridge per test.

Each test gets its own store (SQLite in its temp folder) and its own actor namespace, so tests
cannot see each other's actors or messages; the Serve app is redeployed per test.
"""

from __future__ import annotations

import asyncio
import json
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

SECRET = "whsec_ZTJlLXRlc3Qtc2VjcmV0LWZvci13ZWJob29rcw=="
TOKEN = "e2e-admin-token"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def serve_port() -> Iterator[int]:
    import ray
    from ray import serve

    port = _free_port()
    ray.init("local", num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=256 * 1024 * 1024, namespace="presta-ax-tests")
    serve.start(http_options={"host": "127.0.0.1", "port": port}, logging_config={"enable_access_log": False})
    yield port
    serve.shutdown()
    ray.shutdown()


@pytest.fixture
def bridge(serve_port: int, tmp_path: Path) -> Iterator[Any]:
    from runtime.config import Settings
    from runtime.server import start_bridge, stop_bridge

    settings = Settings.model_validate({
        "data_dir": str(tmp_path / "data"),
        "namespace": f"t-{uuid.uuid4().hex[:8]}",
        "server": {"port": serve_port, "webhook_secrets": [SECRET], "admin_token": TOKEN},
        "flows": ["tests.flows_for_tests"],
        "limits": {"lease_s": 3, "dispatch_interval_s": 0.3,
                   "retry": {"base_s": 0.05, "cap_s": 0.5, "max_attempts": 6}},
    })
    running = start_bridge(settings, start_serve=False)
    yield running
    stop_bridge(running)


def signed(event_type: str, data: dict[str, Any], wid: str | None = None) -> tuple[bytes, dict[str, str]]:
    from connectors.prestashop.signing import signature_headers

    body = json.dumps({"type": event_type, "timestamp": 0, "data": data}).encode()
    return body, {"content-type": "application/json",
                  **signature_headers(SECRET, wid or f"evt_{uuid.uuid4().hex}", body)}


async def send_all(url: str, items: list[tuple[bytes, dict[str, str]]], concurrency: int = 16,
                   deadline_s: float = 120.0) -> list[int]:
    """Send webhooks like a real sender: concurrently, retrying on errors until acknowledged."""
    sem = asyncio.Semaphore(concurrency)
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s

    async with httpx.AsyncClient(timeout=10.0) as client:
        async def one(body: bytes, headers: dict[str, str]) -> int:
            async with sem:
                delay = 0.05
                while True:
                    try:
                        r = await client.post(f"{url}/webhooks/prestashop", content=body, headers=headers)
                        if r.status_code in (200, 202):
                            return r.status_code
                    except httpx.HTTPError:
                        pass
                    if loop.time() > end:
                        raise AssertionError("a webhook was never acknowledged")
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
        return list(await asyncio.gather(*(one(b, h) for b, h in items)))


async def wait_until(predicate, timeout_s: float = 90.0, interval_s: float = 0.3) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout_s
    while True:
        if await predicate():
            return
        if loop.time() > end:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(interval_s)
