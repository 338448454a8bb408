"""Helpers of the hostile-XML tests: an HTTP stub that plays a broken or malicious PrestaShop / AOS
(one canned answer for every request, every request recorded), a canary file that tells whether
anything opened it, and the classic hostile documents."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Stub:
    """``answer`` is served to every request; ``requests`` holds ``(method, path)`` of each."""

    url: str = ""
    answer: bytes = b""
    content_type: str = "text/xml; charset=utf-8"
    status: int = 200
    requests: list[tuple[str, str]] = field(default_factory=list)


@contextmanager
def stub_server() -> Iterator[Stub]:
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            stub.requests.append((self.command, self.path))
            self.send_response(stub.status)
            self.send_header("Content-Type", stub.content_type)
            self.send_header("Content-Length", str(len(stub.answer)))
            self.end_headers()
            self.wfile.write(stub.answer)

        do_GET = do_POST = do_PUT = _answer

        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


class Canary:
    """A named pipe standing in for a secret file: a writer thread waits for someone to open it
    for reading, so ``opened`` says exactly whether any code tried to read the file (an XML parser
    resolving ``file://`` would). A plain file's access time cannot say that reliably."""

    SECRET = "canary-secret-7f3a"

    def __init__(self, folder: Path) -> None:
        self.path = folder / "canary-secret.txt"
        os.mkfifo(self.path)
        self.opened = threading.Event()
        self._stop = False
        self._thread = threading.Thread(target=self._wait, daemon=True)
        self._thread.start()

    def _wait(self) -> None:
        with open(self.path, "w") as pipe:  # blocks until a reader opens the pipe
            if not self._stop:
                self.opened.set()
                pipe.write(self.SECRET)

    def close(self) -> bool:
        """Release the writer thread; ``True`` if anything other than this opened the file."""
        was_opened = self.opened.is_set()
        self._stop = True
        fd = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)  # unblocks the writer
        self._thread.join(timeout=5)
        os.close(fd)
        return was_opened


def billion_laughs(root: str) -> bytes:
    lol = ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)]
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [{"".join(lol)}]>'.encode()
            + f"<{root}>&lol9;</{root}>".encode())


def quadratic_blowup(root: str, size: int = 100_000, refs: int = 10_000) -> bytes:
    """One big entity referenced many times: no nesting for a depth limit to catch."""
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY a "{"a" * size}">]>'.encode()
            + f"<{root}>{'&a;' * refs}</{root}>".encode())


def external_entity(root: str, system_id: str, inner: str) -> bytes:
    """``inner`` is the document body after the root start tag; it may use ``&xxe;``."""
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY xxe SYSTEM "{system_id}">]>'
            f"<{root}>{inner}</{root}>").encode()


def parameter_entity(root: str, system_id: str) -> bytes:
    return (f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY % ext SYSTEM "{system_id}"> %ext;]>'
            f"<{root}/>").encode()


def external_dtd(root: str, system_id: str, inner: str = "") -> bytes:
    return f'<?xml version="1.0"?><!DOCTYPE {root} SYSTEM "{system_id}"><{root}>{inner}</{root}>'.encode()
