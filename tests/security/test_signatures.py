"""Signatures against the reference implementation, the ``standardwebhooks`` library (PyPI):
what it signs verifies in the bridge (several secrets for rotation, several signatures in one
header), and what the sandbox's emitter signs verifies with it."""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from standardwebhooks import Webhook, WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.prestashop.signing import sign, verify
from tests.e2e.support import SECRET
from tests.security.conftest import journaled

OLD = "whsec_" + base64.b64encode(b"old-secret-of-the-rotation-0001").decode()
NEW = "whsec_" + base64.b64encode(b"new-secret-of-the-rotation-0002").decode()
OTHER = "whsec_" + base64.b64encode(b"a-secret-the-bridge-never-knew").decode()


def library_headers(secret: str, body: bytes, msg_id: str | None = None,
                    when: dt.datetime | None = None) -> dict[str, str]:
    """The three headers as the reference library makes them."""
    msg_id = msg_id or f"msg_{random.getrandbits(64):x}"
    when = when or dt.datetime.now(dt.UTC)
    return {"webhook-id": msg_id, "webhook-timestamp": str(int(when.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, when, body), "content-type": "application/json"}


def _body(key: int) -> bytes:
    return json.dumps({"type": "customer.updated", "timestamp": 1, "data": {"id": key}}).encode()


@pytest.mark.unit
def test_the_bridge_signs_exactly_as_the_reference_library() -> None:
    rng = random.Random(7)
    for _ in range(200):
        secret = "whsec_" + base64.b64encode(rng.randbytes(rng.randint(1, 64))).decode()
        body = rng.randbytes(rng.randint(0, 300))  # any bytes: the signature is over the raw body
        msg_id, ts = f"msg_{rng.getrandbits(40):x}", rng.randint(0, 2**33)
        assert sign(secret, msg_id, ts, body) == Webhook(secret).sign(msg_id, dt.datetime.fromtimestamp(ts, dt.UTC),
                                                                      body)


@pytest.mark.unit
def test_rotated_secrets_and_several_signatures_in_one_header() -> None:
    """Both secrets of a rotation verify; a header carrying signatures of several secrets verifies
    when one matches; signatures of unknown secrets only, or a future version tag, do not."""
    body = _body(1)
    for secret in (OLD, NEW):
        headers = library_headers(secret, body)
        assert verify([OLD, NEW], headers, body) == headers["webhook-id"]
    ours = library_headers(NEW, body)
    theirs = Webhook(OTHER).sign(ours["webhook-id"], dt.datetime.fromtimestamp(int(ours["webhook-timestamp"]), dt.UTC),
                                 body)
    several = {**ours, "webhook-signature": f"{theirs} v1a,c2lnbmF0dXJl {ours['webhook-signature']}"}
    assert verify([OLD, NEW], several, body) == ours["webhook-id"]
    Webhook(NEW).verify(body, several)  # the library reads the same header the same way
    with pytest.raises(Exception, match="does not match"):
        verify([OLD, NEW], {**ours, "webhook-signature": theirs}, body)
    with pytest.raises(Exception, match="no 'v1"):
        verify([OLD, NEW], {**ours, "webhook-signature": ours["webhook-signature"].replace("v1,", "v2,")}, body)


@pytest.mark.e2e
async def test_library_signed_webhooks_are_accepted_by_the_running_bridge(security_bridge) -> None:
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        before = await journaled(c)
        one = _body(9101)
        r = await c.post("/webhooks/prestashop", content=one, headers=library_headers(SECRET, one))
        assert r.status_code == 202, r.text
        two = _body(9102)
        headers = library_headers(SECRET, two)
        stranger = Webhook(OTHER).sign(headers["webhook-id"],
                                       dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.UTC), two)
        headers["webhook-signature"] = f"{stranger} {headers['webhook-signature']}"  # several signatures
        r = await c.post("/webhooks/prestashop", content=two, headers=headers)
        assert r.status_code == 202, r.text
        three = _body(9103)
        r = await c.post("/webhooks/prestashop", content=three, headers=library_headers(OTHER, three))
        assert (r.status_code, r.json()["error"]) == (401, "signature_mismatch")
        stale = library_headers(SECRET, three, when=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        r = await c.post("/webhooks/prestashop", content=three, headers=stale)
        assert (r.status_code, r.json()["error"]) == (401, "signature_stale")
        assert await journaled(c) == before + 2


# ---------------------------------------------------------------- the sandbox's emitter


class _Receiver:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []

    async def hook(self, request: Request) -> Response:
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=202)


@pytest.fixture
def receiver() -> Iterator[tuple[_Receiver, int]]:
    from connectors.prestashop.sandbox.server import free_port

    rec, port = _Receiver(), free_port()
    app = Starlette(routes=[Route("/hook", rec.hook, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield rec, port
    server.should_exit = True
    thread.join(5)


CUSTOMER = ("<prestashop><customer><passwd>hook-pass-1</passwd><lastname>Sign</lastname><firstname>Ada</firstname>"
            "<email>{email}</email><id_default_group>3</id_default_group><active>1</active></customer></prestashop>")


@pytest.mark.contract
@pytest.mark.parametrize("secret", [NEW, "whsec_" + base64.b64encode(b"\x00\xff" * 20).decode()])
def test_the_sandbox_emitters_signatures_verify_with_the_reference_library(
        receiver: tuple[_Receiver, int], secret: str, tmp_path: Path) -> None:
    from connectors.prestashop.sandbox import run_in_thread
    from tests.contract.prestashop_sandbox.conftest import FULL_KEY, make_config

    rec, port = receiver
    config = make_config(seed=0, webhook_url=f"http://127.0.0.1:{port}/hook", webhook_secret=SecretStr(secret),
                         webhook_backoff_s=0.05, webhook_backoff_max_s=0.2)
    with run_in_thread(config) as url, httpx.Client(base_url=url, auth=(FULL_KEY, "")) as c:
        for n in range(3):
            assert c.post("/api/customers", content=CUSTOMER.format(email=f"sig{n}@example.com")).status_code == 201
        deadline = time.monotonic() + 20
        while len(rec.received) < 3:
            assert time.monotonic() < deadline, "the emitter did not deliver"
            time.sleep(0.02)
    for headers, body in rec.received:
        event = Webhook(secret).verify(body, headers)  # raises unless the signature is right
        assert event["type"] == "customer.created"
        with pytest.raises(WebhookVerificationError):
            Webhook(OTHER).verify(body, headers)
        with pytest.raises(WebhookVerificationError):
            Webhook(secret).verify(body.replace(b"Sign", b"Sigh"), headers)
