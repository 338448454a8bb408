"""The Starlette app of the AX 2012 sandbox: one IIS enhanced HTTP port plus ``/_sandbox``.

``create_app(config)`` returns an ASGI app serving
``/MicrosoftDynamicsAXAif60/<aif_port>/xppservice.svc`` (``?wsdl``, ``?wsdl=wsdlN``,
``?xsd=xsdN`` on GET; SOAP 1.1 on POST) and the control API (see ``control.py``).
The order of checks per SOAP call mirrors the real stack: IIS (app pool outage 503,
authentication 401 in ``iis_auth.py``, message size 400), WCF (content type 415, SOAPAction dispatch with
``ActionNotSupported``, malformed XML 400, mustUnderstand headers), then AIF (CallContext
company, schema validation, duplicate MessageId, the operation, AifFault on error).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from xml.sax.saxutils import escape

from lxml import etree
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..wsdl import NS, SERVICES, soap_action
from . import operations
from .config import SandboxConfig
from .control import control_routes
from .faults import (
    DEADLOCK_TEXT,
    DUPLICATE_TEXT,
    TIMEOUT_TEXT,
    XPP,
    AxFault,
    action_not_supported_envelope,
    fault_envelope,
    lost_answer_hold,
)
from .fulfilment import advance
from .iis_auth import IisAuth, WindowsAccount
from .model import World
from .schemas import SchemaSet, parse_xml
from .seed import seed_company

__all__ = ["SandboxState", "create_app"]

log = logging.getLogger("presta_ax.sandbox.ax")
_ENV = f"{{{NS['soapenv']}}}"
_CTX = f"{{{NS['context']}}}"
_ACTIONS = {soap_action(s.name, op): (s.name, op) for s in SERVICES.values() for op in s.operations}
_IDEMPOTENT = {"create", "update", "delete"}  # EnableIdempotence = Yes by default
_XML = "text/xml; charset=utf-8"
_SCHEMAS: SchemaSet | None = None


def _schemas() -> SchemaSet:
    global _SCHEMAS
    if _SCHEMAS is None:  # building the validator takes a moment; share it between apps
        _SCHEMAS = SchemaSet()
    return _SCHEMAS


class SandboxState:
    """The world plus what the HTTP layer needs (config, schemas, worker slots)."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.schemas = _schemas()
        self.world = World(config.seed)
        for company_id in config.companies:
            company = self.world.add_company(company_id)
            seed_company(self.world, company, config.seed, config.items, config.customers, config.open_orders,
                         variants=config.variants)
        # the seeded data predates the bridge, as a real company's does: a poller's first
        # getChangedKeys (from about now) must not list it
        self.world.predate()
        self.workers = asyncio.Semaphore(max(1, config.workers))
        self.tax_rate = Decimal(config.tax_rate)
        self.calls = 0
        self.in_flight = 0
        self.peak_in_flight = 0  # how many calls the "worker processes" ran at once, at most

    def fulfil(self, company_id: str | None = None, sales_id: str | None = None, *,
               include_seeded: bool = True) -> list[tuple[str, str]]:
        done: list[tuple[str, str]] = []
        for cid, company in self.world.companies.items():
            if company_id is None or cid == company_id.upper():
                done += advance(self.world, company, self.tax_rate, sales_id, include_seeded=include_seeded)
        return done


def _envelope(body: bytes) -> bytes:
    return f'<s:Envelope xmlns:s="{NS["soapenv"]}"><s:Body>'.encode() + body + b"</s:Body></s:Envelope>"


def _soap_fault(code: str, text: str, code_ns: str | None = None) -> bytes:
    """A plain WCF fault (no AifFault detail); ``code_ns`` declares the ``a:`` prefix of ``code``."""
    declare = f' xmlns:a="{code_ns}"' if code_ns else ""
    return _envelope(f"<s:Fault><faultcode{declare}>{code}</faultcode><faultstring xml:lang=\"en-US\">"
                     f"{escape(text)}</faultstring></s:Fault>".encode())


def _iis_503() -> Response:
    return Response("<h1>HTTP Error 503. The service is unavailable.</h1>", status_code=503, media_type="text/html")


def _inject(state: SandboxState) -> Response | AxFault | None:
    f = state.config.faults
    rng = state.world.fault_rng
    if f.error_next > 0 or (f.error_rate and rng.random() < f.error_rate):
        f.error_next = max(0, f.error_next - 1)
        return _iis_503()
    if f.deadlock_next > 0 or (f.deadlock_rate and rng.random() < f.deadlock_rate):
        f.deadlock_next = max(0, f.deadlock_next - 1)
        return AxFault([DEADLOCK_TEXT], xpp_type=XPP["Deadlock"], public=True)
    if f.timeout_next > 0 or (f.timeout_rate and rng.random() < f.timeout_rate):
        f.timeout_next = max(0, f.timeout_next - 1)
        return AxFault([TIMEOUT_TEXT], xpp_type=XPP["Timeout"], public=True)
    return None


def _normalise_message_id(value: str) -> str:
    return value.strip().strip("{}").lower()


def _process(state: SandboxState, action: str, body: bytes) -> tuple[int, bytes]:
    """The WCF + AIF part of a call; returns (status, response body)."""
    service, operation = _ACTIONS[action]
    spec = SERVICES[service]
    try:
        envelope = parse_xml(body)
    except (etree.XMLSyntaxError, ValueError):
        return 400, b""  # WCF answers malformed XML with 400 Bad Request
    if envelope.tag != _ENV + "Envelope" or envelope.find(_ENV + "Body") is None:
        return 500, _soap_fault("s:Client", "The message is not a SOAP 1.1 envelope.")
    longest = max((len(t) for t in envelope.itertext()), default=0)
    if longest > state.config.max_string_content:
        quota = state.config.max_string_content
        return 500, _soap_fault(
            "a:DeserializationFailed",
            "The formatter threw an exception while trying to deserialize the message: The maximum string content "
            f"length quota ({quota}) has been exceeded while reading XML data. This quota may be increased by "
            "changing the MaxStringContentLength property on the XmlDictionaryReaderQuotas object used when "
            "creating the XML reader.",
            "http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher")
    header = envelope.find(_ENV + "Header")
    context = header.find(_CTX + "CallContext") if header is not None else None
    for h in [] if header is None else header:
        if h is not context and h.get(_ENV + "mustUnderstand") in ("1", "true"):
            return 500, _soap_fault("s:MustUnderstand", f"The header '{etree.QName(h).localname}' from the "
                                    f"namespace '{etree.QName(h).namespace}' was not understood by the recipient "
                                    "of this message, causing the message to not be processed.")
    ctx = {etree.QName(c).localname: (c.text or "").strip() for c in ([] if context is None else context)}
    include = state.config.include_exceptions_in_fault
    try:
        company_id = ctx.get("Company") or state.config.company
        company = state.world.company(company_id)
        if company is None:
            raise AxFault([f"Company {company_id} does not exist."])  # [I] wording
        if ctx.get("PartitionKey") and ctx["PartitionKey"].lower() != "initial":
            raise AxFault([f"Partition {ctx['PartitionKey']} does not exist."])  # [I]
        body_el = envelope.find(_ENV + "Body")
        wrapper = body_el[0] if len(body_el) else None
        expected = f"{{{NS['services']}}}{service}{operation[0].upper()}{operation[1:]}Request"
        if wrapper is None or wrapper.tag != expected:
            raise AxFault([f"Invalid document schema. The following error is reported : The body must contain "
                           f"the element '{expected.split('}')[1]}' in namespace '{NS['services']}'."])
        if state.config.validate_documents:
            state.schemas.validate(wrapper)
        message_id = _normalise_message_id(ctx.get("MessageId", ""))
        now = state.world.now()
        if message_id and operation in _IDEMPOTENT:
            seen = state.world.message_ids.get(message_id)
            if seen is not None and now - seen[0] <= state.config.duplicate_window_seconds:
                if state.config.duplicate_response == "cached":
                    return 200, seen[1]
                raise AxFault([DUPLICATE_TEXT], public=True, code="DuplicateMessage")
        call = operations.Call(state.world, company, state.config, spec,
                               state.schemas.documents[spec.document])
        result = _envelope(etree.tostring(operations.run(call, operation, wrapper)))
        if message_id and operation in _IDEMPOTENT:
            state.world.message_ids[message_id] = (now, result)
        return 200, result
    except AxFault as fault:
        # the text may quote document values (names, e-mails): only the kind is logged
        log.info("AX sandbox fault on %s.%s (XppExceptionType %s)", service, operation, fault.xpp_type)
        return 500, fault_envelope(fault, include_exceptions=include, service=service, operation=operation,
                                   document=spec.document)
    except Exception:  # a sandbox bug must still answer like AX: a generic fault
        log.exception("AX sandbox failed on %s.%s", service, operation)
        internal = AxFault(["An internal error occurred while processing the request."], xpp_type=XPP["Internal"])
        return 500, fault_envelope(internal, include_exceptions=include, service=service, operation=operation,
                                   document=spec.document)


async def _service(request: Request) -> Response:
    state: SandboxState = request.app.state.sandbox
    if state.config.faults.outage:  # a stopped app pool serves no WSDL either
        return _iis_503()
    if request.method == "GET":
        return _metadata(state, request)
    length = int(request.headers.get("content-length") or 0)
    body = b"" if length > state.config.max_message_size else await request.body()
    if length > state.config.max_message_size or len(body) > state.config.max_message_size:
        return Response(b"", status_code=400)  # maxReceivedMessageSize exceeded
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("text/xml"):
        return Response(f"Cannot process the message because the content type '{content_type}' was not the "
                        f"expected type '{_XML}'.", status_code=415)
    action = request.headers.get("soapaction", "").strip().strip('"')
    if action not in _ACTIONS:
        return Response(action_not_supported_envelope(action), status_code=500, media_type=_XML)
    async with state.workers:  # the IIS worker process: one call at a time by default
        state.calls += 1
        state.in_flight += 1
        state.peak_in_flight = max(state.peak_in_flight, state.in_flight)
        try:
            if state.config.faults.latency_ms:
                await asyncio.sleep(state.config.faults.latency_ms / 1000)
            injected = _inject(state)
            if isinstance(injected, Response):
                return injected
            if isinstance(injected, AxFault):
                service, operation = _ACTIONS[action]
                return Response(fault_envelope(injected, include_exceptions=state.config.include_exceptions_in_fault,
                                               service=service, operation=operation), status_code=500,
                                media_type=_XML)
            status, payload = _process(state, action, body)
            hold = lost_answer_hold(state.config.faults, *_ACTIONS[action], status)
        finally:
            state.in_flight -= 1
    if hold:  # committed; the answer comes too late for the client (the worker is free again)
        await asyncio.sleep(hold)
    return Response(payload, status_code=status, media_type=_XML if payload else None)


def _metadata(state: SandboxState, request: Request) -> Response:
    base = f"{request.url.scheme}://{request.url.netloc}{state.config.service_path}"
    query = {k.lower(): v for k, v in request.query_params.items()}
    if "xsd" in query:
        name = state.schemas.xsd_ids.get(query["xsd"])
    elif "wsdl" in query:
        name = state.schemas.wsdl_ids.get(query["wsdl"]) if query["wsdl"] else "xppservice.wsdl"
    else:
        return Response("<html><body><h1>Service</h1><p>You have created a service. To test this service, you "
                        f"will need to create a client: svcutil.exe {base}?wsdl</p></body></html>",
                        media_type="text/html")
    data = state.schemas.served(name, base) if name else None
    if data is None:
        return Response("<h1>HTTP Error 404.0 - Not Found</h1>", status_code=404, media_type="text/html")
    return Response(data, media_type="text/xml; charset=UTF-8")


async def _tick(state: SandboxState) -> None:
    interval = state.config.fulfilment_interval
    while True:
        await asyncio.sleep(interval)
        async with state.workers:
            # the automatic fulfilment works the orders that arrive while the sandbox runs; the
            # seeded ones (history from before the bridge) only move when a test steps them
            state.fulfil(include_seeded=False)


def create_app(config: SandboxConfig) -> Starlette:
    """Build the sandbox app; data is seeded immediately (deterministic for ``config.seed``)."""
    state = SandboxState(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(_tick(state)) if config.fulfilment_interval > 0 else None
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    routes = [Route(config.service_path, _service, methods=["GET", "POST"]), *control_routes()]
    # IIS authenticates the whole virtual directory (WSDL and XSDs too) before WCF sees a byte;
    # a stopped application pool answers 503 before that.
    windows = WindowsAccount(*config.windows_auth) if config.windows_auth else None
    auth = Middleware(IisAuth, protected_prefix=config.service_path.rsplit("/", 2)[0] + "/", windows=windows,
                      basic=config.basic_auth, bypass=lambda: config.faults.outage)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[auth])
    app.state.sandbox = state
    return app
