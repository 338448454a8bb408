"""Webhooks emitted by the sandbox (a shop module) are accepted by the connector's adapter."""

from __future__ import annotations

import asyncio

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.prestashop import Client, ClientConfig, SignatureError, WebhookEvent, parse_signed
from connectors.prestashop.sandbox.config import SandboxConfig
from connectors.prestashop.sandbox.server import run_in_thread

pytestmark = pytest.mark.contract

KEY = "SANDBOXKEY0123456789ABCDEFGHIJKL"

SECRET = "whsec_C2VjcmV0LWZvci1jb250cmFjdC10ZXN0cw=="


async def wait_for(events: list, count: int) -> None:
    for _ in range(500):  # up to ~10 s; normally a few milliseconds
        if len(events) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"expected {count} webhook(s), got {len(events)}")


async def test_sandbox_webhooks_verify_and_normalise(serve_app):
    events: list[WebhookEvent] = []
    refused: list[str] = []
    fail_first = {"left": 1}

    async def receive(request: Request) -> Response:
        body = await request.body()
        if fail_first["left"]:  # the receiver is down once: the emitter must retry
            fail_first["left"] -= 1
            return Response(status_code=503)
        try:
            events.append(parse_signed(body, request.headers, [SECRET]))
        except SignatureError as exc:
            refused.append(exc.reason)
            return Response(status_code=401)
        return Response(status_code=202)

    receiver = Starlette(routes=[Route("/hook", receive, methods=["POST"])])
    with serve_app(receiver) as hook_url:
        config = SandboxConfig.simple(KEY, webhook_url=f"{hook_url}/hook", webhook_secret=SecretStr(SECRET),
                                      webhook_backoff_s=0.05)
        with run_in_thread(config) as shop_url:
            async with Client(ClientConfig(base_url=shop_url, api_key=KEY)) as shop:
                created = await shop.create("customers", {
                    "lastname": "Hook", "firstname": "Hana", "email": "hook@example.com",
                    "passwd": "hook-pass-1", "id_default_group": 3})
                await shop.update("customers", created["id"], {"firstname": "Hanna"})
                await wait_for(events, 2)
    assert refused == []
    assert [(e.type, e.entity, e.key) for e in events[:2]] == [
        ("customer.created", "customer", created["id"]), ("customer.updated", "customer", created["id"])]
    assert events[1].data["firstname"] == "Hanna" and "passwd" not in events[1].data
    assert events[0].event_id != events[1].event_id and events[0].timestamp is not None
