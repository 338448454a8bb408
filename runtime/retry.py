"""Retry policy: exponential backoff with full jitter, a cap and a maximum number of attempts.

``delay(n)`` for the n-th failed attempt (1-based) is uniform in ``[0, min(cap, base * 2**(n-1))]``
("full jitter": spreads retries of many messages that failed together). A ``retry_after`` from
the target (HTTP 429/503 ``Retry-After``) replaces the jittered delay but still respects the cap.

An error that says the target system as a whole is unreachable (``TransientError.unavailable``:
network failure, HTTP 502/503/504 or 429, a stopped IIS application pool) does not count against
``max_attempts``: the message keeps retrying with the same backoff (at most every ``cap_s``)
until the system is back. An outage of AX or the shop is no reason to dead-letter the orders
that arrived during it; a record that keeps failing on its own still ends in the queue.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from connectors.errors import TransientError, classify

__all__ = ["RetryPolicy"]


@dataclass(frozen=True)
class RetryPolicy:
    base_s: float = 1.0
    cap_s: float = 300.0
    max_attempts: int = 8
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.cap_s, self.base_s * (2 ** max(0, attempt - 1)))
        return self.rng.uniform(0.0, ceiling)

    def next_retry_in(self, attempt: int, exc: BaseException) -> float | None:
        """Seconds until the next attempt, or ``None`` when the message must go to the dead-letter queue.

        Permanent errors (and unknown exceptions: bugs) are dead at once; transient ones retry
        until ``max_attempts`` attempts have been made, except while the target system is
        unavailable (module docstring): then they retry as long as it takes. Auth errors retry
        at the cap: an operator must fix the credentials, and the message must not be lost
        meanwhile.
        """
        disposition = classify(exc)
        if disposition == "dead":
            return None
        if attempt >= self.max_attempts and not _system_unavailable(exc):
            return None
        if disposition == "stop":
            return self.cap_s
        retry_after = getattr(exc, "retry_after", None) if isinstance(exc, TransientError) else None
        if retry_after is not None:
            return min(self.cap_s, max(0.0, float(retry_after)))
        return self.delay(attempt)


def _system_unavailable(exc: BaseException) -> bool:
    return isinstance(exc, TransientError) and bool(getattr(exc, "unavailable", False))
