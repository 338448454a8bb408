"""NTLM and Basic auth flows against a server that really checks them (pyspnego acceptor)."""

from __future__ import annotations

import base64

import httpx
import pytest
import spnego
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from connectors.dynamics_ax.auth import SpnegoAuth, build_auth
from connectors.dynamics_ax.config import AuthConfig

pytestmark = pytest.mark.unit


@pytest.fixture
def ntlm_users(tmp_path, monkeypatch):
    users = tmp_path / "ntlm-users"
    users.write_text("CONTOSO:svc-bridge:Pa55-word!\n")
    monkeypatch.setenv("NTLM_USER_FILE", str(users))


def ntlm_iis_app(log: list[str]) -> Starlette:
    """Answers like IIS with Windows authentication: 401 + challenge, then the content."""
    state: dict[str, object] = {}

    async def soap(request: Request) -> Response:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        log.append(scheme)
        if scheme != "NTLM" or not token:
            return Response(status_code=401, headers={"WWW-Authenticate": "NTLM"})
        raw = base64.b64decode(token)
        if raw[8:12] == b"\x01\x00\x00\x00":  # NTLM NEGOTIATE message
            state["ctx"] = spnego.server(protocol="ntlm")
            challenge = state["ctx"].step(raw)
            return Response(status_code=401,
                            headers={"WWW-Authenticate": f"NTLM {base64.b64encode(challenge).decode()}"})
        try:
            state["ctx"].step(raw)
        except spnego.exceptions.SpnegoError:
            return Response(status_code=401, headers={"WWW-Authenticate": "NTLM"})
        body = await request.body()
        return Response(f"hello {state['ctx'].client_principal} {len(body)}", media_type="text/plain")

    return Starlette(routes=[Route("/svc", soap, methods=["POST"])])


async def test_ntlm_handshake_authenticates(ntlm_users):
    log: list[str] = []
    auth = build_auth(AuthConfig(mode="ntlm", username="svc-bridge", domain="CONTOSO", password="Pa55-word!"))
    assert isinstance(auth, SpnegoAuth)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(ntlm_iis_app(log)), auth=auth,
                                 base_url="http://aos.test") as client:
        r = await client.post("/svc", content=b"<x/>")
    assert r.status_code == 200
    assert r.text == "hello CONTOSO\\svc-bridge 4"
    assert log == ["NTLM", "NTLM"]  # negotiate sent at once, then the authenticate message


async def test_ntlm_wrong_password_ends_in_401(ntlm_users):
    auth = SpnegoAuth("CONTOSO\\svc-bridge", "wrong", protocol="ntlm")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(ntlm_iis_app([])), auth=auth,
                                 base_url="http://aos.test") as client:
        r = await client.post("/svc", content=b"<x/>")
    assert r.status_code == 401


async def test_basic_auth_header():
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers["authorization"])
        return httpx.Response(200)

    auth = build_auth(AuthConfig(mode="basic", username="svc", password="s3cret"))
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        await client.post("http://aos.test/svc")
    assert seen == ["Basic " + base64.b64encode(b"svc:s3cret").decode()]


def test_secrets_never_in_repr():
    cfg = AuthConfig(mode="ntlm", username="CONTOSO\\svc", password="Pa55-word!")
    assert "Pa55-word!" not in repr(cfg) and "Pa55-word!" not in str(cfg.model_dump())
    assert "Pa55-word!" not in repr(build_auth(cfg))
    assert build_auth(AuthConfig(mode="none")) is None


def test_credentials_required_for_windows_auth():
    with pytest.raises(ValueError, match="needs auth.username and auth.password"):
        AuthConfig(mode="ntlm", username="svc")


async def test_lost_context_restarts_the_handshake(ntlm_users):
    """IIS answers the last leg with a bare 401 when it arrived on another connection: start again."""
    log: list[str] = []
    app = ntlm_iis_app(log)
    lost = {"left": 1}

    async def lose_first_context(scope, receive, send):
        if scope["type"] == "http" and lost["left"]:
            auth = dict(scope["headers"]).get(b"authorization", b"")
            if auth.startswith(b"NTLM ") and base64.b64decode(auth[5:])[8:12] == b"\x03\x00\x00\x00":
                lost["left"] -= 1
                response = Response(status_code=401, headers={"WWW-Authenticate": "NTLM"})
                await response(scope, receive, send)
                return
        await app(scope, receive, send)

    auth = SpnegoAuth("CONTOSO\\svc-bridge", "Pa55-word!", protocol="ntlm")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(lose_first_context), auth=auth,
                                 base_url="http://aos.test") as client:
        r = await client.post("/svc", content=b"<x/>")
    assert r.status_code == 200 and lost["left"] == 0
    assert len(log) == 3  # negotiate (lost attempt: authenticate dropped), negotiate, authenticate


@pytest.fixture
def iis_ntlm_server(ntlm_users):
    """A real HTTP server (uvicorn, 127.0.0.1) whose NTLM state lives per TCP connection, like IIS."""
    import threading
    import time

    import uvicorn

    from connectors.dynamics_ax.sandbox.server import free_port

    contexts: dict[tuple[str, int], object] = {}
    authenticated: set[tuple[str, int]] = set()

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        conn = tuple(scope["client"])
        header = dict(scope["headers"]).get(b"authorization", b"").decode()
        scheme, _, token = header.partition(" ")
        while (await receive()).get("more_body"):
            pass
        status, headers = 401, [(b"www-authenticate", b"NTLM")]
        if scheme == "NTLM" and token:
            raw = base64.b64decode(token)
            if raw[8:12] == b"\x01\x00\x00\x00":
                contexts[conn] = ctx = spnego.server(protocol="ntlm")
                challenge = base64.b64encode(ctx.step(raw))
                headers = [(b"www-authenticate", b"NTLM " + challenge)]
            elif conn in contexts:  # the authenticate message on the connection that was challenged
                try:
                    contexts.pop(conn).step(raw)
                    authenticated.add(conn)
                    status, headers = 200, []
                except spnego.exceptions.SpnegoError:
                    pass
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok" if status == 200 else b""})

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    server.install_signal_handlers = lambda: None
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    yield f"http://127.0.0.1:{port}", authenticated
    server.should_exit = True
    thread.join(timeout=10)


async def test_ntlm_over_real_connections_with_concurrency(iis_ntlm_server):
    """24 concurrent calls over 4 lanes: every handshake stays on its connection (a shared httpx
    pool fails this: the authenticate leg lands on another connection and IIS answers 401)."""
    import asyncio

    from connectors.dynamics_ax.soap import Lanes

    base, authenticated = iis_ntlm_server
    lanes = Lanes(4, auth=SpnegoAuth("CONTOSO\\svc-bridge", "Pa55-word!", protocol="ntlm"), base_url=base)

    async def call() -> int:
        async with lanes.lane() as client:
            return (await client.post("/svc", content=b"<x/>" * 100)).status_code

    try:
        statuses = await asyncio.gather(*(call() for _ in range(24)))
    finally:
        await lanes.aclose()
    assert statuses == [200] * 24
    assert 1 <= len(authenticated) <= 4  # one TCP connection per lane
