"""The chaos campaign's TCP proxy (benchmarks/_tcp_proxy.py) against a real TCP echo server:
it forwards bytes both ways, a cut resets open connections, a stall holds bytes until it ends
(they arrive afterwards, none lost), and a refusal closes new connections while it lasts."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest

from benchmarks._tcp_proxy import TcpProxy

pytestmark = pytest.mark.chaos


@pytest.fixture
def echo_port() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            threading.Thread(target=echo, args=(conn,), daemon=True).start()

    def echo(conn: socket.socket) -> None:
        with conn:
            try:
                while data := conn.recv(65536):
                    conn.sendall(data)
            except OSError:
                pass  # the proxy reset the connection: what the cut test wants

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield int(server.getsockname()[1])
    stop.set()
    thread.join(5)
    server.close()


@pytest.fixture
def proxy(echo_port: int) -> Iterator[TcpProxy]:
    p = TcpProxy("127.0.0.1", echo_port).start()
    yield p
    p.close()


def _client(proxy: TcpProxy) -> socket.socket:
    c = socket.create_connection(("127.0.0.1", proxy.port), timeout=10)
    c.sendall(b"hello")
    assert c.recv(5) == b"hello"  # the connection is set up end to end
    return c


def test_bytes_are_forwarded_both_ways(proxy: TcpProxy) -> None:
    with _client(proxy) as c:
        payload = bytes(range(256)) * 1000
        c.sendall(payload)
        got = b""
        while len(got) < len(payload):
            got += c.recv(65536)
        assert got == payload
    assert proxy.stats["connections"] == 1


def test_a_cut_resets_the_open_connections(proxy: TcpProxy) -> None:
    with _client(proxy) as c:
        proxy.cut()
        with pytest.raises(OSError):  # reset by peer (or a broken pipe on the send)
            c.sendall(b"after the cut")
            if c.recv(100) == b"":
                raise ConnectionResetError("closed")
    assert proxy.stats["cuts"] == 1 and proxy.stats["cut_connections"] == 1
    with _client(proxy):  # new connections work again
        pass


def test_a_stall_holds_bytes_and_delivers_them_afterwards(proxy: TcpProxy) -> None:
    with _client(proxy) as c:
        proxy.stall(8.0)  # long, so that a slow machine still reads inside the stall
        c.sendall(b"held")
        c.settimeout(0.5)
        with pytest.raises(TimeoutError):  # nothing comes through while stalled
            c.recv(4)
        c.settimeout(30)
        assert c.recv(4) == b"held"  # and nothing was lost
    assert proxy.stats["stalls"] == 1


def test_a_refusal_closes_new_connections_while_it_lasts(proxy: TcpProxy) -> None:
    proxy.refuse(30.0)
    try:
        with socket.create_connection(("127.0.0.1", proxy.port), timeout=10) as c:
            c.sendall(b"x")
            assert c.recv(1) == b""  # closed without an answer
    except OSError:
        pass  # reset, possibly while connecting: refused all the same
    assert proxy.stats["refused"] == 1 and proxy.stats["connections"] == 1
