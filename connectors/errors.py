"""The one error hierarchy of the bridge.

Every error the bridge raises on purpose is a :class:`BridgeError`. The branch an
error belongs to tells the runtime what to do with the message that caused it::

    BridgeError
    +-- ConfigError          the configuration or a flow file is wrong: fix it, nothing is retried
    +-- PermanentError       this record cannot be processed as it is: dead-letter at once
    |   +-- MappingError     a mapping could not produce a value (unmapped lookup, bad type)
    |   +-- ValidationError  the target would refuse the record (required field, length, validator)
    |   +-- NotFoundError    the record (or something it references) does not exist
    +-- TransientError       try again later (network, 5xx, 429, AX deadlock); may carry retry_after
    +-- AuthError            credentials refused: stop calling that system and alert
    +-- DuplicateError       the effect already happened (AX duplicate message): resolve, do not fail

Connectors map their protocol errors (HTTP statuses, AX fault types) onto these classes
through one table each; the dispatcher only ever looks at the class. Messages are full
sentences a user can act on and never carry secrets or personal data.

This module lives in ``connectors`` because imports run ``runtime -> pipelines -> connectors``:
it is the lowest layer every other one may import.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BridgeError",
    "ConfigError",
    "DuplicateError",
    "MappingError",
    "NotFoundError",
    "PermanentError",
    "TransientError",
    "ValidationError",
    "classify",
    "closed_connection",
    "make_error",
]


class BridgeError(Exception):
    """Root of every error the bridge raises on purpose.

    ``system`` names the system involved (``prestashop``, ``ax``, ``store``...), ``code`` a
    machine-readable code from that system when there is one (PrestaShop error code, AX fault
    type). Both are optional and safe to log.
    """

    #: how the dispatcher treats the error: "retry", "dead", "stop" or "resolve"
    disposition: str = "dead"

    def __init__(self, message: str, *, system: str | None = None, code: str | int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.system = system
        self.code = code

    def to_dict(self) -> dict[str, object]:
        """A JSON-safe description for the journal and the admin API."""
        out: dict[str, object] = {"type": type(self).__name__, "message": self.message}
        if self.system is not None:
            out["system"] = self.system
        if self.code is not None:
            out["code"] = self.code
        return out


class ConfigError(BridgeError):
    """The configuration (or a flow/mapping file) is invalid. ``problems`` lists each one."""

    disposition = "stop"

    def __init__(self, message: str, problems: list[str] | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.problems = list(problems or [])


class PermanentError(BridgeError):
    """Retrying will not help: the message goes to the dead-letter queue with this reason."""

    disposition = "dead"


class MappingError(PermanentError):
    """A mapping could not produce a target value (unmapped lookup value, impossible conversion)."""


class ValidationError(PermanentError):
    """The record breaks a rule of the target (required field, length, validator, enum)."""


class NotFoundError(PermanentError):
    """The record, or a record it references, does not exist in the system asked."""


class TransientError(BridgeError):
    """A passing failure: retry with backoff. ``retry_after`` (seconds) overrides the backoff.

    ``unavailable`` marks a failure of the system as a whole, not of the record: it could not
    be reached (network), or refused all work for now (HTTP 502/503/504, 429, a stopped IIS
    application pool). The runtime does not count those against a message's attempts limit:
    an outage must not fill the dead-letter queue."""

    disposition = "retry"

    def __init__(self, message: str, *, retry_after: float | None = None, unavailable: bool = False,
                 **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after
        self.unavailable = unavailable


class AuthError(BridgeError):
    """Credentials were refused: retrying with the same credentials cannot succeed; alert an operator."""

    disposition = "stop"


class DuplicateError(BridgeError):
    """The effect already happened (e.g. AX answered "Duplicate message"): look the result up."""

    disposition = "resolve"

    def __init__(self, message: str, *, existing: object = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.existing = existing


def make_error(
    cls: type[BridgeError],
    message: str,
    *,
    system: str | None = None,
    code: str | int | None = None,
    retry_after: float | None = None,
    unavailable: bool = False,
) -> BridgeError:
    """Instantiate the class a connector's mapping table chose for a failure.

    Every connector ends its one table lookup the same way: build ``cls`` with the message, the
    system and the code, and hand ``retry_after`` (seconds) and ``unavailable`` only to
    :class:`TransientError` and its subclasses, the only branch that carries them; for any other
    class they are ignored.
    """
    if issubclass(cls, TransientError):
        return cls(message, system=system, code=code, retry_after=retry_after, unavailable=unavailable)
    return cls(message, system=system, code=code)


def classify(exc: BaseException) -> str:
    """Return the disposition of any exception: bridge errors say theirs; anything else is a bug
    in a flow or a library and is treated as permanent, so a poison message cannot loop forever."""
    if isinstance(exc, BridgeError):
        return exc.disposition
    if isinstance(exc, (TimeoutError, ConnectionError)):
        return "retry"
    return "dead"


def closed_connection(exc: BaseException) -> bool:
    """Whether ``exc`` is the HTTP stack tripping over a connection the peer (or a proxy) cut
    while it was in use: the asyncio transport is gone, so asking it for its socket gives
    ``None`` and httpcore/anyio raise ``AttributeError`` (``'NoneType' object has no attribute
    'getpeername'``) instead of a network error. Seen under cut connections in the chaos
    campaign; the connectors treat it as the network failure it is."""
    if not isinstance(exc, AttributeError):
        return False
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    module = tb.tb_frame.f_globals.get("__name__", "") if tb is not None else ""
    return str(module).split(".")[0] in ("httpcore", "anyio", "httpx")
