"""Bounded per-key windows kept as plain JSON-able dicts (the store keeps them as they are).

A window is ``{"w": [values in arrival order], "s": [the same values sorted]}``: pushing a
value appends it, drops the oldest beyond ``size`` and keeps ``s`` sorted with :mod:`bisect`,
so the median and the maximum are O(1) reads and a push is O(size) on a list of at most a few
dozen floats -- far cheaper than re-sorting or any frame library on the hot path.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from typing import Any

__all__ = ["count", "maximum", "median", "new_window", "push"]


def new_window() -> dict[str, Any]:
    return {"w": [], "s": []}


def push(window: dict[str, Any], value: float, size: int) -> None:
    """Add ``value``; the oldest value leaves once the window holds ``size`` values."""
    w: list[float] = window["w"]
    s: list[float] = window["s"]
    w.append(value)
    insort(s, value)
    if len(w) > size:
        old = w.pop(0)
        del s[bisect_left(s, old)]


def median(window: dict[str, Any]) -> float:
    s = window["s"]
    n = len(s)
    return float(s[n // 2]) if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2.0


def maximum(window: dict[str, Any]) -> float:
    return float(window["s"][-1])


def count(window: dict[str, Any] | None) -> int:
    return len(window["w"]) if window else 0
