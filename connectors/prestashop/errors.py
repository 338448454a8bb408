"""PrestaShop webservice errors -> the bridge's error classes, through ONE table.

Resolution order for a failed answer:

1. a PrestaShop error code found in the body (``<errors><error><code>``) that is listed in
   :data:`CODE_TABLE` decides the class (the *last* error's code wins, as PrestaShop sets the
   status from the last error raised);
2. otherwise the HTTP status in :data:`STATUS_TABLE`;
3. otherwise 4xx -> :class:`PermanentError`, 5xx -> :class:`TransientError`.

``Retry-After`` (seconds or an HTTP date) is honoured for every transient error. A 500 whose body
is HTML or plain text (a PHP notice or fatal error in production mode) is transient by default
and its message carries the body's first line, cut to 200 characters. Messages never contain
the key, the query string or request data.
"""

from __future__ import annotations

import email.utils
import re
import time

from connectors.errors import (
    AuthError,
    BridgeError,
    ConfigError,
    DuplicateError,
    NotFoundError,
    PermanentError,
    TransientError,
    ValidationError,
    make_error,
)

from .codec import decode_errors

__all__ = [
    "CODE_TABLE",
    "STATUS_TABLE",
    "error_from_response",
    "parse_retry_after",
    "plain_text_write_error",
    "transport_error",
]

ErrorClass = type[BridgeError]

#: HTTP status -> (class, what it means for the user)
STATUS_TABLE: dict[int, tuple[ErrorClass, str]] = {
    400: (ValidationError, "the shop refused the request as invalid"),
    401: (AuthError, "the shop refused the webservice key; check the key and its permissions"),
    403: (AuthError, "the webservice key is not allowed on this shop"),
    404: (NotFoundError, "the record does not exist"),
    405: (PermanentError, "this method is not allowed on this resource for this key"),
    413: (PermanentError, "the request body is larger than the shop accepts"),
    429: (TransientError, "the shop (or its host) is rate limiting"),
    500: (TransientError, "the shop failed with an internal error"),
    501: (PermanentError, "the shop has no handler for this resource"),
    502: (TransientError, "a proxy in front of the shop failed"),
    503: (TransientError, "the shop is unavailable"),
    504: (TransientError, "a proxy in front of the shop timed out"),
}

#: statuses that say the shop as a whole takes no work now (with no webservice error code)
_UNAVAILABLE_STATUSES = frozenset({429, 502, 503, 504})

#: PrestaShop error code -> class. Codes not listed fall back to the status.
CODE_TABLE: dict[int, ErrorClass] = {
    **{code: TransientError for code in range(2, 16)},  # PHP warnings/notices turned into errors
    16: AuthError, 17: AuthError, 18: AuthError, 20: AuthError, 21: AuthError, 26: AuthError,
    22: ConfigError,  # webservice disabled in the back office
    23: PermanentError, 25: PermanentError, 101: PermanentError,  # method not valid / not granted / forbidden
    27: PermanentError, 28: PermanentError,  # unknown resource, bad schema value: a bug in the request
    **{code: PermanentError for code in (29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 78, 79, 80, 81, 128)},
    41: ValidationError, 84: ValidationError, 85: ValidationError, 86: ValidationError,
    89: ValidationError, 90: ValidationError, 91: ValidationError, 93: ValidationError,
    123: ValidationError, 133: ValidationError, 134: ValidationError, 135: ValidationError,
    46: PermanentError, 88: PermanentError, 127: PermanentError,
    87: NotFoundError, 92: NotFoundError, 131: NotFoundError,
    132: AuthError,
    140: DuplicateError, 141: DuplicateError,  # customer e-mail already used
    999: ConfigError,  # id_shop / id_shop_group does not exist
}

# Codes whose PrestaShop message may echo request data: replaced by a fixed sentence.
_REDACTED_CODES = {127: "the request body is not valid XML"}

# Plain-text answers of validateOrder (HTTP 200): the order for this cart already exists.
_ALREADY_ORDERED = re.compile(r"order has already been placed", re.I)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta seconds or HTTP date); ``None`` if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def _first_line(body: bytes) -> str:
    text = body.decode("utf-8", "replace")
    text = re.sub(r"<[^>]*>", " ", text)  # strip HTML tags of PHP error pages
    for line in text.splitlines():
        line = " ".join(line.split())
        if line:
            return line[:200]
    return ""


def error_from_response(
    status: int, headers: dict[str, str] | None, body: bytes, *, where: str
) -> BridgeError:
    """Build the bridge error for a failed webservice answer.

    ``where`` is a safe description of the request (``"GET customers/5"``): never the full URL,
    which may carry the key. ``headers`` may be any mapping with lower-case access.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    errors = decode_errors(body, hdrs.get("content-type", ""))
    retry_after = parse_retry_after(hdrs.get("retry-after"))
    code = errors[-1][0] if errors else None

    cls: ErrorClass
    if code is not None and code in CODE_TABLE:
        cls = CODE_TABLE[code]
    elif status in STATUS_TABLE:
        cls = STATUS_TABLE[status][0]
    else:
        cls = PermanentError if 400 <= status < 500 else TransientError
    meaning = STATUS_TABLE.get(status, (cls, "the shop answered with an error"))[1]

    if errors:
        details = "; ".join(
            f"error {c}: {_REDACTED_CODES.get(c or 0, m)}" if c is not None else m for c, m in errors
        )
        message = f"PrestaShop answered {where} with HTTP {status} ({meaning}): {details}."
    elif status == 404:
        message = f"PrestaShop answered {where} with HTTP 404: the record does not exist."
    else:
        line = _first_line(body)
        message = f"PrestaShop answered {where} with HTTP {status} ({meaning})" + (f": {line}" if line else "")
        message = message if message.endswith(".") else message + "."
    if cls is TransientError and retry_after is not None:
        message += f" Retry after {retry_after:g} s."

    # the shop (or its host) takes no work now, whatever the record: an outage, not a bad record
    unavailable = code is None and status in _UNAVAILABLE_STATUSES
    return make_error(cls, message, system="prestashop", code=code, retry_after=retry_after,
                      unavailable=unavailable)


def plain_text_write_error(body: bytes, *, where: str) -> BridgeError:
    """A write answered 2xx with a non-XML body: PrestaShop's ``validateOrder`` died with a message.

    "an order has already been placed using this cart" becomes a :class:`DuplicateError` (look
    the order up by cart); anything else is permanent: the same request would fail again.
    """
    line = _first_line(body) or "an empty body"
    if _ALREADY_ORDERED.search(line):
        return DuplicateError(f"PrestaShop answered {where} with: {line}", system="prestashop")
    return PermanentError(f"PrestaShop answered {where} with a plain-text failure: {line}", system="prestashop")


def transport_error(exc: Exception, *, where: str) -> TransientError:
    """A network failure (connect, read, timeout) talking to the shop: always transient."""
    kind = type(exc).__name__
    return TransientError(f"Could not complete {where} with the shop: {kind} (network).", system="prestashop",
                          unavailable=True)
