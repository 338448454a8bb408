"""Alerts: recorded in the store (the admin API lists them) and, when configured, posted to a
webhook (``alerting.webhook_url``: Slack-compatible incoming webhooks, Teams, an on-call tool).

An alert says what an operator must act on — credentials refused, a message sent to the
dead-letter queue, a target's circuit breaker opening (and closing again) — with ids and
reasons only, never payload values. Delivery is best effort:
a receiver that is down is logged and never fails the message being processed.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import httpx

from runtime.store import AsyncStore

__all__ = ["Alerter", "SEVERITIES", "circuit_alert"]

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


_SYSTEM_NAMES = {"prestashop": "the shop (PrestaShop)", "ax": "AX"}


def _pause(snapshot: dict[str, Any]) -> float:
    opened, probe = snapshot.get("opened_at"), snapshot.get("next_probe_at")
    if isinstance(opened, (int, float)) and isinstance(probe, (int, float)):
        return round(probe - opened, 1)
    return float(snapshot.get("cooldown_s") or 0)


def circuit_alert(change: str, snapshot: dict[str, Any], opened_at: float | None = None) -> tuple[str, str] | None:
    """``(severity, message)`` for a circuit breaker's transition (:mod:`runtime.breaker`), or
    ``None`` when it deserves no alert: ``opened`` is an error (a target stopped answering),
    ``closed`` after it an info (it is back); ``reopened`` after a failed probe says nothing new.
    The message names the error class and code of the last failure only, never its text;
    ``opened_at`` (the breaker's, before it closed) says how long the outage lasted."""
    name = _SYSTEM_NAMES.get(str(snapshot.get("system")), str(snapshot.get("system")))
    if change == "opened":
        last = snapshot.get("last_failure") or {}
        cause = f" (last: {last.get('type')}{', ' + str(last['code']) if last.get('code') else ''})" if last else ""
        return "error", (f"Circuit breaker of {name} opened after {snapshot.get('failures')} failures in a row"
                         f"{cause}: calls stop for {_pause(snapshot):g} s, then one probe checks it. "
                         f"Messages that need it wait (not dead) and resume when it answers again.")
    if change == "closed":
        took = f" after {time.time() - opened_at:.0f} s" if opened_at is not None else ""
        return "info", f"Circuit breaker of {name} closed{took}: a probe call succeeded, waiting messages resume."
    return None
