"""Serve an ASGI app with uvicorn in a background thread on the loopback interface.

Both sandboxes (and the tests, demos and benchmarks that start them) need the same thing: a real
HTTP server on ``127.0.0.1``, on a port nobody else uses, that is up before the first request and
gone after the last one. :func:`serve_in_thread` does that once for both.

Contract of :func:`serve_in_thread`:

* it binds ``127.0.0.1`` only (tests and demos never listen on other interfaces);
* ``port`` ``None`` picks a free port (:func:`free_port`); a caller that must know the port before
  building the app (the AX sandbox writes it into its WSDL addresses) picks it first and passes it;
* it binds the listening socket itself, in the caller's thread, before uvicorn starts: a port
  that is taken fails at once with :class:`RuntimeError` naming ``name`` and the port, and no
  exception escapes the server thread (uvicorn would ``sys.exit`` in it);
* it returns only once uvicorn has started (lifespan startup done, socket listening) and yields
  ``http://127.0.0.1:PORT``; it raises :class:`RuntimeError` naming ``name`` when the server dies
  (e.g. its lifespan startup fails) or does not start within ``startup_timeout_s``;
* on exit it asks uvicorn to stop (the lifespan shutdown runs) and joins the thread.

uvicorn installs signal handlers only in the main thread, so serving from another thread leaves
the process's Ctrl-C handling alone.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["LOOPBACK", "free_port", "serve_in_thread"]

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that was free on ``host`` a moment ago (the OS picked it for a bind to port 0)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def serve_in_thread(
    app: Any,
    *,
    port: int | None = None,
    name: str = "server",
    startup_timeout_s: float = 20.0,
    join_timeout_s: float = 10.0,
) -> Iterator[str]:
    """Serve the ASGI ``app`` on ``127.0.0.1`` in a daemon thread; yields its base URL.

    See the module docstring for the contract. ``name`` appears in the thread name and in the
    startup error so a failing fixture says which server did not come up.
    """
    sock = _listening_socket(port, name)
    chosen = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(
        app, host=LOOPBACK, port=chosen, log_level="warning", access_log=False, lifespan="on",
    ))
    failure: list[BaseException] = []

    def run() -> None:
        # uvicorn ends a failed startup with sys.exit() in this thread; keep it (and anything
        # else) here so the caller reports it instead of the thread printing a traceback
        try:
            server.run(sockets=[sock])
        except BaseException as exc:  # noqa: BLE001 - reported by the caller below
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"{name}-{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + startup_timeout_s
    try:
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                thread.join(timeout=join_timeout_s)
                why = f" ({type(failure[0]).__name__})" if failure else ""
                raise RuntimeError(
                    f"The {name} did not start on {LOOPBACK}:{chosen} within {startup_timeout_s} s{why}.")
            time.sleep(0.01)
        yield f"http://{LOOPBACK}:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout=join_timeout_s)
        sock.close()


def _listening_socket(port: int | None, name: str) -> socket.socket:
    """A socket bound to ``127.0.0.1:port`` (``None``: a port the OS picks, so no other server can
    take it between choosing and binding). ``SO_REUSEADDR`` as uvicorn sets it, so a port left in
    TIME_WAIT by an earlier server is usable while one that something listens on is not."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port or 0))
    except OSError as exc:
        sock.close()
        reason = "the port is in use" if exc.errno == errno.EADDRINUSE else exc.strerror or str(exc)
        raise RuntimeError(f"The {name} did not start on {LOOPBACK}:{port}: {reason}.") from None
    sock.listen(2048)
    return sock
