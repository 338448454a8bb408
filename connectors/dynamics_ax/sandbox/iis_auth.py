"""IIS authentication in front of the AIF virtual directory: Windows (Negotiate, NTLM) and Basic.

:class:`IisAuth` is an ASGI middleware guarding every URL under ``/MicrosoftDynamicsAXAif60/``
(SOAP calls, ``?wsdl`` and ``?xsd=...`` alike, as IIS does for the whole directory); the
``/_sandbox`` control API stays open. It answers like IIS with Windows authentication on:

* no credentials: ``401`` with one ``WWW-Authenticate`` header per enabled provider, in IIS's
  default order ``Negotiate``, ``NTLM`` (then ``Basic realm=...`` when Basic is on too);
* a first token (NTLM NEGOTIATE_MESSAGE or an SPNEGO NegTokenInit): ``401`` with
  ``WWW-Authenticate: <scheme> <challenge>``; the security context is kept **per TCP connection**
  (client address and port as ASGI reports them), so the next leg must come on the same
  connection or it is refused with a bare ``401`` like IIS does;
* the answer to the challenge: the request goes through; with Negotiate the final SPNEGO token
  (mutual authentication) is added to the response as ``WWW-Authenticate: Negotiate <token>``;
  wrong credentials give ``401`` with the bare provider list again;
* later requests on an authenticated connection without ``Authorization`` go through (IIS's
  connection-based NTLM authentication); a new first token restarts the handshake.

Tokens are checked by pyspnego's acceptor, which verifies NTLMv2 (and v1) responses and the MIC.
That acceptor reads credentials only from the file named by ``NTLM_USER_FILE``; the middleware
writes the account as an smbpasswd line (NT hash, never the password) into a private temporary
file and points the variable at it only while a token is checked, under a process-wide lock, so
several sandboxes (and the caller's own setting) in one process do not see each other's accounts.

Connection state is keyed by the client's address and port. ASGI tells nothing when a connection
closes, so entries expire after ``idle_seconds`` (IIS's default connection timeout, 120 s) and the
table is bounded; a new connection reusing a closed one's port within that time would inherit
its state, a shortcut acceptable for a sandbox and documented here for that reason.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import shutil
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import spnego
import spnego.exceptions
from spnego._ntlm_raw.crypto import ntowfv1

__all__ = ["IisAuth", "WindowsAccount"]

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]
AsgiApp = Callable[[Scope, Receive, Send], Awaitable[None]]

_ENV_LOCK = threading.Lock()  # NTLM_USER_FILE is process-wide: one token check at a time
_DENIED = b"<h2>401 - Unauthorized: Access is denied due to invalid credentials.</h2>"
_MAX_CONNECTIONS = 4096
_PROTOCOLS = {"negotiate": "negotiate", "ntlm": "ntlm"}


@dataclass(frozen=True)
class WindowsAccount:
    """The Windows account IIS accepts: ``user`` may be ``DOMAIN\\user`` (the domain is optional
    in the client's token then, as a member server fills in its own domain)."""

    user: str
    password: str

    def __repr__(self) -> str:  # the password never shows
        return f"WindowsAccount(user={self.user!r})"


class _UserFile:
    """A private temporary smbpasswd-format file holding the account's NT hash."""

    def __init__(self, account: WindowsAccount) -> None:
        self.folder = tempfile.mkdtemp(prefix="ax-sandbox-auth-")
        self.path = os.path.join(self.folder, "users")
        domain, _, user = account.user.rpartition("\\")
        nt_hash = ntowfv1(account.password).hex().upper()
        # LM hash all zeros: LM responses never match, as on any Windows since Vista.
        names = [f"{domain}\\{user}", user] if domain else [user]
        lines = "".join(f"{name}:0:{'0' * 32}:{nt_hash}:[U]:LCT-00000000\n" for name in names)
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(lines)
        weakref.finalize(self, shutil.rmtree, self.folder, True)


@dataclass
class _Connection:
    scheme: str = ""
    context: Any = None  # pyspnego acceptor between the challenge and the answer
    principal: str | None = None  # set once the connection is authenticated
    seen: float = 0.0


def _step(user_file: _UserFile, scheme: str, context: Any, token: bytes) -> tuple[Any, bytes | None]:
    """Run one acceptor step with ``NTLM_USER_FILE`` pointing at this sandbox's account."""
    with _ENV_LOCK:
        before = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = user_file.path
        try:
            if context is None:
                context = spnego.server(protocol=_PROTOCOLS[scheme.lower()])
            return context, context.step(token)
        finally:
            if before is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = before


def _is_first_token(token: bytes) -> bool:
    """An NTLM NEGOTIATE_MESSAGE, or an SPNEGO NegTokenInit ([APPLICATION 0] = 0x60)."""
    return (token[:8] == b"NTLMSSP\x00" and token[8:12] == b"\x01\x00\x00\x00") or token[:1] == b"\x60"


class IisAuth:
    """ASGI middleware: IIS authentication for paths under ``protected_prefix`` (see module doc).

    ``windows`` enables the Negotiate and NTLM providers for one account, ``basic`` the Basic
    provider for a ``(user, password)`` pair (user compared case-insensitively, as Windows does).
    ``bypass()`` returning true lets a request through unauthenticated (a stopped application
    pool answers 503 before IIS authenticates anything).
    """

    def __init__(self, app: AsgiApp, *, protected_prefix: str, windows: WindowsAccount | None = None,
                 basic: tuple[str, str] | None = None, bypass: Callable[[], bool] = lambda: False,
                 idle_seconds: float = 120.0) -> None:
        self.app = app
        self.prefix = protected_prefix
        self.basic = basic
        self.bypass = bypass
        self.idle_seconds = idle_seconds
        self.schemes = ("Negotiate", "NTLM") if windows is not None else ()
        self._users = _UserFile(windows) if windows is not None else None
        self._connections: OrderedDict[tuple[Any, ...], _Connection] = OrderedDict()

    def _challenges(self) -> list[tuple[bytes, bytes]]:
        out = [(b"www-authenticate", s.encode()) for s in self.schemes]
        if self.basic is not None:
            out.append((b"www-authenticate", b'Basic realm="ax-sandbox"'))
        return out

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (scope["type"] != "http" or not scope["path"].startswith(self.prefix)
                or (self._users is None and self.basic is None) or self.bypass()):
            await self.app(scope, receive, send)
            return
        header = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), "")
        scheme, _, token = header.strip().partition(" ")
        key = (tuple(scope.get("client") or ()), tuple(scope.get("server") or ()))
        conn = self._connection(key)
        if scheme.lower() == "basic" and self.basic is not None:
            if self._basic_ok(token.strip()):
                await self.app(scope, receive, send)
            else:
                await self._deny(receive, send, self._challenges())
            return
        matched = next((s for s in self.schemes if s.lower() == scheme.lower()), None)
        if matched is None:
            if not header and conn is not None and conn.principal is not None:
                await self.app(scope, receive, send)  # connection-based authentication
            else:
                await self._deny(receive, send, self._challenges())
            return
        await self._windows(scope, receive, send, key, conn, matched, token.strip())

    async def _windows(self, scope: Scope, receive: Receive, send: Send, key: tuple[Any, ...],
                       conn: _Connection | None, scheme: str, token_b64: str) -> None:
        assert self._users is not None
        try:
            token = base64.b64decode(token_b64, validate=True)
        except (binascii.Error, ValueError):
            token = b""
        if not token:
            await self._deny(receive, send, self._challenges())
            return
        first = _is_first_token(token)
        if not first and (conn is None or conn.context is None or conn.scheme != scheme):
            # The answer to a challenge this connection never got: IIS has no context for it.
            self._forget(key)
            await self._deny(receive, send, self._challenges())
            return
        try:
            context, out = _step(self._users, scheme, None if first else conn.context, token)  # type: ignore[union-attr]
        except spnego.exceptions.SpnegoError:
            self._forget(key)  # wrong account, password or a broken token: start over
            await self._deny(receive, send, self._challenges())
            return
        if not context.complete:
            self._remember(key, _Connection(scheme=scheme, context=context, seen=time.monotonic()))
            challenge = scheme.encode() + b" " + base64.b64encode(out or b"")
            await self._deny(receive, send, [(b"www-authenticate", challenge)])
            return
        self._remember(key, _Connection(scheme=scheme, principal=context.client_principal, seen=time.monotonic()))
        if not out:
            await self.app(scope, receive, send)
            return
        final = (b"www-authenticate", scheme.encode() + b" " + base64.b64encode(out))

        async def send_with_token(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), final]}
            await send(message)

        await self.app(scope, receive, send_with_token)

    def _basic_ok(self, token: str) -> bool:
        assert self.basic is not None
        try:
            user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            return False
        want_user, want_password = self.basic
        return hmac.compare_digest(user.lower(), want_user.lower()) and hmac.compare_digest(password, want_password)

    def _connection(self, key: tuple[Any, ...]) -> _Connection | None:
        conn = self._connections.get(key)
        if conn is not None and time.monotonic() - conn.seen > self.idle_seconds:
            self._forget(key)
            return None
        if conn is not None:
            conn.seen = time.monotonic()
            self._connections.move_to_end(key)
        return conn

    def _remember(self, key: tuple[Any, ...], conn: _Connection) -> None:
        self._connections[key] = conn
        self._connections.move_to_end(key)
        while len(self._connections) > _MAX_CONNECTIONS:
            self._connections.popitem(last=False)

    def _forget(self, key: tuple[Any, ...]) -> None:
        self._connections.pop(key, None)

    @staticmethod
    async def _deny(receive: Receive, send: Send, headers: list[tuple[bytes, bytes]]) -> None:
        # Read the request body first: answering before it is consumed would make the server
        # close the connection, and an NTLM handshake needs the connection to stay open.
        while True:
            message = await receive()
            if message["type"] != "http.request" or not message.get("more_body"):
                break
        await send({"type": "http.response.start", "status": 401,
                    "headers": [(b"content-type", b"text/html"), *headers]})
        await send({"type": "http.response.body", "body": _DENIED})
