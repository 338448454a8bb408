"""Alerts: recorded in the store (the admin API lists them) and, when configured, posted to a
webhook (``alerting.webhook_url``: Slack-compatible incoming webhooks, Teams, an on-call tool).

An alert says what an operator must act on — credentials refused, a message sent to the
dead-letter queue — with ids and reasons only, never payload values. Delivery is best effort:
a receiver that is down is logged and never fails the message being processed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from runtime.store import AsyncStore

__all__ = ["Alerter", "SEVERITIES"]

log = logging.getLogger("presta_ax.alerts")

SEVERITIES = ("info", "warning", "error")


class Alerter:
    """``await alerter.alert(severity, source, message)``: store it; post it when severe enough."""

    def __init__(self, store: AsyncStore, webhook_url: str | None = None, min_severity: str = "error",
                 timeout_s: float = 5.0) -> None:
        self.store = store
        self.webhook_url = webhook_url
        self.min_rank = SEVERITIES.index(min_severity)
        self.timeout_s = timeout_s
        self.delivered = 0

    async def alert(self, severity: str, source: str, message: str) -> None:
        await self.store.add_alert(severity, source, message)
        if not self.webhook_url or SEVERITIES.index(severity) < self.min_rank:
            return
        body: dict[str, Any] = {"severity": severity, "source": source, "message": message, "at": time.time(),
                                "text": f"[presta-ax {severity}] {source}: {message}"}
        try:
            async with httpx.AsyncClient(timeout=self.timeout_s) as client:
                r = await client.post(self.webhook_url, json=body)
            if r.status_code >= 400:
                log.warning("alert webhook answered %s", r.status_code)
            else:
                self.delivered += 1
        except httpx.HTTPError as exc:
            log.warning("alert webhook unreachable (%s)", type(exc).__name__)
