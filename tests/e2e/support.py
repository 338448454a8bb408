"""Helpers of the Ray + Serve tests: signed webhooks, a retrying concurrent sender, polling."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx

SECRET = "whsec_ZTJlLXRlc3Qtc2VjcmV0LWZvci13ZWJob29rcw=="
TOKEN = "e2e-admin-token"


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
