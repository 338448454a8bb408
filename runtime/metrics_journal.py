"""The metrics only the journal knows, rendered for the ``/metrics`` route by ``prometheus_client``.

The counters of the processes (webhooks, attempts, calls; :mod:`runtime.metrics`) go through
Ray's metrics agent; these gauges are read from the store at scrape time, so any replica answers
for the whole journal and a restart loses nothing:

* ``presta_ax_messages{entity,status}`` — messages in the journal;
* ``presta_ax_dead_letters{entity}`` — the dead-letter queue's size;
* ``presta_ax_oldest_pending_age_seconds{entity}`` — age of the oldest message not yet finished
  (new, processing, retry): a growing value means a record or a target is stuck;
* ``presta_ax_poll_cursor_age_seconds{cursor}`` — time since each poll cursor last moved (the
  poller's lag: a poll stores its cursor only after journaling everything it listed);
* ``presta_ax_webhook_duplicate_mismatches_total`` — reused webhook ids with a different body
  (this replica's count).

One scrape costs three small grouped queries (the pending set is small in a healthy bridge).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = ["JournalSnapshot", "journal_snapshot", "render", "CONTENT_TYPE", "JOURNAL_METRICS"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

#: the names this module exports (the dashboard test checks its queries against them)
JOURNAL_METRICS = ("presta_ax_messages", "presta_ax_dead_letters", "presta_ax_oldest_pending_age_seconds",
                   "presta_ax_poll_cursor_age_seconds", "presta_ax_webhook_duplicate_mismatches_total")

_PENDING = ("new", "processing", "retry")


@dataclass
class JournalSnapshot:
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    oldest_pending: dict[str, float] = field(default_factory=dict)  # entity -> received_at
    cursors: dict[str, float] = field(default_factory=dict)  # cursor name -> updated_at
    taken_at: float = 0.0


def journal_snapshot(store: Any) -> JournalSnapshot:
    """Read the figures from a (sync) :class:`runtime.store.Store`; blocking: run it off the loop."""
    snap = JournalSnapshot(counts=store.counts(), taken_at=time.time())
    backend = store.backend
    with backend.read() as cur:
        cur.execute("SELECT entity, MIN(received_at) FROM messages WHERE status IN (?, ?, ?) GROUP BY entity",
                    _PENDING)
        snap.oldest_pending = {str(e): float(t) for e, t in cur.fetchall() if t is not None}
        cur.execute("SELECT name, updated_at FROM poll_cursors")
        snap.cursors = {str(n): float(t) for n, t in cur.fetchall() if t is not None}
    return snap


class _Journal(Collector):
    def __init__(self, snap: JournalSnapshot, mismatches: int) -> None:
        self.snap = snap
        self.mismatches = mismatches

    def collect(self) -> Any:
        snap = self.snap
        messages = GaugeMetricFamily("presta_ax_messages", "Messages in the journal by entity and status.",
                                     labels=["entity", "status"])
        dead = GaugeMetricFamily("presta_ax_dead_letters", "Messages in the dead-letter queue, by entity.",
                                 labels=["entity"])
        for entity, by_status in sorted(snap.counts.items()):
            for status, n in sorted(by_status.items()):
                messages.add_metric([entity, status], n)
            dead.add_metric([entity], by_status.get("dead", 0))
        yield messages
        yield dead
        oldest = GaugeMetricFamily("presta_ax_oldest_pending_age_seconds",
                                   "Age of the oldest unfinished message (new, processing, retry), by entity.",
                                   labels=["entity"])
        for entity, at in sorted(snap.oldest_pending.items()):
            oldest.add_metric([entity], max(0.0, snap.taken_at - at))
        yield oldest
        cursors = GaugeMetricFamily("presta_ax_poll_cursor_age_seconds",
                                    "Seconds since each poll cursor last moved (the poller's lag).",
                                    labels=["cursor"])
        for name, at in sorted(snap.cursors.items()):
            cursors.add_metric([name], max(0.0, snap.taken_at - at))
        yield cursors
        yield CounterMetricFamily("presta_ax_webhook_duplicate_mismatches",
                                  "Webhooks whose id was reused with a different body (answered as duplicates, "
                                  "the new body not journaled; see the original message's timeline).",
                                  value=self.mismatches)


def render(snap: JournalSnapshot, duplicate_mismatches: int = 0) -> bytes:
    """The Prometheus text exposition of ``snap``."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Journal(snap, duplicate_mismatches))
    return generate_latest(registry)
