"""When each poll trigger runs: its own ``every:``, capped by ``limits.poll_interval_s``.

A flow's ``poll`` trigger says how often its source is listed (``every: 30s``, ``2m``, ``1h``).
:func:`trigger_interval_s` turns that into seconds: the trigger's own interval, at most
``limits.poll_interval_s`` when that is set (the demo and tests set it low so that every poll
runs often), and ``limits.poll_interval_s`` or :data:`DEFAULT_INTERVAL_S` for a trigger without
``every:``.

:class:`Schedule` keeps, per job, the time it is next due (every job is due at once when the
schedule starts, so a restarted bridge catches up straight away); :func:`run_schedule` runs the
due jobs, one at a time in the order given, and sleeps until the next one is due or ``stop``
is set. A job is next due one interval after it finished, or, for a ``fixed_rate`` job, after
it started. The clock and the sleep are parameters, so the tests drive the schedule without waiting.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from connectors.errors import ConfigError

__all__ = ["DEFAULT_INTERVAL_S", "PollJob", "Schedule", "parse_every", "run_schedule", "trigger_interval_s"]

log = logging.getLogger("presta_ax.pollers")

#: the interval of a poll trigger without ``every:`` when ``limits.poll_interval_s`` is not set
DEFAULT_INTERVAL_S = 30.0

_EVERY = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_every(text: str) -> float:
    """Seconds of an ``every:`` value: a number and a unit (``500ms``, ``30s``, ``2m``, ``1h``,
    ``1d``). Raises :class:`ValueError` naming the accepted form for anything else or zero."""
    match = _EVERY.fullmatch(str(text))
    if match is None:
        raise ValueError(f"'{text}' is not an interval: write a number and a unit, e.g. 30s, 2m or 1h")
    seconds = float(match.group(1)) * _UNIT_S[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"'{text}' is not an interval: it must be more than zero")
    return seconds


def trigger_interval_s(every: str | None, cap_s: float | None, *, where: str = "a poll trigger") -> float:
    """Seconds between two polls of a trigger with ``every`` (``None``: not given) when
    ``limits.poll_interval_s`` is ``cap_s`` (``None``: not set). Raises :class:`ConfigError`
    naming ``where`` (the flow and trigger) for an ``every`` that is not an interval."""
    if every is None:
        return cap_s if cap_s is not None else DEFAULT_INTERVAL_S
    try:
        seconds = parse_every(every)
    except ValueError as exc:
        raise ConfigError(f"{where}: every: {exc}.") from None
    return min(seconds, cap_s) if cap_s is not None else seconds


@dataclass(frozen=True)
class PollJob:
    """One thing to run on a schedule: ``name`` (unique, for logs), its interval, the coroutine.
    ``fixed_rate``: next due one interval after the run *started* (a poll that promises to see a
    change within one interval), else one interval after it finished."""

    name: str
    interval_s: float
    run: Callable[[], Awaitable[object]]
    fixed_rate: bool = False


class Schedule:
    """The next due time of each job (epoch or monotonic seconds, whichever ``now`` is)."""

    def __init__(self, intervals: dict[str, float], now: float) -> None:
        self.intervals = dict(intervals)
        self.next_due = dict.fromkeys(intervals, now)

    def due(self, now: float) -> list[str]:
        """The jobs due at ``now``, in the order they were given."""
        return [name for name, at in self.next_due.items() if at <= now]

    def ran(self, name: str, now: float) -> None:
        """``name`` finished at ``now`` (successfully or not): next due one interval later."""
        self.next_due[name] = now + self.intervals[name]

    def wait_s(self, now: float) -> float:
        """Seconds until the next job is due (0 when one is due already)."""
        if not self.next_due:
            return float("inf")
        return max(0.0, min(self.next_due.values()) - now)


async def _wait_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def journaled(result: object) -> int:
    """How many messages a poll's result says it journaled: an ``int``, or a mapping of counts
    (a poll of several routes); anything else counts as none."""
    if isinstance(result, bool):
        return 0
    if isinstance(result, int):
        return result
    if isinstance(result, dict):
        return sum(v for v in result.values() if isinstance(v, int) and not isinstance(v, bool))
    return 0


async def run_schedule(jobs: Sequence[PollJob], stop: asyncio.Event, *,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[asyncio.Event, float], Awaitable[None]] = _wait_or_stop,
                       on_new: Callable[[], None] | None = None) -> None:
    """Run each job at its interval until ``stop`` is set. A job that raises is logged and
    runs again at its next due time (a poll keeps its cursor on failure, so nothing is lost).
    ``on_new`` is called after a job that journaled something (:func:`journaled`): the
    dispatcher's wake-up, so a polled change is nudged at once instead of at its next tick."""
    if not jobs:
        return
    by_name = {job.name: job for job in jobs}
    schedule = Schedule({job.name: job.interval_s for job in jobs}, clock())
    while not stop.is_set():
        for name in schedule.due(clock()):
            if stop.is_set():
                return
            started = clock()
            try:
                result = await by_name[name].run()
            except Exception as exc:  # noqa: BLE001 - the next interval retries from the same cursor
                log.warning("poll %s failed: %s", name, exc)
            else:
                if on_new is not None and journaled(result) > 0:
                    on_new()
            schedule.ran(name, started if by_name[name].fixed_rate else clock())
        await sleep(stop, schedule.wait_s(clock()))
