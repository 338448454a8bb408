"""AifFault and other fault responses, shaped as an AX 2012 IIS port sends them.

``AxFault`` is raised anywhere inside the sandbox; ``fault_envelope`` turns it into a
SOAP 1.1 ``s:Fault`` (HTTP 500) whose ``detail`` is an ``AifFault`` with
``FaultMessageListArray``, ``InfologMessageList``, ``StackTrace`` and ``XppExceptionType``.
Unless the port runs with "Include exceptions in fault", the faultstring is the generic
"Request Failed. See the Exception Log for details." and the infolog stays on the server;
framework faults (duplicate message, injected deadlock/timeout) show their own text, as
faults thrown through X++ ``AifFault`` do [I].

``lost_answer_hold`` decides the "committed, then timed out" fault: the AOS has processed and
committed a write, but its answer never reaches the client in time (a WCF ``sendTimeout`` or a
proxy giving up). The client sees a timeout; retrying the same message is AX's duplicate-message
check's business, or the caller's lookup of what it created.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..wsdl import NS

__all__ = [
    "GENERIC_TEXT",
    "XPP",
    "AxFault",
    "action_not_supported_envelope",
    "fault_envelope",
    "lost_answer_hold",
]

GENERIC_TEXT = "Request Failed. See the Exception Log for details."
#: X++ Exception enum ordinals used by the sandbox (2, 3, 13, 15 confirmed by the reference).
XPP = {"Info": 0, "Warning": 1, "Deadlock": 2, "Error": 3, "Internal": 4, "UpdateConflict": 11,
       "DuplicateKeyException": 13, "Timeout": 15}

DEADLOCK_TEXT = "Deadlock, where one or more users have simultaneously locked the whole table or part of it."
TIMEOUT_TEXT = "Time out. Server is busy."  # [I] label used by public clients for type 15
DUPLICATE_TEXT = "Duplicate message. Message has already been processed."


class AxFault(Exception):
    """A fault AX returns as ``FaultException<AifFault>``.

    ``messages`` are the infolog error lines; ``xpp_type`` the X++ exception ordinal;
    ``public`` marks faults whose text AX shows even without "Include exceptions in fault";
    ``code`` is the FaultMessage code; ``field``/``xpath``/``line`` locate the problem.
    """

    def __init__(self, messages: list[str], *, xpp_type: int = 3, public: bool = False, code: str | None = None,
                 field: str | None = None, xpath: str | None = None, line: int | None = None) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages
        self.xpp_type = xpp_type
        self.public = public
        self.code = code
        self.field = field
        self.xpath = xpath
        self.line = line


_WRITES = frozenset({"create", "update", "delete"})


def lost_answer_hold(faults: object, service: str, operation: str, status: int) -> float:
    """Seconds to hold the answer of a call that AX has just committed (0: answer at once).

    Counts down ``faults.commit_then_timeout_next`` for each committed (HTTP 200) create,
    update or delete, of ``faults.commit_then_timeout_service`` when that is set."""
    if status != 200 or operation not in _WRITES or getattr(faults, "commit_then_timeout_next", 0) <= 0:
        return 0.0
    only = getattr(faults, "commit_then_timeout_service", "")
    if only and only != service:
        return 0.0
    faults.commit_then_timeout_next -= 1  # type: ignore[attr-defined]
    return float(getattr(faults, "commit_then_timeout_hold_s", 0.0))


def _nil(tag: str) -> str:
    return f'<{tag} i:nil="true"/>'


def fault_envelope(fault: AxFault, *, include_exceptions: bool, service: str = "", operation: str = "",
                   document: str = "") -> bytes:
    """The SOAP 1.1 fault body for ``fault`` (HTTP status 500)."""
    detailed = include_exceptions or fault.public
    faultstring = "\n".join(fault.messages) if detailed else GENERIC_TEXT
    if detailed:
        infolog = "".join(
            f"<b:InfologMessage><b:InfologMessageType>Error</b:InfologMessageType>"
            f"<b:Message>{escape(m)}</b:Message></b:InfologMessage>"
            for m in fault.messages
        )
        infolog_xml = f'<InfologMessageList xmlns:b="{NS["framework"]}">{infolog}</InfologMessageList>'
        messages = "".join(
            f"<FaultMessage><Code>{escape(fault.code or 'Error')}</Code><Message>{escape(m)}</Message></FaultMessage>"
            for m in fault.messages
        )
        fml = (
            "<FaultMessageListArray><FaultMessageList>"
            f"<Document>{escape(document)}</Document><DocumentOperation>{escape(operation)}</DocumentOperation>"
            f"<FaultMessageArray>{messages}</FaultMessageArray>"
            + (f"<Field>{escape(fault.field)}</Field>" if fault.field else _nil("Field"))
            + f"<Service>{escape(service)}</Service><ServiceOperation>{escape(operation)}</ServiceOperation>"
            + _nil("ServiceOperationParameter")
            + (f"<XPath>{escape(fault.xpath)}</XPath>" if fault.xpath else _nil("XPath"))
            + (f"<XmlLine>{fault.line}</XmlLine>" if fault.line else _nil("XmlLine"))
            + _nil("XmlPosition")
            + "</FaultMessageList></FaultMessageListArray>"
        )
    else:
        infolog_xml = _nil("InfologMessageList")
        fml = _nil("FaultMessageListArray")
    return (
        f'<s:Envelope xmlns:s="{NS["soapenv"]}"><s:Body><s:Fault>'
        f"<faultcode>s:Client</faultcode>"
        f'<faultstring xml:lang="en-US">{escape(faultstring)}</faultstring>'
        f'<detail><AifFault xmlns="{NS["fault"]}" xmlns:i="{NS["xsi"]}">'
        f"{_nil('CustomDetailXml')}{fml}{infolog_xml}{_nil('StackTrace')}"
        f"<XppExceptionType>{fault.xpp_type}</XppExceptionType>"
        "</AifFault></detail></s:Fault></s:Body></s:Envelope>"
    ).encode()


def action_not_supported_envelope(action: str) -> bytes:
    """WCF's answer to a SOAPAction no contract on the port handles."""
    text = (
        f"The message with Action '{action}' cannot be processed at the receiver, due to a ContractFilter "
        "mismatch at the EndpointDispatcher. This may be because of either a contract mismatch (mismatched "
        "Actions between sender and receiver) or a binding/security mismatch between the sender and the "
        "receiver.  Check that sender and receiver have the same contract and the same binding (including "
        "security requirements, e.g. Message, Transport, None)."
    )
    return (
        f'<s:Envelope xmlns:s="{NS["soapenv"]}"><s:Body><s:Fault>'
        '<faultcode xmlns:a="http://schemas.microsoft.com/ws/2005/05/addressing/none">a:ActionNotSupported</faultcode>'
        f'<faultstring xml:lang="en-US">{escape(text)}</faultstring>'
        "</s:Fault></s:Body></s:Envelope>"
    ).encode()
