"""Decoding AIF SOAP responses into plain data, without zeep's object model.

zeep builds an object with every element of the schema for each entity it parses; AX entities
have hundreds of optional fields (SalesTable ~300), so that costs milliseconds per record. The
views of :mod:`.models` need only a dict of what AX actually sent, which lxml gives for a small
fraction of that. Requests are still built and checked by zeep against the port's WSDL.

Contract of :func:`decode_response`: the HTTP status and body of one SOAP 1.1 answer in; out
comes the content of the response wrapper as plain data (see :func:`to_plain`), ``None`` for an
empty wrapper (update, delete). A ``s:Fault`` raises :class:`SoapFault` with the decoded
``AifFault``; anything that is not a SOAP envelope raises :class:`NotSoap` (the caller maps the
HTTP status). DTDs, entities and network access are refused while parsing.
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from connectors.dynamics_ax.errors import AifFaultInfo, parse_aif_fault

__all__ = ["NotSoap", "SERVICES_NS", "SoapFault", "decode_response", "to_plain"]

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
_NIL = f"{{{XSI_NS}}}nil"
#: the namespace of every AIF document service's response wrapper
SERVICES_NS = "http://schemas.microsoft.com/dynamics/2008/01/services"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                          remove_comments=True, remove_pis=True)


class SoapFault(Exception):
    """The answer was a SOAP fault; ``info`` holds the decoded AifFault."""

    def __init__(self, info: AifFaultInfo) -> None:
        super().__init__(info.faultstring)
        self.info = info


class NotSoap(Exception):
    """The answer was not a SOAP envelope (an IIS error page, a proxy, an empty body)."""


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def to_plain(el: etree._Element) -> Any:
    """An element as plain data: a leaf gives its text; a complex element a dict keyed by child local
    names (plus its non-XML-Schema attributes such as ``class`` and ``action``). Entities
    (``class="entity"``) and repeated elements are lists; nil and empty leaves are left out."""
    # Most elements are leaves: test that first, without building a list of children.
    if len(el) == 0 or not any(isinstance(c.tag, str) for c in el):
        if el.get(_NIL) == "true":
            return None
        if el.attrib:
            attrs = {k: v for k, v in el.attrib.items() if not k.startswith("{")}
            if attrs:  # an entity with no fields of its own
                return attrs
        return el.text if el.text else None
    out: dict[str, Any] = {k: v for k, v in el.attrib.items() if not k.startswith("{")} if el.attrib else {}
    for child in el:
        if not isinstance(child.tag, str):  # comments and PIs (the parser drops them; others may not)
            continue
        value = to_plain(child)
        if value is None:
            continue
        name = _local(child.tag)
        if name in out:
            if not isinstance(out[name], list):
                out[name] = [out[name]]
            out[name].append(value)
        elif child.get("class") == "entity":
            out[name] = [value]
        else:
            out[name] = value
    return out


def decode_response(status: int, content: bytes, *, wrapper_ns: str | None = None) -> Any:
    """See the module docstring. With ``wrapper_ns`` (the client passes :data:`SERVICES_NS`), a
    response wrapper in another namespace raises :class:`NotSoap`."""
    if not content:
        raise NotSoap("empty body")
    try:
        root = etree.fromstring(content, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise NotSoap(str(exc)) from None
    if root.getroottree().docinfo.doctype or root.tag != f"{{{SOAP_NS}}}Envelope":
        raise NotSoap("not a SOAP 1.1 envelope")
    body = root.find(f"{{{SOAP_NS}}}Body")
    if body is None:
        raise NotSoap("no SOAP body")
    fault = body.find(f"{{{SOAP_NS}}}Fault")
    if fault is not None:
        raise SoapFault(parse_aif_fault(fault.findtext("faultstring"), fault.find("detail"), status))
    if status != 200:
        raise NotSoap(f"HTTP {status} without a SOAP fault")
    wrapper = next((c for c in body if isinstance(c.tag, str)), None)
    if wrapper is None:
        return None
    if wrapper_ns is not None and not wrapper.tag.startswith(f"{{{wrapper_ns}}}"):
        # AIF puts every response wrapper in its services namespace; anything else is not an
        # answer of a document service (a misrouted or forged document), whatever it contains
        raise NotSoap("the response wrapper is not in the expected namespace")
    parts = [c for c in wrapper if isinstance(c.tag, str)]
    if not parts:
        return None
    # Every AIF response wrapper holds one part (the document, EntityKeyList or EntityKeyPage).
    return to_plain(parts[0]) if len(parts) == 1 else {_local(c.tag): to_plain(c) for c in parts}
