"""Fault injection: what a real shop and its hosting do to clients on a bad day.

A :class:`Faults` value is part of the sandbox config and can be replaced at run time through
``/_sandbox/faults``. :class:`FaultInjector` decides, per API request, what happens before the
webservice runs:

* ``outage_s``: every request answers 503 (an HTML maintenance page) until the window ends;
* ``max_concurrency``: requests beyond that many in flight answer 503 at once (a full PHP-FPM pool);
* ``rate_limit_rps``: a token bucket; beyond it 429 with ``Retry-After`` (a WAF/host limit,
  PrestaShop's core has none);
* ``error_rate``: that fraction of requests answers 500 with an HTML error page;
* ``php_notice_rate``: that fraction answers 500 with a PHP notice turned into webservice error
  code 8 (XML, production mode) or, with ``php_notice_style="html"``, the raw notice page;
* ``latency_ms`` / ``latency_jitter_ms`` / ``latency_distribution``: added delay per request;
* ``unavailable_next`` / ``throttled_next``: the next N requests answer 503 / 429 with
  ``Retry-After: retry_after_s`` (deterministic, for tests; 503 first);
* ``write_latency_ms`` + ``write_latency_per_1000_ms`` x (products in the catalog / 1,000): delay
  added to each write (POST/PUT/PATCH/DELETE), so writes slow down as the catalog grows, as on a
  real shop; ``write_max_concurrency``: writes beyond that many in flight answer 503 with
  ``Retry-After`` at once (reads are not counted). These three ignore ``only_*`` below;
* ``only_methods`` / ``only_resources``: faults apply only to requests with these methods / on
  these resources (empty: every request), e.g. a storm on the writes of ``order_histories``.

:attr:`FaultInjector.requests` is the request log the sandbox serves at ``/_sandbox/requests``:
per API request its arrival (``t``, seconds of a monotonic clock), ``method``, ``resource``,
``path``, a digest of its body (``body_sha1``: the same write sent again has the same digest),
and what the injector answered (``status``, ``retry_after``; ``None`` when it was served).

Random draws come from a generator seeded at construction, so a run with the same seed and the
same request sequence injects the same faults.
"""

from __future__ import annotations

import hashlib
import random
import time
from collections import deque
from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["Faults", "FaultInjector", "FaultDecision", "WRITE_METHODS"]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class Faults(BaseModel):
    """Fault settings (all off by default). Probabilities are in [0, 1]."""

    model_config = {"extra": "forbid"}

    latency_ms: float = Field(default=0.0, ge=0, description="mean added latency per request")
    latency_jitter_ms: float = Field(default=0.0, ge=0, description="spread of the latency")
    latency_distribution: Literal["fixed", "uniform", "exponential", "normal"] = "uniform"
    error_rate: float = Field(default=0.0, ge=0, le=1, description="fraction answered 500 (HTML page)")
    php_notice_rate: float = Field(default=0.0, ge=0, le=1, description="fraction answered 500 from a PHP notice")
    php_notice_style: Literal["xml", "html"] = "xml"
    outage_s: float = Field(default=0.0, ge=0, description="answer 503 for this many seconds from now")
    rate_limit_rps: float = Field(default=0.0, ge=0, description="token bucket rate; 0 disables")
    rate_limit_burst: int = Field(default=10, ge=1)
    retry_after_s: int = Field(default=1, ge=0, description="Retry-After sent with 429 and 503")
    max_concurrency: int = Field(default=0, ge=0, description="in-flight cap answered 503 beyond; 0 disables")
    unavailable_next: int = Field(default=0, ge=0, description="answer the next N requests 503 + Retry-After")
    throttled_next: int = Field(default=0, ge=0, description="answer the next N requests 429 + Retry-After")
    write_latency_ms: float = Field(default=0.0, ge=0, description="latency added to each write")
    write_latency_per_1000_ms: float = Field(default=0.0, ge=0,
                                             description="extra write latency per 1,000 products in the catalog")
    write_max_concurrency: int = Field(default=0, ge=0, description="writes in flight beyond this answer 503; 0 disables")
    only_methods: list[str] = Field(default_factory=list, description="faults apply to these methods only")
    only_resources: list[str] = Field(default_factory=list, description="faults apply to these resources only")


class FaultDecision:
    """What to do with one request: ``status`` None means serve it normally."""

    __slots__ = ("status", "body", "content_type", "headers", "delay_s", "notice_xml")

    def __init__(self) -> None:
        self.status: int | None = None
        self.body = ""
        self.content_type = "text/html; charset=utf-8"
        self.headers: dict[str, str] = {}
        self.delay_s = 0.0
        self.notice_xml = False


_OUTAGE_PAGE = ("<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head><body>\n"
                "<h1>Service Unavailable</h1>\n<p>The server is temporarily unable to service your request due "
                "to maintenance downtime or capacity problems. Please try again later.</p>\n</body></html>\n")
_ERROR_PAGE = ("<!DOCTYPE html>\n<html><head><title>500 Internal Server Error</title></head><body>\n"
               "<h1>Internal Server Error</h1>\n<p>The server encountered an internal error or misconfiguration "
               "and was unable to complete your request.</p>\n</body></html>\n")
PHP_NOTICE_TEXT = "[PHP Notice #8] Undefined index: id_shop (modules/examplemodule/examplemodule.php, line 214)"
_NOTICE_PAGE = ("<br />\n<b>Notice</b>:  Undefined index: id_shop in <b>modules/examplemodule/examplemodule.php</b>"
                " on line <b>214</b><br />\n")


class FaultInjector:
    """Applies :class:`Faults` to incoming requests; keep one per app (it tracks concurrency)."""

    #: how many requests the log keeps (the oldest go first)
    LOG_SIZE = 10_000

    def __init__(self, faults: Faults, seed: int = 0) -> None:
        self.rng = random.Random(seed)
        self.in_flight = 0
        #: writes being served now (``write_max_concurrency``); the app counts them
        self.writes_in_flight = 0
        #: the number of products in the catalog (``write_latency_per_1000_ms``); the app sets it
        self.catalog_size: Callable[[], int] = lambda: 0
        self.requests: deque[dict[str, Any]] = deque(maxlen=self.LOG_SIZE)
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        """Replace the settings; an outage window starts now."""
        self.faults = faults
        self.outage_until = time.monotonic() + faults.outage_s if faults.outage_s else 0.0
        self._tokens = float(faults.rate_limit_burst)
        self._last = time.monotonic()

    def _delay(self) -> float:
        f = self.faults
        if f.latency_ms <= 0 and f.latency_jitter_ms <= 0:
            return 0.0
        if f.latency_distribution == "fixed":
            ms = f.latency_ms
        elif f.latency_distribution == "exponential":
            ms = self.rng.expovariate(1.0 / f.latency_ms) if f.latency_ms > 0 else 0.0
        elif f.latency_distribution == "normal":
            ms = self.rng.gauss(f.latency_ms, f.latency_jitter_ms)
        else:
            ms = f.latency_ms + self.rng.uniform(-f.latency_jitter_ms, f.latency_jitter_ms)
        return max(ms, 0.0) / 1000.0

    def decide(self, method: str = "", path: str = "", body: bytes = b"") -> FaultDecision:
        """Decide the fate of one request (call once per request) and log it; ``path`` is the
        API path without ``/api/`` (``order_histories``, ``orders/5``)."""
        d = self._decide(method.upper(), path.split("/", 1)[0])
        self.requests.append({
            "t": time.monotonic(), "method": method.upper(), "resource": path.split("/", 1)[0], "path": path,
            "body_sha1": hashlib.sha1(body).hexdigest() if body else None, "status": d.status,
            "retry_after": d.headers.get("Retry-After")})
        return d

    def _decide(self, method: str, resource: str) -> FaultDecision:
        d = self._decide_any(method, resource)
        f = self.faults
        if method in WRITE_METHODS and d.status is None:
            if f.write_max_concurrency and self.writes_in_flight >= f.write_max_concurrency:
                d.status, d.body, d.delay_s = 503, _OUTAGE_PAGE, 0.0
                d.headers["Retry-After"] = str(f.retry_after_s)
            elif f.write_latency_ms or f.write_latency_per_1000_ms:
                d.delay_s += (f.write_latency_ms + f.write_latency_per_1000_ms * self.catalog_size() / 1000) / 1000
        return d

    def _decide_any(self, method: str, resource: str) -> FaultDecision:
        f, d = self.faults, FaultDecision()
        if (f.only_methods and method not in {m.upper() for m in f.only_methods}) or \
                (f.only_resources and resource not in f.only_resources):
            return d
        now = time.monotonic()
        if f.unavailable_next or f.throttled_next:
            if f.unavailable_next:
                f.unavailable_next -= 1
                d.status, d.body = 503, _OUTAGE_PAGE
            else:
                f.throttled_next -= 1
                d.status, d.body = 429, "Too Many Requests\n"
                d.content_type = "text/plain; charset=utf-8"
            d.headers["Retry-After"] = str(f.retry_after_s)
            return d
        if self.outage_until and now < self.outage_until:
            d.status, d.body = 503, _OUTAGE_PAGE
            d.headers["Retry-After"] = str(max(1, int(self.outage_until - now + 0.999)))
            return d
        if f.max_concurrency and self.in_flight >= f.max_concurrency:
            d.status, d.body = 503, _OUTAGE_PAGE
            d.headers["Retry-After"] = str(f.retry_after_s)
            return d
        if f.rate_limit_rps:
            self._tokens = min(float(f.rate_limit_burst), self._tokens + (now - self._last) * f.rate_limit_rps)
            self._last = now
            if self._tokens < 1.0:
                d.status, d.body = 429, "Too Many Requests\n"
                d.content_type = "text/plain; charset=utf-8"
                d.headers["Retry-After"] = str(max(f.retry_after_s, int((1.0 - self._tokens) / f.rate_limit_rps + 0.999)))
                return d
            self._tokens -= 1.0
        d.delay_s = self._delay()
        if f.error_rate and self.rng.random() < f.error_rate:
            d.status, d.body = 500, _ERROR_PAGE
            return d
        if f.php_notice_rate and self.rng.random() < f.php_notice_rate:
            d.status = 500
            if f.php_notice_style == "xml":
                d.notice_xml = True
            else:
                d.body = _NOTICE_PAGE
        return d
