"""Generate the bundled WSDL + XSD files of the AX 2012 enhanced HTTP port.

Run ``python -m connectors.dynamics_ax.wsdl.generate`` after changing ``catalog.py``,
``schema_builder.py`` or ``documents.json``; the generated files are committed.

The WSDL has the shape IIS publishes for an AX 2012 enhanced HTTP port (WCF routing service):

* ``xppservice.wsdl`` (``?wsdl``): ``targetNamespace=http://tempuri.org/``, one SOAP 1.1 binding
  ``BasicHttpBinding_{Service}`` per service plus ``reqReplyEndpoint`` (the router contract),
  and the service ``RoutingService`` with one port per binding;
* ``services.wsdl`` (``?wsdl=wsdl0``): the portTypes ``{Service}``, messages
  ``{Service}{Op}Request`` (part ``parameters``), ``{Service}{Op}Request_Headers`` (part
  ``context`` = ``CallContext``), ``{Service}{Op}Response`` and the fault message
  ``{Service}_{op}_AifFaultFault_FaultMessage`` (part ``detail`` = ``AifFault``);
* ``routing.wsdl`` (``?wsdl=wsdl1``): ``IRequestReplyRouter``;
* the XSDs listed in ``schema_builder.SCHEMA_FILES`` (``?xsd=xsd0`` ...).

Files refer to each other by file name, so zeep can load ``xppservice.wsdl`` from disk.
"""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from .catalog import NS, SERVICES, fault_action, reply_action, soap_action, wrapper_name
from .schema_builder import SCHEMA_FILES, build_all, load_reference

__all__ = ["DEFAULT_ADDRESS", "build_routing_wsdl", "build_root_wsdl", "build_services_wsdl", "main"]

HERE = Path(__file__).resolve().parent
#: Placeholder endpoint in the bundled WSDL; clients and the sandbox substitute the real one.
DEFAULT_ADDRESS = "http://localhost/MicrosoftDynamicsAXAif60/WebShop/xppservice.svc"

W = f"{{{NS['wsdl']}}}"
SOAP = f"{{{NS['soap']}}}"
WSAW = f"{{{NS['wsaw']}}}"
WSP = f"{{{NS['wsp']}}}"
WSU = f"{{{NS['wsu']}}}"


def _definitions(target_ns: str, extra: dict[str, str], name: str | None = None) -> etree._Element:
    nsmap = {
        "wsdl": NS["wsdl"],
        "soap": NS["soap"],
        "xsd": NS["xs"],
        "wsaw": NS["wsaw"],
        "wsp": NS["wsp"],
        "wsu": NS["wsu"],
        "tns": target_ns,
        **extra,
    }
    root = etree.Element(W + "definitions", nsmap=nsmap)
    if name:
        root.set("name", name)
    root.set("targetNamespace", target_ns)
    return root


def build_services_wsdl() -> etree._Element:
    """``wsdl0``: types (schema imports), messages and one portType per document service."""
    root = _definitions(NS["services"], {"q_ctx": NS["context"], "q_fault": NS["fault"]})
    types = etree.SubElement(root, W + "types")
    holder = etree.SubElement(types, f"{{{NS['xs']}}}schema", targetNamespace=NS["services"] + "/Imports")
    for file_name, ns in SCHEMA_FILES.items():
        etree.SubElement(holder, f"{{{NS['xs']}}}import", schemaLocation=file_name, namespace=ns)
    for spec in SERVICES.values():
        for op in spec.operations:
            req, resp = wrapper_name(spec.name, op, "Request"), wrapper_name(spec.name, op, "Response")
            msg = etree.SubElement(root, W + "message", name=req)
            etree.SubElement(msg, W + "part", name="parameters", element="tns:" + req)
            msg = etree.SubElement(root, W + "message", name=req + "_Headers")
            etree.SubElement(msg, W + "part", name="context", element="q_ctx:CallContext")
            msg = etree.SubElement(root, W + "message", name=resp)
            etree.SubElement(msg, W + "part", name="parameters", element="tns:" + resp)
            msg = etree.SubElement(root, W + "message", name=f"{spec.name}_{op}_AifFaultFault_FaultMessage")
            etree.SubElement(msg, W + "part", name="detail", element="q_fault:AifFault")
    for spec in SERVICES.values():
        port_type = etree.SubElement(root, W + "portType", name=spec.name)
        for op in spec.operations:
            operation = etree.SubElement(port_type, W + "operation", name=op)
            req, resp = wrapper_name(spec.name, op, "Request"), wrapper_name(spec.name, op, "Response")
            etree.SubElement(
                operation,
                W + "input",
                {WSAW + "Action": soap_action(spec.name, op), "name": req, "message": "tns:" + req},
            )
            etree.SubElement(
                operation,
                W + "output",
                {WSAW + "Action": reply_action(spec.name, op), "name": resp, "message": "tns:" + resp},
            )
            etree.SubElement(
                operation,
                W + "fault",
                {
                    WSAW + "Action": fault_action(spec.name, op),
                    "name": "AifFaultFault",
                    "message": f"tns:{spec.name}_{op}_AifFaultFault_FaultMessage",
                },
            )
    return root


def build_routing_wsdl() -> etree._Element:
    """``wsdl1``: the WCF router contract behind the ``reqReplyEndpoint`` port."""
    root = _definitions(NS["routing"], {})
    etree.SubElement(root, W + "types")
    for name in (
        "IRequestReplyRouter_ProcessRequestReply_InputMessage",
        "IRequestReplyRouter_ProcessRequestReply_OutputMessage",
    ):
        etree.SubElement(root, W + "message", name=name)
    port_type = etree.SubElement(root, W + "portType", name="IRequestReplyRouter")
    operation = etree.SubElement(port_type, W + "operation", name="ProcessRequestReply")
    etree.SubElement(
        operation,
        W + "input",
        {WSAW + "Action": "*", "message": "tns:IRequestReplyRouter_ProcessRequestReply_InputMessage"},
    )
    etree.SubElement(
        operation,
        W + "output",
        {WSAW + "Action": "*", "message": "tns:IRequestReplyRouter_ProcessRequestReply_OutputMessage"},
    )
    return root


def _policy(root: etree._Element, policy_id: str) -> None:
    # basicHttpBinding with TransportCredentialOnly/Windows advertises Negotiate (NTLM/Kerberos).
    policy = etree.SubElement(root, WSP + "Policy", {WSU + "Id": policy_id})
    all_ = etree.SubElement(etree.SubElement(policy, WSP + "ExactlyOne"), WSP + "All")
    etree.SubElement(all_, f"{{{NS['httppolicy']}}}NegotiateAuthentication", nsmap={"http": NS["httppolicy"]})


def build_root_wsdl(address: str = DEFAULT_ADDRESS) -> etree._Element:
    """``?wsdl``: bindings and the ``RoutingService`` service in ``http://tempuri.org/``."""
    root = _definitions(NS["tempuri"], {"i0": NS["services"], "i1": NS["routing"]}, name="RoutingService")
    for spec in SERVICES.values():
        _policy(root, f"BasicHttpBinding_{spec.name}_policy")
    _policy(root, "reqReplyEndpoint_policy")
    etree.SubElement(root, W + "import", namespace=NS["services"], location="services.wsdl")
    etree.SubElement(root, W + "import", namespace=NS["routing"], location="routing.wsdl")
    etree.SubElement(root, W + "types")
    for spec in SERVICES.values():
        binding = etree.SubElement(
            root, W + "binding", name=f"BasicHttpBinding_{spec.name}", type="i0:" + spec.name
        )
        etree.SubElement(binding, WSP + "PolicyReference", URI=f"#BasicHttpBinding_{spec.name}_policy")
        etree.SubElement(binding, SOAP + "binding", transport="http://schemas.xmlsoap.org/soap/http")
        for op in spec.operations:
            operation = etree.SubElement(binding, W + "operation", name=op)
            etree.SubElement(
                operation, SOAP + "operation", soapAction=soap_action(spec.name, op), style="document"
            )
            req = wrapper_name(spec.name, op, "Request")
            input_ = etree.SubElement(operation, W + "input", name=req)
            etree.SubElement(
                input_, SOAP + "header", message=f"i0:{req}_Headers", part="context", use="literal"
            )
            etree.SubElement(input_, SOAP + "body", use="literal")
            output = etree.SubElement(operation, W + "output", name=wrapper_name(spec.name, op, "Response"))
            etree.SubElement(output, SOAP + "body", use="literal")
            fault = etree.SubElement(operation, W + "fault", name="AifFaultFault")
            etree.SubElement(fault, SOAP + "fault", name="AifFaultFault", use="literal")
    binding = etree.SubElement(root, W + "binding", name="reqReplyEndpoint", type="i1:IRequestReplyRouter")
    etree.SubElement(binding, WSP + "PolicyReference", URI="#reqReplyEndpoint_policy")
    etree.SubElement(binding, SOAP + "binding", transport="http://schemas.xmlsoap.org/soap/http")
    operation = etree.SubElement(binding, W + "operation", name="ProcessRequestReply")
    etree.SubElement(operation, SOAP + "operation", soapAction="*", style="document")
    etree.SubElement(etree.SubElement(operation, W + "input"), SOAP + "body", use="literal")
    etree.SubElement(etree.SubElement(operation, W + "output"), SOAP + "body", use="literal")
    service = etree.SubElement(root, W + "service", name="RoutingService")
    for spec in SERVICES.values():
        port = etree.SubElement(
            service,
            W + "port",
            name=f"BasicHttpBinding_{spec.name}",
            binding=f"tns:BasicHttpBinding_{spec.name}",
        )
        etree.SubElement(port, SOAP + "address", location=address)
    port = etree.SubElement(service, W + "port", name="reqReplyEndpoint", binding="tns:reqReplyEndpoint")
    etree.SubElement(port, SOAP + "address", location=address + "/reqReplyEndpoint")
    return root


def _write(path: Path, root: etree._Element) -> None:
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="utf-8", pretty_print=True))


def main(out_dir: Path = HERE) -> list[Path]:
    """Write every WSDL and XSD file into ``out_dir``; returns the paths written."""
    ref = load_reference(HERE.parent / "documents.json")
    written = []
    for name, root in {
        "xppservice.wsdl": build_root_wsdl(),
        "services.wsdl": build_services_wsdl(),
        "routing.wsdl": build_routing_wsdl(),
        **build_all(ref),
    }.items():
        _write(out_dir / name, root)
        written.append(out_dir / name)
    return written


if __name__ == "__main__":
    for p in main():
        print(p.name)
