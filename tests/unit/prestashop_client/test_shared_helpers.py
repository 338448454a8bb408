"""The helpers both connectors share: ``connectors._serving`` and ``connectors.errors.make_error``."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from connectors._serving import LOOPBACK, free_port, serve_in_thread
from connectors.errors import AuthError, NotFoundError, TransientError, ValidationError, make_error


def _app() -> Starlette:
    async def hello(request: object) -> PlainTextResponse:
        return PlainTextResponse("hello")

    return Starlette(routes=[Route("/", hello)])


def test_serve_in_thread_serves_on_loopback_and_stops() -> None:
    with serve_in_thread(_app(), name="test server") as url:
        assert url.startswith(f"http://{LOOPBACK}:")
        assert httpx.get(url + "/").text == "hello"
        port = int(url.rsplit(":", 1)[1])
    # stopped: nothing listens on the port any more
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://{LOOPBACK}:{port}/", timeout=2)


def test_serve_in_thread_on_a_chosen_port_and_startup_failure() -> None:
    port = free_port()
    with serve_in_thread(_app(), port=port, name="test server") as url:
        assert url == f"http://{LOOPBACK}:{port}"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((LOOPBACK, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        with pytest.raises(RuntimeError, match="test server did not start"):
            with serve_in_thread(_app(), port=busy, name="test server", startup_timeout_s=5):
                pass


def test_serve_in_thread_reports_a_failing_app_startup_in_the_caller() -> None:
    @contextlib.asynccontextmanager
    async def broken(app: object) -> AsyncIterator[None]:
        raise OSError("the app's own startup failed")
        yield  # pragma: no cover

    app = Starlette(routes=[Route("/", lambda r: PlainTextResponse("x"))], lifespan=broken)
    with pytest.raises(RuntimeError, match=r"broken server did not start .*\(SystemExit\)"):
        with serve_in_thread(app, name="broken server", startup_timeout_s=5):
            pass


def test_make_error_gives_retry_after_only_to_transient_errors() -> None:
    transient = make_error(TransientError, "Try later.", system="x", code=503, retry_after=4.0)
    assert isinstance(transient, TransientError) and transient.retry_after == 4.0 and transient.code == 503
    for cls in (ValidationError, NotFoundError, AuthError):
        err = make_error(cls, "No.", system="x", code="c", retry_after=4.0)
        assert type(err) is cls and err.system == "x" and err.code == "c" and not hasattr(err, "retry_after")
