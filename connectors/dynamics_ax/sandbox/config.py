"""Settings of the AX 2012 sandbox (one emulated AOS behind one IIS enhanced HTTP port)."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["FaultSettings", "SandboxConfig"]


@dataclass
class FaultSettings:
    """Fault injection. Rates are probabilities per SOAP call drawn from the seeded RNG;
    ``*_next`` counters fail exactly the next N calls (deterministic, for tests)."""

    latency_ms: float = 0.0
    outage: bool = False  # IIS answers 503 (application pool stopped)
    deadlock_rate: float = 0.0  # AifFault XppExceptionType 2
    timeout_rate: float = 0.0  # AifFault XppExceptionType 15
    error_rate: float = 0.0  # HTTP 503 from IIS
    deadlock_next: int = 0
    timeout_next: int = 0
    error_next: int = 0
    # the AOS commits the next N create/update/delete calls (of ``commit_then_timeout_service``
    # when set), then the answer is lost: it is held ``commit_then_timeout_hold_s`` seconds, so
    # the client's read times out (a WCF sendTimeout / a proxy giving up after the commit)
    commit_then_timeout_next: int = 0
    commit_then_timeout_service: str = ""
    commit_then_timeout_hold_s: float = 30.0

    def update(self, values: dict[str, object]) -> list[str]:
        """Apply known keys from a JSON object; returns the unknown keys (not applied)."""
        unknown = []
        for key, value in values.items():
            if key not in self.__dataclass_fields__:
                unknown.append(key)
                continue
            current = getattr(self, key)
            setattr(self, key, type(current)(value))  # type: ignore[call-arg]
        return unknown


@dataclass
class SandboxConfig:
    """Everything the sandbox can be told at start.

    ``aif_port`` is the integration port name in the URL; ``company`` the default company
    (used when the CallContext names none) and ``extra_companies`` further data sets.
    ``seed`` makes the data and every random choice reproducible. ``workers`` models the
    IIS application pool (1 = default: calls are processed one at a time);
    ``max_message_size`` the WCF ``maxReceivedMessageSize`` (65536 by default).
    ``fulfilment_interval`` advances open orders one stage (pick, pack, invoice) every so many
    seconds, except the seeded ones (data from before the bridge, moved only stepwise); ``0``
    means only stepwise through ``/_sandbox/fulfilment/step``.
    ``criteria_mode``: ``query`` ANDs criteria on different fields and ORs on the same field
    (X++ query ranges); ``or`` ORs every criteria element (TechNet wording).
    """

    host: str = "127.0.0.1"
    port: int = 8082
    aif_port: str = "WebShop"
    company: str = "DAT"
    extra_companies: tuple[str, ...] = ()
    seed: int = 1
    items: int = 20
    variants: int = 0  # variants of every tenth seeded item (0: plain items only)
    customers: int = 10
    open_orders: int = 3
    include_exceptions_in_fault: bool = False
    validate_documents: bool = True
    workers: int = 1
    max_message_size: int = 65536
    max_string_content: int = 8192  # WCF readerQuotas maxStringContentLength
    fulfilment_interval: float = 0.0
    change_retention_seconds: float = 2 * 24 * 3600.0  # SQL Server change tracking default
    duplicate_window_seconds: float = 24 * 3600.0  # AIF response cache lifetime
    duplicate_response: str = "fault"  # or "cached": answer a duplicate with the first response
    criteria_mode: str = "query"
    default_page_size: int = 100
    tax_rate: str = "0.20"
    basic_auth: tuple[str, str] | None = None  # IIS Basic provider: (user, password)
    # IIS Windows authentication (providers Negotiate and NTLM): (``[DOMAIN\\]user``, password)
    windows_auth: tuple[str, str] | None = None
    faults: FaultSettings = field(default_factory=FaultSettings)

    def __repr__(self) -> str:  # never show the password
        auth = "+".join(n for n, v in (("windows", self.windows_auth), ("basic", self.basic_auth)) if v) or "off"
        return f"SandboxConfig(port={self.port}, aif_port={self.aif_port!r}, company={self.company!r}, auth={auth})"

    @property
    def companies(self) -> tuple[str, ...]:
        out = [self.company.upper()]
        out += [c.upper() for c in self.extra_companies if c.upper() not in out]
        return tuple(out)

    @property
    def service_path(self) -> str:
        return f"/MicrosoftDynamicsAXAif60/{self.aif_port}/xppservice.svc"
