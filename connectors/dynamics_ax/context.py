"""The CallContext SOAP header and deterministic MessageIds.

AX's duplicate-message check (EnableIdempotence, on by default for create, update and delete)
rejects a second message with a MessageId it has already processed. The bridge turns that into
exactly-once writes: every *logical* write gets a MessageId derived from what it is (company,
service, operation and the caller's idempotency key), so a retry after a timeout, a crash or a
redeploy sends the same id and AX refuses to apply it twice.

Ids are UUIDv5 in a namespace of their own, written the way .NET prints a GUID in braces
(``{5E0E1C1A-...}``), which is what AX clients send and what the AIF message log shows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

__all__ = ["CONTEXT_NS", "MESSAGE_ID_NAMESPACE", "CallContext", "message_id_for", "random_message_id"]

CONTEXT_NS = "http://schemas.microsoft.com/dynamics/2010/01/datacontracts"

#: Fixed namespace for the bridge's MessageIds; changing it would make retries of messages sent
#: by an older version look new to AX, so it never changes.
MESSAGE_ID_NAMESPACE = uuid.UUID("6f1d3c52-9a57-4c1b-8f0e-0d6b5a2e7c41")


def _braced(u: uuid.UUID) -> str:
    return "{" + str(u).upper() + "}"


def message_id_for(company: str, service: str, operation: str, idempotency_key: str) -> str:
    """The MessageId of one logical operation: the same inputs give the same id, always.

    ``company`` is compared case-insensitively (AX company ids are), the rest exactly. An empty
    ``idempotency_key`` is refused because it would make unrelated writes collide.
    """
    if not idempotency_key:
        raise ValueError("A write to AX needs a non-empty idempotency key to derive its MessageId.")
    name = "\x1f".join((company.lower(), service, operation, idempotency_key))
    return _braced(uuid.uuid5(MESSAGE_ID_NAMESPACE, name))


def random_message_id() -> str:
    """A fresh MessageId, for reads (AX does not check reads for duplicates)."""
    return _braced(uuid.uuid4())


@dataclass(frozen=True, slots=True)
class CallContext:
    """The values of the ``CallContext`` header of one call (all optional in the schema).

    ``as_header`` returns the element children in the schema's sequence (Company, Language,
    LogonAsUser, MessageId, PartitionKey); unset values are left out rather than sent as nil,
    which AX reads as "use the caller's default".
    """

    company: str | None = None
    language: str | None = None
    logon_as_user: str | None = None
    message_id: str | None = None
    partition_key: str | None = None

    def as_header(self) -> dict[str, str]:
        pairs = (
            ("Company", self.company),
            ("Language", self.language),
            ("LogonAsUser", self.logon_as_user),
            ("MessageId", self.message_id),
            ("PartitionKey", self.partition_key),
        )
        return {k: v for k, v in pairs if v}

    def with_message_id(self, message_id: str) -> CallContext:
        return CallContext(self.company, self.language, self.logon_as_user, message_id, self.partition_key)
