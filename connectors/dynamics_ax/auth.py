"""Windows authentication (NTLM / Negotiate) to IIS as an httpx auth flow, on pyspnego.

AX 2012 HTTP ports run in IIS with ``TransportCredentialOnly`` + Windows credentials, so every
call is authenticated by an HTTP ``WWW-Authenticate: NTLM|Negotiate`` handshake:

1. the request goes out with the client's first token (NTLM type 1 / SPNEGO init) right away,
   which saves the anonymous round trip a 401-first flow would cost;
2. IIS answers 401 with its challenge; the flow feeds it to the security context and resends
   the request with the answer (NTLM type 3);
3. IIS answers the real response; with Negotiate it may carry a final token for mutual auth,
   which is passed to the context so a forged server is noticed.

The handshake is connection-bound (NTLM authenticates the TCP connection): every leg must use
the same connection. A shared httpx pool does not guarantee that under concurrency, so the SOAP
client sends each call through a one-connection "lane" (:class:`connectors.dynamics_ax.soap.Lanes`).
If the connection is lost between legs anyway (IIS closed it), IIS answers the last leg with a
bare ``401 NTLM`` and the flow starts a fresh handshake once more (:attr:`SpnegoAuth.max_handshakes`).

IIS authenticates the *connection*: once a handshake succeeded, later requests on the same
connection pass without ``Authorization`` (NTLM always; Kerberos with IIS's default
``authPersistNonNTLM``). A flow made for one connection (:meth:`SpnegoAuth.for_connection`, one
per lane) therefore sends the next request bare while the connection is likely still open (last
use less than :attr:`SpnegoAuth.reuse_seconds` ago, below httpx's and IIS's keep-alive limits),
which saves a round trip and a second copy of the SOAP body per call; a ``401`` to a bare request
(the connection was replaced, or the server wants a handshake per request) falls back to the
handshake at once.
Credentials live only in the security context; ``repr`` shows the user name, never the password.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Generator
from urllib.parse import urlsplit

import httpx
import spnego

from connectors.dynamics_ax.config import AuthConfig
from connectors.errors import AuthError, ConfigError

__all__ = ["SpnegoAuth", "build_auth"]


class SpnegoAuth(httpx.Auth):
    """httpx auth flow for ``NTLM`` or ``Negotiate`` (Kerberos with NTLM fallback) against IIS.

    Works with both the sync client (WSDL loading) and the async client (operations): the flow
    does no I/O of its own. Raises :class:`AuthError` when IIS still answers 401 after the
    handshake, i.e. when the credentials were refused.
    """

    requires_response_body = False

    def __init__(self, username: str, password: str, *, protocol: str = "ntlm", service: str = "HTTP") -> None:
        if protocol not in ("ntlm", "negotiate"):
            raise ConfigError(f"Unknown Windows authentication protocol '{protocol}': use 'ntlm' or 'negotiate'.")
        self._username = username
        self._password = password
        self._protocol = protocol
        self._service = service
        self._scheme = "NTLM" if protocol == "ntlm" else "Negotiate"
        self._per_connection = False
        self._authenticated_at: float | None = None

    def for_connection(self) -> SpnegoAuth:
        """A copy that may reuse an authenticated connection (see module docstring); give each
        one-connection client its own, never share one between connections."""
        twin = SpnegoAuth(self._username, self._password, protocol=self._protocol, service=self._service)
        twin._per_connection = True
        return twin

    def __repr__(self) -> str:
        return f"SpnegoAuth(username={self._username!r}, protocol={self._protocol!r})"

    def _server_token(self, response: httpx.Response) -> bytes | None:
        """The token of our scheme in ``WWW-Authenticate`` (IIS may list several schemes)."""
        for value in response.headers.get_list("www-authenticate"):
            for part in value.split(","):
                scheme, _, token = part.strip().partition(" ")
                if scheme.lower() == self._scheme.lower() and token.strip():
                    return base64.b64decode(token.strip())
        return None

    #: fresh handshakes tried when IIS lost the context (the legs went over different connections).
    #: Kept at 2: a wrong password looks the same to the client, and each try counts towards the
    #: domain's account-lockout threshold.
    max_handshakes = 2
    #: how long after its last use a connection is taken to be still open and authenticated
    #: (httpx closes idle connections after 5 s, IIS after 120 s).
    reuse_seconds = 4.0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        host = urlsplit(str(request.url)).hostname or "localhost"
        last = self._authenticated_at
        if self._per_connection and last is not None and time.monotonic() - last < self.reuse_seconds:
            request.headers.pop("Authorization", None)
            response = yield request
            if response.status_code != 401:
                self._authenticated_at = time.monotonic()
                return
        self._authenticated_at = None
        for _ in range(self.max_handshakes):
            ctx = spnego.client(self._username, self._password, hostname=host, service=self._service,
                                protocol=self._protocol)
            response = yield self._with_token(request, ctx.step())
            legs = 0
            # NTLM needs one more leg, Kerberos none, SPNEGO-wrapped NTLM one more.
            while response.status_code == 401 and legs < 3:
                token = self._server_token(response)
                if token is None or ctx.complete:
                    break
                try:
                    out = ctx.step(token)
                except spnego.exceptions.SpnegoError as exc:
                    raise AuthError(
                        f"Windows authentication to {host} failed while answering the server's challenge "
                        f"({type(exc).__name__}).", system="ax", code="unauthorized") from None
                if not out:
                    break
                legs += 1
                response = yield self._with_token(request, out)
            if response.status_code != 401:
                token = self._server_token(response)
                if token and not ctx.complete:
                    ctx.step(token)  # mutual authentication: a bad server token raises here
                if ctx.complete:
                    self._authenticated_at = time.monotonic()
                return
            if legs == 0:
                return  # refused before any challenge: a handshake again would not help
        # Leaving with the 401 lets the caller map it through the fault table (AuthError).

    def _with_token(self, request: httpx.Request, token: bytes | None) -> httpx.Request:
        request.headers["Authorization"] = f"{self._scheme} {base64.b64encode(token or b'').decode()}"
        return request


def build_auth(cfg: AuthConfig) -> httpx.Auth | None:
    """The httpx auth for a config: :class:`SpnegoAuth`, ``httpx.BasicAuth`` or ``None``."""
    if cfg.mode == "none":
        return None
    principal = cfg.principal or ""
    password = cfg.password.get_secret_value() if cfg.password is not None else ""
    if cfg.mode == "basic":
        return httpx.BasicAuth(principal, password)
    return SpnegoAuth(principal, password, protocol=cfg.mode)
