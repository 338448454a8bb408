"""Standard Webhooks signing and verification (https://www.standardwebhooks.com).

A signed webhook carries three headers:

* ``webhook-id``        a unique id of the event (the deduplication key),
* ``webhook-timestamp`` integer seconds since the epoch when it was sent,
* ``webhook-signature`` space-separated ``v1,<base64 HMAC-SHA256>`` entries.

The HMAC is computed over ``f"{id}.{timestamp}.{body}"`` with the secret's bytes. A secret is
written ``whsec_<base64>`` (the bytes are the base64-decoded part); a secret without that prefix
is used as raw UTF-8 bytes, so operators can also paste a plain random string.

Verification accepts any of several secrets (rotation) and any of several signatures in the
header, compares in constant time, and refuses timestamps further than ``tolerance`` seconds
from now in either direction (replay protection). It never includes a secret in an error.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import time
from collections.abc import Iterable, Mapping

__all__ = ["SignatureError", "sign", "signature_headers", "verify", "secret_bytes"]

DEFAULT_TOLERANCE_S = 300


class SignatureError(Exception):
    """The webhook's signature headers are missing, malformed, stale or do not match.

    ``reason`` is a short machine-readable word (``missing``, ``malformed``, ``stale``,
    ``mismatch``); the message is a sentence safe to return to the sender.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@functools.lru_cache(maxsize=64)  # verified on every webhook: decode each configured secret once
def secret_bytes(secret: str) -> bytes:
    """Decode a ``whsec_``-prefixed base64 secret, or take a plain secret as UTF-8."""
    if secret.startswith("whsec_"):
        try:
            return base64.b64decode(secret[len("whsec_"):], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("a webhook secret starting with 'whsec_' must be base64 after the prefix") from exc
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """Return the ``v1,<base64>`` signature of one message."""
    signed = msg_id.encode() + b"." + str(int(timestamp)).encode() + b"." + body
    digest = hmac.digest(secret_bytes(secret), signed, hashlib.sha256)  # one C call, no HMAC object
    return "v1," + base64.b64encode(digest).decode()


def signature_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three headers a sender adds to a webhook request."""
    ts = int(time.time()) if timestamp is None else int(timestamp)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign(secret, msg_id, ts, body),
    }


def verify(
    secrets: Iterable[str],
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: int = DEFAULT_TOLERANCE_S,
    now: float | None = None,
) -> str:
    """Check a webhook's signature and return its ``webhook-id``.

    ``headers`` must be case-insensitive or use lower-case names (Starlette's headers are).
    Raises :class:`SignatureError` when a header is missing or malformed, the timestamp is
    outside ``tolerance``, or no signature matches any secret.
    """
    msg_id = headers.get("webhook-id")
    ts_raw = headers.get("webhook-timestamp")
    sig_raw = headers.get("webhook-signature")
    missing = [n for n, v in (("webhook-id", msg_id), ("webhook-timestamp", ts_raw),
                              ("webhook-signature", sig_raw)) if not v]
    if missing:
        raise SignatureError("missing", f"Missing signature header(s): {', '.join(missing)}.")
    assert msg_id is not None and ts_raw is not None and sig_raw is not None
    try:
        ts = int(ts_raw)
    except ValueError:
        raise SignatureError("malformed", "Header webhook-timestamp must be integer seconds since the epoch.") from None
    current = time.time() if now is None else now
    if abs(current - ts) > tolerance:
        raise SignatureError(
            "stale", f"Header webhook-timestamp is more than {tolerance} s away from the server's clock."
        )
    offered = []
    for part in sig_raw.split():
        version, _, value = part.partition(",")
        if version == "v1" and value:
            offered.append(value.encode())
    if not offered:
        raise SignatureError("malformed", "Header webhook-signature holds no 'v1,<base64>' signature.")
    for secret in secrets:
        expected = sign(secret, msg_id, ts, body)[3:].encode()
        for candidate in offered:
            if hmac.compare_digest(expected, candidate):
                return msg_id
    raise SignatureError("mismatch", "The webhook signature does not match any configured secret.")
