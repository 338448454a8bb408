"""The bundled WSDL/XSD files: shaped like an IIS-hosted AX 2012 port, loadable by zeep and
xmlschema, and identical to what the generator produces from documents.json."""

from __future__ import annotations

from pathlib import Path

import pytest
import xmlschema
import zeep
from lxml import etree

from connectors.dynamics_ax.wsdl import NS, SCHEMA_FILES, SERVICES, WSDL_DIR, WSDL_FILES, WSDL_PATH
from connectors.dynamics_ax.wsdl.generate import main as generate

pytestmark = pytest.mark.unit
W = f"{{{NS['wsdl']}}}"


def test_generated_files_are_up_to_date(tmp_path: Path):
    for written in generate(tmp_path):
        assert written.read_bytes() == (WSDL_DIR / written.name).read_bytes(), f"{written.name} is stale"


def test_zeep_loads_the_bundled_wsdl_with_every_port_and_header():
    client = zeep.Client(str(WSDL_PATH))
    service = client.wsdl.services["RoutingService"]
    assert set(service.ports) == {f"BasicHttpBinding_{s}" for s in SERVICES} | {"reqReplyEndpoint"}
    op = service.ports["BasicHttpBinding_SalesOrderService"].binding._operations["getChangedKeys"]
    assert op.soapaction == "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/getChangedKeys"
    assert "context" in str(op.input.header.signature())


def test_messages_parts_and_faults_follow_the_wcf_names():
    services = etree.parse(str(WSDL_DIR / "services.wsdl")).getroot()
    messages = {m.get("name"): m for m in services.iter(W + "message")}
    for name, spec in SERVICES.items():
        for op in spec.operations:
            wrapper = f"{name}{op[0].upper()}{op[1:]}"
            assert messages[wrapper + "Request"].find(W + "part").get("name") == "parameters"
            header = messages[wrapper + "Request_Headers"].find(W + "part")
            assert (header.get("name"), header.get("element")) == ("context", "q_ctx:CallContext")
            fault = messages[f"{name}_{op}_AifFaultFault_FaultMessage"].find(W + "part")
            assert (fault.get("name"), fault.get("element")) == ("detail", "q_fault:AifFault")
    root = etree.parse(str(WSDL_PATH)).getroot()
    assert root.get("targetNamespace") == "http://tempuri.org/" and root.get("name") == "RoutingService"
    assert [i.get("location") for i in root.iter(W + "import")] == list(WSDL_FILES)


@pytest.mark.parametrize("name", list(SCHEMA_FILES))
def test_every_schema_loads_in_xmlschema(name: str):
    schema = xmlschema.XMLSchema(str(WSDL_DIR / name))
    assert schema.target_namespace == SCHEMA_FILES[name]


def test_schema_facts_from_the_reference():
    order = xmlschema.XMLSchema(str(WSDL_DIR / "SalesOrder.xsd"))
    table = order.types["AxdEntity_SalesTable"]
    names = [e.local_name for e in table.content.iter_elements()]
    assert names[0] == "_DocumentHash"
    assert names.index("SalesLine") > names.index("URL")  # child entities after the fields
    po = next(e for e in table.content.iter_elements() if e.local_name == "PurchOrderFormNum")
    assert po.min_occurs == 1 and po.type.max_length == 20
    shared = xmlschema.XMLSchema(str(WSDL_DIR / "SharedTypes.xsd"))
    assert shared.types["AxdEnum_SalesStatus"].enumeration == ["None", "Backorder", "Delivered", "Invoiced",
                                                               "Canceled"]
