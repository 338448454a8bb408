"""A TCP proxy for chaos runs: sits between the bridge and a sandbox and breaks the network on demand.

:class:`TcpProxy` listens on ``127.0.0.1:<port>`` and forwards every connection to ``target``.
It runs its own asyncio loop in a daemon thread, so a synchronous driver and an asyncio one can
both control it (every control method is thread-safe and returns once the fault is in place):

* :meth:`TcpProxy.cut` closes every open connection (both sides, with a TCP reset where the
  platform allows): what a NAT or load balancer dropping its connection table does. Requests in
  flight fail with a connection error; pooled keep-alive connections are dead the next time.
* :meth:`TcpProxy.stall` holds every byte in both directions, on open and new connections, for
  ``seconds``: a black-holed route. Clients see their own read timeouts fire; what the target
  answered meanwhile is delivered afterwards (if the client still listens).
* :meth:`TcpProxy.refuse` closes each new connection at once for ``seconds`` (the target's port
  unreachable), while open connections go on.

:attr:`TcpProxy.stats` counts connections, cuts, stalls and refusals, so a run can show that each
fault really happened. Nothing about the traffic is logged: bodies may carry credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
import time
from typing import Any

__all__ = ["TcpProxy"]

_CHUNK = 65536


class TcpProxy:
    """Forward ``127.0.0.1:port`` to ``target_host:target_port``; :meth:`start` before use, :meth:`close` after.

    ``port=0`` picks a free port (read :attr:`port` after :meth:`start`)."""

    def __init__(self, target_host: str, target_port: int, port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.port = port
        self.stats = {"connections": 0, "cuts": 0, "cut_connections": 0, "stalls": 0, "refused": 0}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._conns: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()
        self._stall_until = 0.0
        self._refuse_until = 0.0
        self._resume: asyncio.Event | None = None

    # ------------------------------------------------------------------ life cycle
    def start(self) -> TcpProxy:
        """Start listening (in a thread of its own); returns self once the port is bound."""
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            self._resume = asyncio.Event()
            self._resume.set()
            self._server = loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", self.port))
            self.port = int(self._server.sockets[0].getsockname()[1])
            ready.set()
            loop.run_forever()
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._thread = threading.Thread(target=run, name=f"tcp-proxy-{self.target[1]}", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the TCP proxy did not start within 10 s")
        return self

    def close(self) -> None:
        """Stop listening and close every connection; idempotent."""
        if self._loop is None or self._thread is None:
            return

        async def shutdown() -> None:
            assert self._server is not None
            self._server.close()
            self._abort_all()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._loop.stop()  # type: ignore[union-attr]
        asyncio.run_coroutine_threadsafe(shutdown(), self._loop)
        self._thread.join(timeout=10)
        self._loop = self._thread = None

    # ------------------------------------------------------------------ faults
    def cut(self) -> None:
        """Close every open connection now (both sides)."""
        self._call(self._cut)

    def stall(self, seconds: float) -> None:
        """Hold all traffic, in both directions, for ``seconds`` from now."""
        def go() -> None:
            assert self._resume is not None and self._loop is not None
            self.stats["stalls"] += 1
            self._stall_until = max(self._stall_until, time.monotonic() + seconds)
            self._resume.clear()
            self._loop.call_later(seconds, self._maybe_resume)
        self._call(go)

    def refuse(self, seconds: float) -> None:
        """Close each new connection at once for ``seconds`` from now."""
        def go() -> None:
            self._refuse_until = max(self._refuse_until, time.monotonic() + seconds)
        self._call(go)

    # ------------------------------------------------------------------ internals
    def _call(self, fn: Any) -> None:
        """Run ``fn`` on the proxy's loop and wait until it ran (the fault is in place on return)."""
        if self._loop is None:
            raise RuntimeError("the TCP proxy is not running: call start() first")

        async def run() -> None:
            fn()
        asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    def _maybe_resume(self) -> None:
        assert self._resume is not None and self._loop is not None
        left = self._stall_until - time.monotonic()
        if left > 0:
            self._loop.call_later(left, self._maybe_resume)
        else:
            self._resume.set()

    def _cut(self) -> None:
        self.stats["cuts"] += 1
        self.stats["cut_connections"] += len(self._conns)
        self._abort_all()

    def _abort_all(self) -> None:
        for pair in list(self._conns):
            for w in pair:
                _reset(w)
        self._conns.clear()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.stats["connections"] += 1
        if time.monotonic() < self._refuse_until:
            self.stats["refused"] += 1
            _reset(client_w)
            return
        try:
            target_r, target_w = await asyncio.open_connection(*self.target)
        except OSError:
            _reset(client_w)
            return
        pair = (client_w, target_w)
        self._conns.add(pair)
        try:
            await asyncio.gather(self._pump(client_r, target_w), self._pump(target_r, client_w))
        finally:
            self._conns.discard(pair)
            for w in pair:
                with contextlib.suppress(Exception):
                    w.close()

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._resume is not None
        try:
            while True:
                data = await reader.read(_CHUNK)
                if not data:
                    break
                await self._resume.wait()  # a stall holds what arrived until it ends
                if writer.is_closing():
                    break
                writer.write(data)
                await writer.drain()
        except (OSError, asyncio.IncompleteReadError, RuntimeError):
            pass
        finally:
            with contextlib.suppress(Exception):
                if writer.can_write_eof() and not writer.is_closing():
                    writer.write_eof()


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) so the peer sees a reset connection, not a clean end."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(Exception):
        writer.transport.abort()
