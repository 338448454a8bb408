"""AX faults, HTTP statuses and network failures mapped onto the bridge's error classes.

Everything that can go wrong on a call to an AX 2012 AIF HTTP port goes through ONE table,
:data:`FAULT_TABLE`. Each row names a situation, how to recognise it (an ``XppExceptionType``, a
piece of fault text, an HTTP status or a network failure) and which class of
:mod:`connectors.errors` it becomes, with advice for the operator where the fix is known.
The first matching row wins, so the specific rows come before the catch-all ones.

The decoded fault is kept as an :class:`AifFaultInfo` (every ``FaultMessage`` with its code,
field and XPath, every infolog line, the exception type) and its text is put into the error
message, because "what exactly did AX refuse" is what an operator needs in the dead-letter queue.
The ``code`` of every raised error is the row's name (``deadlock``, ``hash_mismatch``...), which
lets :mod:`connectors.dynamics_ax.client` react to the two cases it handles itself: a hash
mismatch (re-read and retry once) and a duplicate message (look the result up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

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

__all__ = [
    "FAULT_NS",
    "FAULT_TABLE",
    "AifFaultInfo",
    "AlreadyDeliveredError",
    "FaultMessage",
    "FaultRule",
    "GENERIC_FAULT_TEXT",
    "error_for_fault",
    "error_for_http_status",
    "error_for_network",
    "parse_aif_fault",
]

FAULT_NS = "http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"
GENERIC_FAULT_TEXT = "Request Failed. See the Exception Log for details."

# X++ Exception enum ordinals (reference §7.2; 2, 3, 13 and 15 confirmed, the rest inferred).
XPP_DEADLOCK = 2
XPP_ERROR = 3
XPP_UPDATE_CONFLICT = 11
XPP_UPDATE_CONFLICT_NOT_RECOVERED = 12
XPP_DUPLICATE_KEY = 13
XPP_DUPLICATE_KEY_NOT_RECOVERED = 14
XPP_TIMEOUT = 15


@dataclass(frozen=True, slots=True)
class FaultMessage:
    """One entry of ``FaultMessageListArray``: a code and text, with where in the document it applies."""

    code: str | None
    message: str | None
    field: str | None = None
    xpath: str | None = None
    document: str | None = None


@dataclass(frozen=True, slots=True)
class AifFaultInfo:
    """What a SOAP fault from AX said: the faultstring, the AifFault detail and the HTTP status."""

    faultstring: str
    messages: tuple[FaultMessage, ...] = ()
    infolog: tuple[tuple[str, str], ...] = ()  # (InfologMessageType, Message)
    xpp_exception_type: int | None = None
    http_status: int | None = None

    def texts(self) -> list[str]:
        """Every human-readable line of the fault, most specific first, without repeats."""
        out: list[str] = []
        for m in self.messages:
            parts = [p for p in (m.code and f"[{m.code}]", m.message) if p]
            where = ", ".join(p for p in (m.field and f"field {m.field}", m.xpath and f"XPath {m.xpath}") if p)
            line = " ".join(parts) + (f" ({where})" if where else "")
            if line and line not in out:
                out.append(line)
        for kind, text in self.infolog:
            line = f"{kind}: {text}" if kind and kind != "Error" else text
            if line and line not in out:
                out.append(line)
        if self.faultstring and not any(self.faultstring in t for t in out):
            out.append(self.faultstring)
        return out

    def text(self) -> str:
        """All lines joined, for matching rows of the table and for error messages."""
        return " | ".join(self.texts())

    @property
    def is_generic(self) -> bool:
        """True when AX hid the real error behind the generic text (no infolog, no fault messages)."""
        return not self.messages and not self.infolog and GENERIC_FAULT_TEXT.rstrip(".") in self.faultstring


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _child_text(el: etree._Element, name: str) -> str | None:
    for child in el:
        if _local(child.tag) == name:
            text = (child.text or "").strip()
            return text or None
    return None


def parse_aif_fault(faultstring: str | None, detail: etree._Element | None, http_status: int | None = None) -> AifFaultInfo:
    """Decode an ``AifFault`` detail element (or its ``<detail>`` parent) into :class:`AifFaultInfo`.

    Tolerant by design: elements are matched by local name so that a fault from a differently
    prefixed or slightly different AX build is still read; a missing detail gives a fault that
    carries only its faultstring.
    """
    messages: list[FaultMessage] = []
    infolog: list[tuple[str, str]] = []
    xpp: int | None = None
    fault_el = None
    if detail is not None:
        fault_el = detail if _local(detail.tag) == "AifFault" else next(
            (el for el in detail.iter() if _local(el.tag) == "AifFault"), None
        )
    if fault_el is not None:
        for lst in (el for el in fault_el.iter() if _local(el.tag) == "FaultMessageList"):
            fld, xpath, doc = _child_text(lst, "Field"), _child_text(lst, "XPath"), _child_text(lst, "Document")
            for fm in (el for el in lst.iter() if _local(el.tag) == "FaultMessage"):
                messages.append(FaultMessage(_child_text(fm, "Code"), _child_text(fm, "Message"), fld, xpath, doc))
        for im in (el for el in fault_el.iter() if _local(el.tag) == "InfologMessage"):
            infolog.append((_child_text(im, "InfologMessageType") or "Error", _child_text(im, "Message") or ""))
        raw = _child_text(fault_el, "XppExceptionType")
        if raw is not None:
            try:
                xpp = int(raw)
            except ValueError:
                xpp = None  # some builds send the symbol name; the text rows still apply
    return AifFaultInfo((faultstring or "").strip(), tuple(messages), tuple(infolog), xpp, http_status)


@dataclass(frozen=True, slots=True)
class FaultRule:
    """One row of the fault table. Exactly one of the matchers is set."""

    name: str
    error: type[BridgeError]
    summary: str
    xpp_types: frozenset[int] = frozenset()
    text: str | None = None  # case-insensitive substring of the fault text
    pattern: re.Pattern[str] | None = None
    http_statuses: frozenset[int] = frozenset()
    network: bool = False
    generic: bool = False  # matches the "Request Failed" fault that carries no detail
    catch_all_fault: bool = False
    advice: str = ""

    def matches_fault(self, info: AifFaultInfo) -> bool:
        if self.generic:
            return info.is_generic
        if self.xpp_types:
            return info.xpp_exception_type in self.xpp_types
        if self.text is not None:
            return self.text.lower() in info.text().lower()
        if self.pattern is not None:
            return self.pattern.search(info.text()) is not None
        return self.catch_all_fault


_GENERIC_ADVICE = (
    "AX hid the real error: enable 'Include exceptions in fault' on the inbound port's Troubleshooting "
    "tab, or look under System administration > Periodic > Services and AIF > Exceptions."
)
_SIZE_ADVICE = (
    "The request is probably larger than the port's WCF maxReceivedMessageSize (64 KB by default): raise "
    "maxReceivedMessageSize and readerQuotas on the inbound port (Inbound ports > Configure) or send "
    "fewer records per call."
)

#: The one table: first match wins. Fault rows are checked for SOAP faults, status rows for
#: non-SOAP HTTP answers, the network row for connection failures.
FAULT_TABLE: tuple[FaultRule, ...] = (
    # --- AifFault bodies -------------------------------------------------------------------------
    FaultRule("duplicate_message", DuplicateError, "AX has already processed a message with this MessageId",
              text="Duplicate message"),
    FaultRule("hash_mismatch", TransientError, "the document changed in AX since it was read",
              text="document hash does not match"),
    FaultRule("not_found", NotFoundError, "AX found no document for the entity key",
              text="No valid document identified"),
    FaultRule("record_exists", DuplicateError, "AX says the record already exists", text="record already exists"),
    FaultRule("schema", ValidationError, "AX rejected the document against its schema", text="Invalid document schema"),
    FaultRule("action_not_supported", ConfigError, "the port does not expose this operation",
              text="ContractFilter mismatch",
              advice="Add the service operation to the inbound port (or redeploy the service group) and reactivate it."),
    # [I] AX's exact text was not captured; it names the company before "does not exist".
    FaultRule("unknown_company", ConfigError, "the company in the CallContext does not exist on this AOS",
              pattern=re.compile(r"\bcompany\b[^.]*\b(does not exist|not found)", re.IGNORECASE),
              advice="Check 'company' in the AX configuration (the DataAreaId, up to 4 characters)."),
    # Exception types come after the texts: a type 13 saying "The record already exists." is a
    # duplicate to resolve, not a conflict to retry.
    FaultRule("deadlock", TransientError, "AX reported a database deadlock", xpp_types=frozenset({XPP_DEADLOCK})),
    FaultRule("update_conflict", TransientError, "AX reported an update conflict",
              xpp_types=frozenset({XPP_UPDATE_CONFLICT, XPP_UPDATE_CONFLICT_NOT_RECOVERED})),
    # X++ transactions retry DuplicateKeyException themselves; one surfacing here was a race
    # between two writers, which a later retry resolves (inferred, reference §7.4).
    FaultRule("duplicate_key_conflict", TransientError, "AX reported a transient duplicate-key conflict",
              xpp_types=frozenset({XPP_DUPLICATE_KEY})),
    FaultRule("timeout", TransientError, "AX timed out (server busy)", xpp_types=frozenset({XPP_TIMEOUT})),
    FaultRule("generic", PermanentError, "AX answered with its generic fault", generic=True, advice=_GENERIC_ADVICE),
    FaultRule("business", ValidationError, "AX refused the document", xpp_types=frozenset({XPP_ERROR})),
    FaultRule("fault", PermanentError, "AX answered with a fault", catch_all_fault=True),
    # --- HTTP statuses without a SOAP fault ---------------------------------------------------------
    FaultRule("unauthorized", AuthError, "IIS refused the credentials", http_statuses=frozenset({401, 403}),
              advice="Check the user name, domain and password, and that the Windows user is an AX user with "
                     "access to the port."),
    FaultRule("message_too_large", PermanentError, "IIS/WCF refused the request", http_statuses=frozenset({400, 413}),
              advice=_SIZE_ADVICE),
    FaultRule("no_such_port", ConfigError, "there is no AIF port at this address", http_statuses=frozenset({404}),
              advice="Check base_url and port_name, and that the inbound port is active."),
    FaultRule("unavailable", TransientError, "IIS or the AOS is unavailable",
              http_statuses=frozenset({408, 429, 500, 502, 503, 504})),
    FaultRule("http_error", PermanentError, "AX answered with an unexpected HTTP status",
              http_statuses=frozenset(range(300, 600))),
    # --- network ----------------------------------------------------------------------------------
    FaultRule("network", TransientError, "the AX endpoint could not be reached", network=True),
)


def _where(service: str, operation: str, company: str | None) -> str:
    return f"AX {service}.{operation}" + (f" in company {company}" if company else "")


def _rule_for_fault(info: AifFaultInfo) -> FaultRule:
    for rule in FAULT_TABLE:
        if rule.http_statuses or rule.network:
            continue
        if rule.matches_fault(info):
            return rule
    raise AssertionError("FAULT_TABLE has a catch-all fault row")  # pragma: no cover


def error_for_fault(info: AifFaultInfo, *, service: str, operation: str, company: str | None = None) -> BridgeError:
    """Map a decoded SOAP fault to the bridge error the table names; the message lists every fault line."""
    rule = _rule_for_fault(info)
    detail = info.text() or "no fault text"
    xpp = f" (XppExceptionType {info.xpp_exception_type})" if info.xpp_exception_type is not None else ""
    msg = f"{_where(service, operation, company)} failed: {rule.summary}{xpp}: {detail}."
    if rule.advice:
        msg += f" {rule.advice}"
    return _make(rule, msg)


def error_for_http_status(status: int, *, service: str, operation: str, company: str | None = None,
                          request_bytes: int | None = None, retry_after: str | None = None) -> BridgeError:
    """Map an HTTP answer that carried no SOAP fault (IIS/WCF errors, proxies) to a bridge error."""
    rule = next((r for r in FAULT_TABLE if status in r.http_statuses), None)
    if rule is None:  # 1xx/2xx without a usable body: the answer was not SOAP
        rule = next(r for r in FAULT_TABLE if r.name == "http_error")
    size = f" The request was {request_bytes} bytes." if request_bytes is not None and rule.name == "message_too_large" else ""
    msg = f"{_where(service, operation, company)} failed: {rule.summary} (HTTP {status}).{size}"
    if rule.advice:
        msg += f" {rule.advice}"
    seconds: float | None = None
    if retry_after:
        try:
            seconds = max(0.0, float(retry_after))
        except ValueError:
            seconds = None  # an HTTP-date; the dispatcher's backoff applies
    return _make(rule, msg, retry_after=seconds)


def error_for_network(exc: BaseException, *, service: str, operation: str, company: str | None = None) -> BridgeError:
    """Map a connection failure or timeout to the network row (transient)."""
    rule = next(r for r in FAULT_TABLE if r.network)
    msg = f"{_where(service, operation, company)} failed: {rule.summary} ({type(exc).__name__}: {exc or 'no detail'})."
    return _make(rule, msg)


#: rows that say AX as a whole cannot be reached or takes no work now (not the record's fault)
_UNAVAILABLE_ROWS = frozenset({"unavailable", "network"})


def _make(rule: FaultRule, message: str, *, retry_after: float | None = None) -> BridgeError:
    return make_error(rule.error, message, system="ax", code=rule.name, retry_after=retry_after,
                      unavailable=rule.name in _UNAVAILABLE_ROWS)


class AlreadyDeliveredError(PermanentError):
    """A sales order cannot be cancelled because AX has delivered it (a packing slip is posted):
    a delivered quantity is returned in AX (a return order), never cancelled.

    ``sales_id``, ``sales_status`` (``Delivered``/``Invoiced``) and ``packing_slips`` (their ids)
    say what AX holds; none of them is personal data."""

    def __init__(self, sales_id: str, sales_status: str, packing_slips: list[str]) -> None:
        slips = ", ".join(packing_slips) if packing_slips else "none found"
        super().__init__(f"AX sales order {sales_id} cannot be canceled: it is {sales_status} (packing slip "
                         f"{slips}). Handle the return in AX.", system="ax", code="already_delivered")
        self.sales_id = sales_id
        self.sales_status = sales_status
        self.packing_slips = list(packing_slips)
