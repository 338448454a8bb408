"""Circuit breakers per target system: the state machine, what counts as a failure, the error.

One breaker per configured target (``prestashop``, ``ax``), shared by every process that calls
it (the state lives in a small detached Ray actor per target, :mod:`runtime.breaker_actor`; each
process reads it through a cached view, :mod:`runtime.breaker_board`). This module is the plain
part, testable without Ray::

    closed --(failure_threshold counted failures in a row)--> open
    open   --(cooldown_s passed, or the target's Retry-After; the next caller gets the one probe)--> half_open
    half_open --(the probe succeeds)--> closed
    half_open --(the probe fails)--> open (a new cool-down)

Contract of :class:`CircuitBreaker`:

* :meth:`~CircuitBreaker.acquire` says what a caller may do now: ``"call"`` (closed),
  ``"probe"`` with a probe id (the one half-open call; a probe not reported within
  ``probe_timeout_s`` is given to the next caller) or ``"wait"`` (open, or another probe runs);
* :meth:`~CircuitBreaker.record` takes a call's outcome: ``True`` (the system answered, also
  with a business or validation error), ``False`` (a failure that counts, see
  :func:`counts_as_failure`) or ``None`` (inconclusive: the probe never reached the system).
  Only the probe's own outcome leaves ``half_open``; a success while closed ends the run of
  failures; outcomes of calls that started before the breaker opened change nothing but the
  failure count shown;
* :meth:`~CircuitBreaker.snapshot` is a JSON-safe view (health, caches in other processes).

Times are wall-clock seconds (``time.time``): they travel to other processes and into the
journal as a message's next-attempt time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.errors import TransientError

__all__ = ["BreakerPolicy", "CircuitBreaker", "CircuitOpenError", "counts_as_failure", "failure_info",
           "SYSTEMS"]

#: the target systems that have a breaker
SYSTEMS = ("prestashop", "ax")

_NAMES = {"prestashop": "the shop (PrestaShop)", "ax": "AX"}


@dataclass(frozen=True)
class BreakerPolicy:
    """``failure_threshold`` counted failures in a row open the breaker for ``cooldown_s``; a
    half-open probe that has not reported after ``probe_timeout_s`` is handed to another caller."""

    failure_threshold: int = 5
    cooldown_s: float = 30.0
    probe_timeout_s: float = 60.0

    def __post_init__(self) -> None:
        if self.failure_threshold < 1 or self.cooldown_s <= 0 or self.probe_timeout_s <= 0:
            raise ValueError("A breaker needs failure_threshold >= 1 and positive cooldown_s and probe_timeout_s.")


def counts_as_failure(exc: BaseException | None) -> bool:
    """Whether a call's error says the system as a whole failed: a connection refused or reset,
    a timeout, HTTP 429 or 5xx (the connectors mark these ``TransientError.unavailable`` in their
    one error table), or a bare ``TimeoutError``/``ConnectionError``. Business, validation,
    not-found, duplicate and auth errors prove the system answered: they do not count."""
    if exc is None:
        return False
    if isinstance(exc, CircuitOpenError):
        return False  # refused here, the system was not called
    if isinstance(exc, TransientError):
        return bool(exc.unavailable)
    return isinstance(exc, (TimeoutError, ConnectionError))


def failure_info(exc: BaseException) -> dict[str, Any]:
    """What a breaker keeps of a failure: the error's class and code (never its text, which may
    name a host; never a payload value), and the target's ``Retry-After`` in seconds when it sent one."""
    code = getattr(exc, "code", None)
    info: dict[str, Any] = {"type": type(exc).__name__, "code": code if isinstance(code, (str, int)) else None}
    retry_after = getattr(exc, "retry_after", None)
    if isinstance(retry_after, (int, float)):
        info["retry_after"] = float(retry_after)
    return info


class CircuitOpenError(TransientError):
    """A call refused because the target's breaker is open (or its one probe is running).

    ``retry_at`` (wall clock) is when the message should be tried again; the runtime puts the
    message back to wait until then without using up one of its attempts."""

    def __init__(self, system: str, retry_at: float, snapshot: dict[str, Any] | None = None) -> None:
        snap = snapshot or {}
        state = "half-open (a probe is checking it)" if snap.get("state") == "half_open" else "open"
        failures = snap.get("failures")
        why = f" after {failures} failures in a row" if failures else ""
        at = time.strftime("%H:%M:%S UTC", time.gmtime(retry_at))
        super().__init__(f"The circuit breaker of {_NAMES.get(system, system)} is {state}{why}; the message "
                         f"waits and is tried again at {at}.", system=system, code="circuit_open",
                         retry_after=max(0.0, retry_at - time.time()), unavailable=True)
        self.retry_at = retry_at


class CircuitBreaker:
    """The state machine of one target's breaker (module docstring). Not thread-safe: one owner
    (the breaker actor's event loop, or one process's loop)."""

    def __init__(self, system: str, policy: BreakerPolicy | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.system = system
        self.policy = policy or BreakerPolicy()
        self.clock = clock
        self.state = "closed"
        #: counted failures in a row (reset by a success while closed, or by the closing probe)
        self.failures = 0
        self.opened_at: float | None = None
        self.next_probe_at: float | None = None
        self.probe_id = 0
        self.probe_started_at: float | None = None
        self.last_failure: dict[str, Any] | None = None
        #: how often it opened (from closed) since this breaker was made
        self.opens = 0

    def acquire(self) -> tuple[str, int | None]:
        """``("call", None)``, ``("probe", probe_id)`` or ``("wait", None)``; see the module docstring."""
        if self.state == "closed":
            return "call", None
        now = self.clock()
        if self.state == "open":
            if self.next_probe_at is not None and now < self.next_probe_at:
                return "wait", None
            self.state = "half_open"
        elif self.probe_started_at is not None and now - self.probe_started_at < self.policy.probe_timeout_s:
            return "wait", None  # half-open, its probe still running
        self.probe_id += 1
        self.probe_started_at = now
        return "probe", self.probe_id

    def record(self, ok: bool | None, probe_id: int | None = None,
               failure: dict[str, Any] | None = None) -> str | None:
        """Take one call's outcome; returns the transition it caused (``"opened"``, ``"reopened"``,
        ``"closed"``) or ``None``."""
        now = self.clock()
        if probe_id is not None and self.state == "half_open" and probe_id == self.probe_id:
            self.probe_started_at = None
            if ok is None:
                return None  # the probe did not reach the system: the next caller probes
            if ok:
                self.state, self.failures, self.opened_at, self.next_probe_at = "closed", 0, None, None
                return "closed"
            self.failures += 1
            self.last_failure = failure
            self._open(now, failure)
            return "reopened"
        if ok is None:
            return None
        if ok:
            if self.state == "closed":
                self.failures = 0
            return None
        self.failures += 1
        self.last_failure = failure
        if self.state == "closed" and self.failures >= self.policy.failure_threshold:
            self.opens += 1
            self._open(now, failure)
            return "opened"
        return None

    def _open(self, now: float, failure: dict[str, Any] | None) -> None:
        """Open for ``cooldown_s``, or for what the target asked in the last failure's
        ``Retry-After`` (a 429/503 storm that says "2 s" is probed after 2 s, one that says
        "10 min" is left alone that long), never less than a second nor more than an hour."""
        retry_after = (failure or {}).get("retry_after")
        wait = self.policy.cooldown_s if retry_after is None else min(max(float(retry_after), 1.0), 3600.0)
        self.state = "open"
        self.opened_at = now
        self.next_probe_at = now + wait

    def snapshot(self) -> dict[str, Any]:
        """The state as JSON: ``system``, ``state``, ``failures``, ``opened_at``, ``next_probe_at``
        (when the next probe may go; ``None`` while closed), ``probe_started_at`` (half-open),
        ``last_failure`` (class and code), ``opens``, ``failure_threshold``, ``cooldown_s``."""
        return {"system": self.system, "state": self.state, "failures": self.failures,
                "opened_at": self.opened_at, "next_probe_at": self.next_probe_at,
                "probe_started_at": self.probe_started_at if self.state == "half_open" else None,
                "last_failure": self.last_failure, "opens": self.opens,
                "failure_threshold": self.policy.failure_threshold, "cooldown_s": self.policy.cooldown_s}
