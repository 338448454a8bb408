"""Ordering of source versions (PrestaShop ``date_upd``, AX ``RecVersion``, counters)."""

from __future__ import annotations

__all__ = ["version_newer_or_equal"]


def version_newer_or_equal(new: str, old: str | None) -> bool:
    """True when ``new`` is not older than ``old``: numbers compare numerically, anything else
    (ISO dates such as ``2026-11-26 15:02:14``) as text, which orders them chronologically."""
    if old is None:
        return True
    try:
        return float(new) >= float(old)
    except ValueError:
        return new >= old
