"""The SOAP layer: zeep's async client on httpx, bound to ``BasicHttpBinding_<Service>`` ports.

:class:`AxSoapClient` knows the AIF protocol and nothing of the business: it loads the port's
WSDL (from the AOS or from the bundled files, parsed once per process and cached), binds each
document service explicitly to its ``BasicHttpBinding_<Service>`` port (the IIS WSDL also has a
``reqReplyEndpoint`` router port that must not be picked), sends the ``CallContext`` header on
every call, and turns every failure into a :mod:`connectors.errors` class through the fault
table of :mod:`connectors.dynamics_ax.errors`. The generic document operations (create, read,
update, delete, find, findKeys, getKeys, getChangedKeys) live in :mod:`.operations`.

Results come back as plain data decoded by :mod:`.codec` (dicts keyed by AX element names,
values as AX wrote them, every child entity as a list), ready for the views of :mod:`.models`;
``raw=True`` returns zeep's objects instead (for a full update, which edits and resends them).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import threading
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import zeep
import zeep.exceptions
from lxml import etree
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from zeep.plugins import Plugin
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport
from zeep.xsd import ComplexType

from connectors.dynamics_ax.auth import SpnegoAuth, build_auth
from connectors.dynamics_ax.codec import SERVICES_NS, NotSoap, SoapFault, decode_response
from connectors.dynamics_ax.config import AxConfig
from connectors.dynamics_ax.context import CallContext, message_id_for, random_message_id
from connectors.dynamics_ax.errors import (
    error_for_fault,
    error_for_http_status,
    error_for_network,
    parse_aif_fault,
)
from connectors.errors import BridgeError, ConfigError, PermanentError, closed_connection

__all__ = ["BUNDLED_WSDL", "AxSoapClient", "Lanes", "clear_wsdl_cache", "mark_entities"]

BUNDLED_WSDL = Path(__file__).resolve().parent / "wsdl" / "xppservice.wsdl"
WSA_NS = "http://www.w3.org/2005/08/addressing"
_tracer = trace.get_tracer("connectors.dynamics_ax")

# Parsed WSDL documents by source (URL or path). Parsing the whole port (all document schemas)
# costs far more than a call, and the WSDL only changes when an administrator redeploys the port.
_WSDL_CACHE: dict[str, Any] = {}
_WSDL_LOCK = threading.Lock()

# What the last HTTP exchange of the current call looked like; zeep drops headers and sizes
# from its TransportError, the fault table needs them (Retry-After, request size for a 400).
_exchange: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("ax_exchange", default=None)


def clear_wsdl_cache() -> None:
    """Forget every parsed WSDL (after a port was redeployed with other operations)."""
    with _WSDL_LOCK:
        _WSDL_CACHE.clear()


class _NoAddressing(Plugin):
    """Drop the WS-Addressing headers zeep derives from ``wsaw:Action``.

    basicHttpBinding runs with AddressingVersion.None: AX's own clients send only CallContext,
    and a stale ``wsa:To`` (zeep takes it from the WSDL's address) would only confuse a router.
    """

    def egress(self, envelope: etree._Element, http_headers: dict[str, str], operation: Any, binding_options: Any):
        header = envelope.find("{http://schemas.xmlsoap.org/soap/envelope/}Header")
        if header is not None:
            for el in list(header):
                if isinstance(el.tag, str) and el.tag.startswith("{" + WSA_NS + "}"):
                    header.remove(el)
            etree.cleanup_namespaces(envelope)
        return envelope, http_headers


class Lanes:
    """``size`` httpx clients of ONE connection each, checked out by one call at a time.

    Windows authentication is bound to the TCP connection: the NTLM negotiate, challenge and
    authenticate legs must travel on the same one. httpx's shared pool hands the next leg to any
    idle connection, which under concurrency is often another one (IIS then refuses). A lane is a
    client that owns one connection and serves one call at a time, so every leg of a handshake,
    and the call it authenticates, use the same connection; ``size`` lanes give ``size`` calls in
    flight, which is also how many IIS worker processes can usefully be kept busy.
    """

    def __init__(self, size: int, **client_args: Any) -> None:
        one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        auth = client_args.pop("auth", None)
        # Windows auth authenticates a connection: each lane gets its own flow, which may then
        # skip the handshake while its one connection stays authenticated.
        self.clients = [httpx.AsyncClient(limits=one, auth=_lane_auth(auth), **client_args) for _ in range(size)]
        self._free: asyncio.Queue[httpx.AsyncClient] | None = None

    @contextlib.asynccontextmanager
    async def lane(self) -> AsyncIterator[httpx.AsyncClient]:
        if self._free is None:  # created inside the running loop
            self._free = asyncio.Queue()
            for client in self.clients:
                self._free.put_nowait(client)
        client = await self._free.get()
        try:
            yield client
        finally:
            self._free.put_nowait(client)

    async def aclose(self) -> None:
        for client in self.clients:
            await client.aclose()


def _lane_auth(auth: Any) -> Any:
    return auth.for_connection() if isinstance(auth, SpnegoAuth) else auth


class _QuietTransport(AsyncTransport):
    """zeep's async transport over :class:`Lanes`, without zeep's debug log of bodies (personal data)."""

    def __init__(self, lanes: Lanes, wsdl_client: httpx.Client) -> None:
        super().__init__(client=lanes.clients[0], wsdl_client=wsdl_client)
        self.lanes = lanes

    async def post(self, address: str, message: bytes | str, headers: dict[str, str]) -> httpx.Response:
        async with self.lanes.lane() as client:
            return await client.post(address, content=message, headers=headers)


async def _record_request(request: httpx.Request) -> None:
    ex = _exchange.get()
    if ex is not None:
        ex["request_bytes"] = len(request.content) if request.method == "POST" else None


async def _record_response(response: httpx.Response) -> None:
    ex = _exchange.get()
    if ex is not None:
        ex["status"] = response.status_code
        ex["retry_after"] = response.headers.get("retry-after")


def mark_entities(xtype: Any, value: Any) -> None:
    """Set ``class="entity"`` on every entity of a document being sent.

    The schemas declare the attribute ``fixed="entity" use="required"`` and AX refuses entities
    without it; zeep ignores ``fixed``, so it is filled in here, guided by the schema so that
    non-entity complex values (e.g. ``AxdEntityKey_*`` references) are left alone.
    """
    if isinstance(value, list):
        for v in value:
            mark_entities(xtype, v)
        return
    own_type = getattr(value, "_xsd_type", None)  # a zeep value of a derived (xsi:type) type
    if own_type is not None:
        xtype = own_type
    if not isinstance(xtype, ComplexType) or not hasattr(value, "__setitem__"):
        return
    if any(name == "class" for name, _ in xtype.attributes):
        value["class"] = "entity"
    for name, element in xtype.elements:
        child = value[name] if (isinstance(value, Mapping) and name in value) or own_type is not None else None
        if child is not None:
            mark_entities(element.type, child)


class AxSoapClient:
    """One AIF HTTP port: zeep proxies per document service, CallContext, fault mapping.

    ``transport`` replaces the httpx transport of the operations (tests pass an
    ``httpx.MockTransport`` or ``ASGITransport``; it is shared by all lanes, so a real
    connection pool passed here would undo :class:`Lanes`); ``wsdl_transport`` the one used to fetch a
    remote WSDL. Use as an async context manager or call :meth:`aclose`.
    """

    def __init__(self, config: AxConfig, *, transport: httpx.AsyncBaseTransport | None = None,
                 wsdl_transport: httpx.BaseTransport | None = None) -> None:
        self.config = config
        auth = build_auth(config.auth)
        timeout = httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds)
        self._lanes = Lanes(config.max_connections, auth=auth, timeout=timeout, verify=config.verify_tls,
                            transport=transport, headers={"User-Agent": "presta-ax-bridge"},
                            event_hooks={"request": [_record_request], "response": [_record_response]})
        # The WSDL and its XSDs are fetched one after the other: one connection, authenticated once.
        self._wsdl_http = httpx.Client(auth=_lane_auth(auth), timeout=timeout, verify=config.verify_tls,
                                       transport=wsdl_transport,
                                       limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        self._zeep: zeep.AsyncClient | None = None
        self._zeep_raw: zeep.AsyncClient | None = None
        self._proxies: dict[tuple[str, bool], Any] = {}

    async def __aenter__(self) -> AxSoapClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._lanes.aclose()
        self._wsdl_http.close()

    # --- WSDL and binding ----------------------------------------------------------------------

    def _document(self) -> Any:
        source = str(BUNDLED_WSDL) if self.config.wsdl == "bundled" else self.config.wsdl_url
        with _WSDL_LOCK:
            doc = _WSDL_CACHE.get(source)
            if doc is None:
                loader = _WsdlLoader(self._wsdl_http)
                try:
                    # Strict parsing against the port's own WSDL; lenient against the bundled one,
                    # which a real port may extend (document extensions, other data policies).
                    settings = zeep.Settings(strict=self.config.wsdl == "remote", xml_huge_tree=False,
                                             forbid_dtd=True, forbid_entities=True)
                    # zeep annotates the transport as a class but uses (and needs) an instance.
                    doc = zeep.wsdl.Document(source, loader, settings=settings)  # type: ignore[arg-type]
                except zeep.exceptions.TransportError as exc:
                    raise error_for_http_status(exc.status_code or 0, service="WSDL", operation="load",
                                                company=self.config.company) from None
                except httpx.TransportError as exc:
                    raise error_for_network(exc, service="WSDL", operation="load") from None
                _WSDL_CACHE[source] = doc
        return doc

    @property
    def zeep(self) -> zeep.AsyncClient:
        """The zeep client over the cached WSDL (built on first use, which may load the WSDL)."""
        if self._zeep is None:
            transport = _QuietTransport(self._lanes, self._wsdl_http)
            document = self._document()
            self._zeep = zeep.AsyncClient(document, transport=transport, plugins=[_NoAddressing()],
                                          settings=zeep.Settings(forbid_dtd=True, forbid_entities=True))
            # Same WSDL, but zeep hands back the HTTP response unparsed: responses are decoded by
            # decode_response, about ten times cheaper than zeep's object model on AX's wide
            # documents. (zeep's per-call settings override is thread-local, not task-local, so
            # a second client is the safe way to have both.)
            self._zeep_raw = zeep.AsyncClient(document, transport=transport, plugins=[_NoAddressing()],
                                              settings=zeep.Settings(raw_response=True, forbid_dtd=True,
                                                                     forbid_entities=True))
        return self._zeep

    def proxy(self, service: str, *, raw_response: bool = False) -> Any:
        """The service proxy of ``BasicHttpBinding_<service>``, addressed at the configured endpoint.

        The WSDL's own ``soap:address`` is ignored on purpose: behind IIS it often names the
        server's internal host name, which a client outside cannot resolve.
        """
        proxy = self._proxies.get((service, raw_response))
        if proxy is None:
            client = self.zeep  # builds both clients
            if raw_response:
                client = self._zeep_raw  # type: ignore[assignment]  # set together with _zeep
            ports = client.wsdl.services.get("RoutingService")
            port = ports.ports.get(f"BasicHttpBinding_{service}") if ports is not None else None
            if port is None:
                raise ConfigError(
                    f"The AX port '{self.config.port_name}' does not expose {service}: its WSDL has no "
                    f"RoutingService port BasicHttpBinding_{service}. Add the service to the inbound port.",
                    system="ax", code="no_such_service")
            # AsyncClient.create_service would return a sync proxy (zeep 4.3), so build it here.
            proxy = AsyncServiceProxy(client, port.binding, address=self.config.endpoint)
            self._proxies[(service, raw_response)] = proxy
        return proxy

    def element(self, qname: str) -> Any:
        return self.zeep.get_element(qname)

    def type(self, qname: str) -> Any:
        return self.zeep.get_type(qname)

    def context(self, message_id: str) -> CallContext:
        c = self.config
        return CallContext(c.company, c.language, c.logon_as_user, message_id, c.partition_key)

    # --- calls -----------------------------------------------------------------------------------

    async def call(self, service: str, operation: str, *, idempotency_key: str | None = None,
                   raw: bool = False, **body: Any) -> Any:
        """Call one operation and return its result as plain data (see :mod:`.codec`), or as
        zeep objects with ``raw=True`` (to edit and send back, keeping ``xsi:type``s).

        With ``idempotency_key`` the MessageId is derived from it (same id on every retry of
        the same logical operation); without, a fresh one is used (reads). Raises the bridge
        error the fault table names for any fault, HTTP error or network failure.
        """
        message_id = (message_id_for(self.config.company, service, operation, idempotency_key)
                      if idempotency_key else random_message_id())
        op = getattr(self.proxy(service, raw_response=not raw), operation, None)
        if op is None:  # the WSDL of the port does not list the operation
            raise ConfigError(f"AX {service} has no operation '{operation}' on port '{self.config.port_name}'; "
                              "add it to the inbound port's service operations.", system="ax",
                              code="action_not_supported")
        exchange: dict[str, Any] = {}
        token = _exchange.set(exchange)
        where = {"service": service, "operation": operation, "company": self.config.company}
        # a CLIENT span with the HTTP and RPC attributes of the OpenTelemetry semantic conventions
        # (AIF is WCF: rpc.system "dotnet_wcf"); the URL without user info or query
        url = urlsplit(self.config.endpoint)
        with _tracer.start_as_current_span(f"ax {service}.{operation}", kind=SpanKind.CLIENT, attributes={
                "rpc.system": "dotnet_wcf", "rpc.service": service, "rpc.method": operation,
                "http.request.method": "POST", "server.address": url.hostname or "",
                "server.port": url.port or (443 if url.scheme == "https" else 80),
                "url.full": f"{url.scheme}://{url.hostname}{':' + str(url.port) if url.port else ''}{url.path}"}) as span:
            span.set_attribute("ax.service", service)
            span.set_attribute("ax.operation", operation)
            span.set_attribute("ax.company", self.config.company)
            span.set_attribute("ax.message_id", message_id)
            try:
                result = await op(_soapheaders={"context": self.context(message_id).as_header()}, **body)
            except zeep.exceptions.Fault as fault:
                status = exchange.get("status")
                if not isinstance(fault.detail, etree._Element) and status not in (200, 500):
                    # Not a SOAP fault: an IIS/proxy error page that happened to parse as XML.
                    raise self._traced(span, error_for_http_status(
                        status or 0, request_bytes=exchange.get("request_bytes"),
                        retry_after=exchange.get("retry_after"), **where)) from None
                detail = fault.detail if isinstance(fault.detail, etree._Element) else None
                info = parse_aif_fault(fault.message, detail, status)
                raise self._traced(span, error_for_fault(info, **where)) from None
            except zeep.exceptions.TransportError as exc:
                raise self._traced(span, error_for_http_status(
                    exc.status_code or exchange.get("status") or 0, request_bytes=exchange.get("request_bytes"),
                    retry_after=exchange.get("retry_after"), **where)) from None
            except zeep.exceptions.XMLParseError as exc:
                raise self._traced(span, PermanentError(
                    f"AX {service}.{operation} answered with a document that does not match the port's WSDL "
                    f"({exc.message}); reload the WSDL if the port was changed.", system="ax",
                    code="response_schema")) from None
            except zeep.exceptions.XMLSyntaxError:
                raise self._traced(span, error_for_http_status(
                    exchange.get("status") or 0, request_bytes=exchange.get("request_bytes"), **where)) from None
            except (httpx.TransportError, AttributeError) as exc:
                if isinstance(exc, AttributeError) and not closed_connection(exc):
                    raise
                raise self._traced(span, error_for_network(exc, **where)) from None
            except (zeep.exceptions.ValidationError, TypeError) as exc:
                # zeep refused to serialise the request: the document does not fit the port's schema.
                raise self._traced(span, PermanentError(
                    f"AX {service}.{operation}: the request does not fit the port's schema: {exc}.",
                    system="ax", code="request_schema")) from None
            finally:
                _exchange.reset(token)
                if exchange.get("status"):
                    span.set_attribute("http.response.status_code", exchange["status"])
            if not raw:
                try:
                    return decode_response(result.status_code, result.content, wrapper_ns=SERVICES_NS)
                except SoapFault as fault:
                    raise self._traced(span, error_for_fault(fault.info, **where)) from None
                except NotSoap:
                    raise self._traced(span, error_for_http_status(
                        result.status_code, request_bytes=exchange.get("request_bytes"),
                        retry_after=exchange.get("retry_after"), **where)) from None
        return result

    @staticmethod
    def _traced(span: Any, err: BridgeError) -> BridgeError:
        span.set_attribute("error.type", type(err).__name__)
        span.set_attribute("ax.error_code", str(err.code))
        return err


class _WsdlLoader(zeep.Transport):
    """Loads WSDL/XSD documents with the configured (authenticated) sync httpx client."""

    def __init__(self, http: httpx.Client) -> None:
        super().__init__()
        self._client = http

    def _load_remote_data(self, url: str) -> bytes:
        response = self._client.get(url)
        if response.status_code != 200:
            raise zeep.exceptions.TransportError(status_code=response.status_code)
        return response.content
