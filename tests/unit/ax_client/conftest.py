"""A scripted AIF endpoint for unit tests: httpx.MockTransport answering SOAP 1.1 in AX's shapes.

Tests queue answers per SOAP operation; every request is parsed and kept (action, CallContext,
body) so tests can check exactly what the client sent.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
CTX = "http://schemas.microsoft.com/dynamics/2010/01/datacontracts"
SERVICES = "http://schemas.microsoft.com/dynamics/2008/01/services"
DOCS = "http://schemas.microsoft.com/dynamics/2008/01/documents/"
EKL = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList"
EK = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey"
KP = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyPage"
PG = "http://schemas.microsoft.com/dynamics/2006/02/documents/DocumentPaging"


@dataclass
class Seen:
    action: str
    service: str
    operation: str
    context: dict[str, str]
    body: etree._Element
    raw: bytes
    headers: httpx.Headers


Answer = httpx.Response | Callable[[Seen], httpx.Response] | Exception


@dataclass
class FakeAif:
    answers: dict[str, deque[Answer]] = field(default_factory=lambda: defaultdict(deque))
    seen: list[Seen] = field(default_factory=list)

    def on(self, operation: str, *answers: Answer) -> FakeAif:
        self.answers[operation].extend(answers)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        action = request.headers["soapaction"].strip('"')
        service, operation = action.rsplit("/", 2)[-2:]
        env = etree.fromstring(request.content)
        ctx_el = env.find(f"{{{SOAP}}}Header/{{{CTX}}}CallContext")
        ctx = {etree.QName(c).localname: c.text for c in ctx_el} if ctx_el is not None else {}
        seen = Seen(action, service, operation, ctx, env.find(f"{{{SOAP}}}Body")[0], request.content, request.headers)
        self.seen.append(seen)
        if not self.answers[operation]:
            raise AssertionError(f"unexpected call {service}.{operation}")
        answer = self.answers[operation].popleft()
        if isinstance(answer, Exception):
            raise answer
        return answer(seen) if callable(answer) else answer

    def of(self, operation: str) -> list[Seen]:
        return [s for s in self.seen if s.operation == operation]


def envelope(body: str, status: int = 200) -> httpx.Response:
    xml = f'<s:Envelope xmlns:s="{SOAP}"><s:Body>{body}</s:Body></s:Envelope>'
    return httpx.Response(status, content=xml.encode(), headers={"content-type": "text/xml; charset=utf-8"})


def keys_response(service: str, op: str, field: str, *values: str) -> httpx.Response:
    keys = "".join(f'<EntityKey xmlns="{EK}"><KeyData><KeyField><Field>{field}</Field><Value>{v}</Value>'
                   "</KeyField></KeyData></EntityKey>" for v in values)
    return envelope(f'<{service}{op}Response xmlns="{SERVICES}"><EntityKeyList xmlns="{EKL}">{keys}'
                    f"</EntityKeyList></{service}{op}Response>")


def document_response(service: str, op: str, document: str, entities: str) -> httpx.Response:
    return envelope(f'<{service}{op}Response xmlns="{SERVICES}"><{document} xmlns="{DOCS}{document}">'
                    f"<DocPurpose>Original</DocPurpose><SenderId>DAT</SenderId>{entities}</{document}>"
                    f"</{service}{op}Response>")


def empty_response(service: str, op: str) -> httpx.Response:
    return envelope(f'<{service}{op}Response xmlns="{SERVICES}"/>')


def page_response(service: str, op: str, field: str, values: list[str], bookmark: str | None,
                  details: str = "None") -> httpx.Response:
    keys = "".join(f'<EntityKey xmlns="{EK}"><KeyData><KeyField><Field>{field}</Field><Value>{v}</Value>'
                   "</KeyField></KeyData></EntityKey>" for v in values)
    bm = f"<Bookmark>{bookmark}</Bookmark>" if bookmark else ""
    return envelope(f'<{service}{op}Response xmlns="{SERVICES}"><EntityKeyPage xmlns="{KP}">'
                    f'<DocumentPaging xmlns="{PG}">{bm}<PageSize>2</PageSize></DocumentPaging>'
                    f'<EntityKeyList xmlns="{EKL}">{keys}</EntityKeyList>'
                    f"<PageStatus>Success</PageStatus><PageStatusDetails>{details}</PageStatusDetails>"
                    f"</EntityKeyPage></{service}{op}Response>")


def fault_response(message: str, xpp: int = 3, faultstring: str | None = None) -> httpx.Response:
    """A SOAP 1.1 fault with an AifFault detail, as in the reference (§7.1), HTTP 500."""
    fs = faultstring or message
    return envelope(
        f"<s:Fault><faultcode>s:Client</faultcode><faultstring xml:lang=\"en-US\">{fs}</faultstring><detail>"
        '<AifFault xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Fault" '
        'xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><CustomDetailXml i:nil="true"/>'
        '<FaultMessageListArray i:nil="true"/>'
        '<InfologMessageList xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.Dynamics.AX.Framework.Services">'
        f"<b:InfologMessage><b:InfologMessageType>Error</b:InfologMessageType><b:Message>{message}</b:Message>"
        "</b:InfologMessage></InfologMessageList>"
        f'<StackTrace i:nil="true"/><XppExceptionType>{xpp}</XppExceptionType></AifFault></detail></s:Fault>',
        status=500)


def text_of(el: etree._Element, local: str) -> list[str]:
    return [e.text for e in el.iter() if isinstance(e.tag, str) and etree.QName(e).localname == local]


# --- fixtures --------------------------------------------------------------------------------------

import types  # noqa: E402

import pytest  # noqa: E402

from connectors.dynamics_ax import AxConfig, Client  # noqa: E402


@pytest.fixture
def aif() -> FakeAif:
    return FakeAif()


@pytest.fixture
def soap() -> types.SimpleNamespace:
    """The response builders above, for the tests (conftest modules cannot be imported by name)."""
    return types.SimpleNamespace(envelope=envelope, keys=keys_response, document=document_response,
                                 empty=empty_response, page=page_response, fault=fault_response, text_of=text_of)


@pytest.fixture
async def ax(aif: FakeAif):
    cfg = AxConfig(base_url="http://aos.test/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                   wsdl="bundled", read_batch_size=2, page_size=2)
    async with Client(cfg, transport=httpx.MockTransport(aif)) as client:
        yield client
