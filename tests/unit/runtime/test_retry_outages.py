"""An unavailable system does not use up a message's attempts; a failing record still does."""

from __future__ import annotations

import random

import httpx
import pytest

from connectors.dynamics_ax.errors import error_for_http_status, error_for_network
from connectors.errors import TransientError, ValidationError
from connectors.prestashop.errors import error_from_response, transport_error
from runtime.retry import RetryPolicy

pytestmark = pytest.mark.unit

POLICY = RetryPolicy(base_s=1.0, cap_s=30.0, max_attempts=3, rng=random.Random(3))
AX = {"service": "SalesOrderService", "operation": "create"}


def test_outages_retry_past_the_attempt_limit_at_most_every_cap() -> None:
    down = TransientError("AX is down", unavailable=True)
    for attempt in (3, 8, 50):
        delay = POLICY.next_retry_in(attempt, down)
        assert delay is not None and 0 <= delay <= POLICY.cap_s
    assert POLICY.next_retry_in(3, TransientError("deadlock on this record")) is None  # counted
    assert POLICY.next_retry_in(50, ValidationError("bad email")) is None  # never retried


def test_the_connectors_mark_what_is_an_outage() -> None:
    assert error_for_network(httpx.ConnectError("refused"), **AX).unavailable  # type: ignore[attr-defined]
    assert error_for_http_status(503, **AX).unavailable  # type: ignore[attr-defined]
    assert transport_error(httpx.ReadTimeout("slow"), where="GET orders/5").unavailable
    shop_503 = error_from_response(503, {"retry-after": "4"}, b"", where="POST order_histories")
    assert isinstance(shop_503, TransientError) and shop_503.unavailable and shop_503.retry_after == 4
    # a shop error about this record (a webservice error code) is not an outage, even on a 5xx
    coded = error_from_response(
        500, {"content-type": "text/xml"},
        b'<?xml version="1.0"?><prestashop><errors><error><code><![CDATA[85]]></code>'
        b"<message><![CDATA[Validation error]]></message></error></errors></prestashop>",
        where="PUT customers/5")
    assert not getattr(coded, "unavailable", False)
