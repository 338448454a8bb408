"""The shop's writes, gated by the shared limiter at the HTTP level; AX's calls, gated per call.

:class:`PermitTransport` wraps the httpx transport of the bulk tasks' PrestaShop client: each
write request (``POST``/``PUT``/``PATCH``/``DELETE``, also when sent as ``POST`` +
``ps_method``) holds one permit of the target's :class:`~pipelines.bulk.limiter.Permits` while
it is in flight; reads (the look-ups before a write) pass freely. So the budget counts exactly
the writes the target serves at once, and the limiter sees each write's own latency and its
429/503 answers (with ``Retry-After``), not the whole record's.

:func:`gated_ax_client` is an AX client whose every SOAP call (``getKeys``/``findKeys`` pages, a
``read`` of many keys, ...) holds one permit of AX's limiter for the length of the call: the AOS
serialises per worker, so the reads of all tasks of an ax-to-ps run share one budget
(``--ax-concurrency``). Gated per call, not per HTTP request: a call's Windows-auth handshake
legs must stay on its own lane's connection (:class:`connectors.dynamics_ax.soap.Lanes`). A
ps-to-ax run gates AX per write operation instead (:mod:`pipelines.bulk.task`); the two are
never combined (a call inside a gated operation would wait for a second permit of the same
budget).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from connectors.errors import TransientError
from pipelines.bulk.limiter import Permits

__all__ = ["GatedAxSoap", "PermitTransport", "gated_ax_client", "gated_transport"]

_WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class PermitTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, permits: Permits) -> None:
        self.inner, self.permits = inner, permits

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method.upper() not in _WRITES:
            return await self.inner.handle_async_request(request)
        async with self.permits.slot() as report:
            try:
                response = await self.inner.handle_async_request(request)
            except httpx.TimeoutException:
                report["outcome"] = "overload"
                raise
            if response.status_code in (429, 503):
                report["outcome"] = "overload"
                try:
                    report["retry_after"] = float(response.headers.get("Retry-After", ""))
                except ValueError:
                    report["retry_after"] = None
            elif response.status_code >= 500:
                report["outcome"] = "error"
            # the body is read inside the permit: the write is over when its answer is in
            await response.aread()
            return response

    async def aclose(self) -> None:
        await self.permits.close()  # a finished task must not be granted permits it would never give back
        await self.inner.aclose()


def gated_transport(config: object, permits: Permits) -> PermitTransport:
    """An httpx transport with ``config``'s connection limits and TLS setting, gated by ``permits``."""
    size = int(getattr(config, "max_connections", 16))
    inner = httpx.AsyncHTTPTransport(verify=bool(getattr(config, "verify_tls", True)),
                                     limits=httpx.Limits(max_connections=size, max_keepalive_connections=size))
    return PermitTransport(inner, permits)


class GatedAxSoap:
    """An :class:`~connectors.dynamics_ax.soap.AxSoapClient` whose :meth:`call` holds a permit;
    everything else is the wrapped client's."""

    def __init__(self, inner: Any, permits: Permits, solo: Callable[[], bool] | None = None) -> None:
        self._inner, self._permits, self._solo = inner, permits, solo
        self.permits_taken = 0  # calls made with a permit (the rest went solo)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def call(self, service: str, operation: str, **kwargs: Any) -> Any:
        if self._solo is not None and self._solo():
            # the only caller of the budget yet, one call at a time: within any budget without a
            # permit, and without waiting for the limiter actor to start (gated_ax_client)
            return await self._inner.call(service, operation, **kwargs)
        self.permits_taken += 1
        async with self._permits.slot() as report:
            try:
                return await self._inner.call(service, operation, **kwargs)
            except TransientError as exc:
                if exc.unavailable or exc.retry_after is not None:  # AX (or IIS) says it is overloaded
                    report["outcome"], report["retry_after"] = "overload", exc.retry_after
                raise

    async def aclose(self) -> None:
        await self._permits.close()  # a finished task must not be granted permits it would never give back
        await self._inner.aclose()


def gated_ax_client(config: Any, permits: Permits, solo: Callable[[], bool] | None = None) -> Any:
    """An AX :class:`~connectors.dynamics_ax.Client` for ``config`` whose SOAP calls hold a permit
    of ``permits`` each (module docstring).

    ``solo``: while it returns True, the client's calls take no permit. For the bulk driver's key
    listing before its first task is submitted: its calls come one at a time and nothing else
    calls AX in the run yet, so one call in flight keeps within any budget (at least 1), and a
    run whose listing finds nothing to do (a ``--changed`` re-sync of an unchanged catalog) never
    waits for the limiter actor to start. The caller must make ``solo`` False before anything
    else of the run calls AX, and only while none of this client's calls is in flight."""
    from connectors.dynamics_ax import Client

    client = Client(config)
    gated = GatedAxSoap(client.soap, permits, solo)
    client.soap = gated  # type: ignore[assignment]
    for document in client.documents.values():  # each document service calls through its own reference
        document.soap = gated
    return client
