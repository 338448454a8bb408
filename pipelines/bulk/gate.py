"""The shop's writes, gated by the shared limiter at the HTTP level.

:class:`PermitTransport` wraps the httpx transport of the bulk tasks' PrestaShop client: each
write request (``POST``/``PUT``/``PATCH``/``DELETE``, also when sent as ``POST`` +
``ps_method``) holds one permit of the target's :class:`~pipelines.bulk.limiter.Permits` while
it is in flight; reads (the look-ups before a write) pass freely. So the budget counts exactly
the writes the target serves at once, and the limiter sees each write's own latency and its
429/503 answers (with ``Retry-After``), not the whole record's.
"""

from __future__ import annotations

import httpx

from pipelines.bulk.limiter import Permits

__all__ = ["PermitTransport", "gated_transport"]

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
