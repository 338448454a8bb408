"""The HTTP layer of the PrestaShop client: pooling, auth, ``ps_method``, retries, tracing, errors.

:class:`Transport` sends one webservice request and turns every failure into a bridge error
through :mod:`.errors`. It knows nothing of resources or records; :class:`~.client.Client`
builds on it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from connectors.errors import BridgeError, TransientError, closed_connection

from .config import ClientConfig
from .errors import error_from_response, transport_error

__all__ = ["Transport"]

_RETRYABLE = frozenset({"GET", "HEAD", "PUT", "PATCH"})
QueryItems = list[tuple[str, str | int | float | bool | None]]
_WS_KEY_RE = re.compile(r"(ws_key=)[^&#\s\"']*", re.IGNORECASE)


class _RedactWsKey(logging.Filter):
    """Masks ``ws_key=...`` in httpx's log lines.

    httpx logs every request at INFO with its full URL (``HTTP Request: GET https://shop/api/
    customers?ws_key=KEY ...``), and hosts such as Ray workers keep INFO logs: with
    ``key_in_query`` the webservice key would end up in log files.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(_redact(arg) for arg in record.args)
        if isinstance(record.msg, str) and "ws_key=" in record.msg.lower():
            record.msg = _WS_KEY_RE.sub(r"\1***", record.msg)
        return True


def _redact(arg: object) -> object:
    text = str(arg) if isinstance(arg, (httpx.URL, str)) else None
    if text is not None and "ws_key=" in text.lower():
        return _WS_KEY_RE.sub(r"\1***", text)
    return arg


_REDACTOR = _RedactWsKey()


def _install_log_redaction() -> None:
    """Add the redacting filter to httpx's loggers once (idempotent: a filter is added only once)."""
    for name in ("httpx", "httpcore"):
        logger = logging.getLogger(name)
        if _REDACTOR not in logger.filters:
            logger.addFilter(_REDACTOR)


class Transport:
    """One pooled, keep-alive ``httpx.AsyncClient`` bound to a shop's API root.

    The key goes as the Basic-auth user with an empty password, or as ``ws_key`` in the query
    (``key_in_query``). ``transport`` replaces the network for tests and embedding.
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.config = config
        auth = None if config.key_in_query else httpx.BasicAuth(config.api_key.get_secret_value(), "")
        if config.key_in_query:
            _install_log_redaction()
        self._http = httpx.AsyncClient(
            base_url=config.base_url,
            auth=auth,
            transport=transport,
            verify=config.verify_tls,
            timeout=httpx.Timeout(
                connect=config.connect_timeout, read=config.read_timeout,
                write=config.write_timeout, pool=config.pool_timeout,
            ),
            limits=httpx.Limits(
                max_connections=config.max_connections, max_keepalive_connections=config.max_connections
            ),
            headers={"User-Agent": config.user_agent},
        )
        self._tracer = trace.get_tracer("connectors.prestashop", tracer_provider=tracer_provider)
        self._host = urlsplit(config.base_url).hostname or ""
        self._port = urlsplit(config.base_url).port or (443 if config.base_url.startswith("https") else 80)
        #: the ``PSWS-Version`` header of the last authenticated answer (``8.2.0``)
        self.psws_version: str | None = None

    def __repr__(self) -> str:  # never the key
        return f"Transport(base_url={self.config.base_url!r})"

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        content: bytes | None = None,
        json_output: bool = False,
    ) -> httpx.Response:
        """Send one request and return the answer, or raise the mapped bridge error.

        ``path`` is relative to the API root (``customers/5``). With ``ps_method_override``
        PUT, PATCH and DELETE travel as POST + ``ps_method``. With ``max_retries`` > 0, GET,
        HEAD, PUT and PATCH are retried on :class:`TransientError`, waiting ``Retry-After``
        when the shop sends one, else an exponential backoff with jitter; POST and DELETE are
        never retried here (not idempotent), the runtime decides for them.
        """
        attempt = 0
        while True:
            try:
                return await self._send(method, path, params, content, json_output)
            except TransientError as exc:
                if attempt >= self.config.max_retries or method not in _RETRYABLE:
                    raise
                cap = min(self.config.retry_backoff_max_s, self.config.retry_backoff_s * 2**attempt)
                delay = exc.retry_after if exc.retry_after is not None else random.uniform(cap / 2, cap)
                attempt += 1
                await asyncio.sleep(min(delay, self.config.retry_backoff_max_s))

    async def _send(
        self, method: str, path: str, params: Sequence[tuple[str, str]], content: bytes | None, json_output: bool
    ) -> httpx.Response:
        where = f"{method} {path or '/'}"
        query: QueryItems = list(params)
        query.extend(self.config.common_params().items())
        if json_output:
            query.append(("output_format", "JSON"))
        real_method = method
        if self.config.ps_method_override and method in ("PUT", "PATCH", "DELETE"):
            real_method = "POST"
            query.append(("ps_method", method))
        headers = {"Content-Type": "text/xml; charset=utf-8"} if content is not None else None
        resource = path.split("/", 1)[0] or "/"
        # One CLIENT span per request, named by resource (not id) to keep cardinality low. Only
        # method, resource, path, status and error class/code are recorded: never the query
        # string (it may carry ws_key) nor bodies (personal data).
        with self._tracer.start_as_current_span(
            f"prestashop {method} {resource}", kind=SpanKind.CLIENT,
            attributes={"http.request.method": method, "server.address": self._host, "server.port": self._port,
                        "url.path": f"/api/{path}", "prestashop.resource": resource},
        ) as span:
            try:
                response = await self._http.request(real_method, path, params=query, content=content, headers=headers)
            except (httpx.TransportError, AttributeError) as exc:
                if isinstance(exc, AttributeError) and not closed_connection(exc):
                    raise
                error: BridgeError = transport_error(exc, where=where)
                span.set_status(Status(StatusCode.ERROR, f"{type(error).__name__} ({type(exc).__name__})"))
                raise error from None
            span.set_attribute("http.response.status_code", response.status_code)
            version = response.headers.get("psws-version")
            if version:
                self.psws_version = version
            if response.status_code >= 400:
                error = error_from_response(response.status_code, dict(response.headers), response.content, where=where)
                if error.code is not None:
                    span.set_attribute("prestashop.error_code", str(error.code))
                span.set_status(Status(StatusCode.ERROR, type(error).__name__))
                raise error
            return response
