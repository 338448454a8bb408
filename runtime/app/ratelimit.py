"""Failed-login limiting for the admin API: after ``max_failures`` wrong tokens from one client
address within ``window_s`` seconds, that address gets ``429`` with ``Retry-After`` until its
oldest failure leaves the window.

The address is what the app sees (``request.client``). Behind Serve's HAProxy every client is
127.0.0.1 unless ``X-Forwarded-For`` says otherwise, and the replicas' uvicorn trusts that header
from 127.0.0.1, so a client can choose the address it is counted under. Two bounds hold whatever
the addresses: all addresses together may fail at most ``global_factor * max_failures`` times per
window (beyond that every login attempt waits), and at most ``max_addresses`` addresses are
tracked (the oldest are forgotten), so spoofed addresses cannot grow memory. State is per replica
and in memory: a restart forgets it, N replicas allow N times the failures.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict, deque
from collections.abc import Callable

__all__ = ["AuthFailures"]


class AuthFailures:
    """Sliding-window counts of failed logins per client address, plus one across all addresses.

    ``retry_after(address)`` is ``None`` while the address may try, else the whole seconds to wait;
    ``failed(address)`` records a failure. Not thread-safe: one event loop per replica uses it.
    """

    def __init__(self, max_failures: int = 10, window_s: float = 60.0, *, global_factor: int = 10,
                 max_addresses: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1 or window_s <= 0:
            raise ValueError("max_failures must be at least 1 and window_s positive")
        self.max_failures = max_failures
        self.window_s = window_s
        self.global_max = max_failures * global_factor
        self.max_addresses = max_addresses
        self._clock = clock
        self._by_address: OrderedDict[str, deque[float]] = OrderedDict()
        self._all: deque[float] = deque()

    def _trim(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_s:
            times.popleft()

    def _wait(self, times: deque[float], limit: int, now: float) -> int | None:
        self._trim(times, now)
        if len(times) < limit:
            return None
        # the attempt is allowed again when enough of the oldest failures have left the window
        return max(1, math.ceil(times[len(times) - limit] + self.window_s - now))

    def retry_after(self, address: str) -> int | None:
        now = self._clock()
        waits = [self._wait(self._all, self.global_max, now)]
        times = self._by_address.get(address)
        if times is not None:
            waits.append(self._wait(times, self.max_failures, now))
            if not times:
                del self._by_address[address]
        found = [w for w in waits if w is not None]
        return max(found) if found else None

    def failed(self, address: str) -> None:
        now = self._clock()
        self._all.append(now)
        times = self._by_address.pop(address, None) or deque()
        times.append(now)
        if len(times) > self.max_failures:  # only the newest max_failures decide the wait
            times.popleft()
        self._by_address[address] = times  # most recent last
        while len(self._by_address) > self.max_addresses:
            self._by_address.popitem(last=False)
        # a burst cannot grow the global deque beyond what the window needs
        while len(self._all) > self.global_max:
            self._all.popleft()
