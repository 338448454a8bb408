"""Webservice error signals raised inside the sandbox and turned into responses by the app.

:class:`WsError` carries one or more ``(code, message)`` pairs and the HTTP status, rendered as
the ``<errors>`` body of reference §4.6 (or its JSON twin). :class:`PlainAnswer` is PrestaShop's
other failure style: a PHP ``die()`` that sends plain text, used by order creation (§8.1), PHP
fatals and PHP-notice faults. :class:`EmptyAnswer` is a status with no body (404 on a missing id).
"""

from __future__ import annotations

__all__ = ["EmptyAnswer", "PlainAnswer", "WsError", "did_you_mean"]


class WsError(Exception):
    """A webservice error: HTTP ``status`` and ``errors`` as ``[(code, message), ...]``."""

    def __init__(self, status: int, code: int, message: str, *more: tuple[int, str]) -> None:
        super().__init__(f"PrestaShop webservice error {code}: {message}")
        self.status = status
        self.errors: list[tuple[int, str]] = [(code, message), *more]


class PlainAnswer(Exception):
    """A non-XML answer (``die()`` text or a PHP fatal page) with its status and content type."""

    def __init__(self, status: int, body: str, content_type: str = "text/plain; charset=utf-8") -> None:
        super().__init__(body)
        self.status = status
        self.body = body
        self.content_type = content_type


class EmptyAnswer(Exception):
    """A status with an empty body (404 for a missing object, reference §6.5)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"empty answer with status {status}")
        self.status = status


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def did_you_mean(word: str, candidates: list[str] | tuple[str, ...]) -> str:
    """The candidate closest to ``word`` by edit distance (PrestaShop's suggestion)."""
    return min(candidates, key=lambda c: (_levenshtein(word, c), c)) if candidates else ""
