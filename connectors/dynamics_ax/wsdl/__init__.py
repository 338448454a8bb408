"""The bundled WSDL and XSD files of an AX 2012 enhanced HTTP (IIS) inbound port.

``WSDL_PATH`` is the root WSDL (what ``.../xppservice.svc?wsdl`` returns); load it with
``zeep.Client(str(WSDL_PATH))`` and bind ``('RoutingService', 'BasicHttpBinding_<Service>')``.
The address inside is a placeholder (``generate.DEFAULT_ADDRESS``): clients pass the real
endpoint when they create the service proxy. ``SERVICES`` lists the exposed services and
operations, ``NS`` the namespaces. Regenerate with ``python -m connectors.dynamics_ax.wsdl.generate``.
"""

from __future__ import annotations

from pathlib import Path

from .catalog import NS, SERVICES, ServiceSpec, fault_action, reply_action, soap_action, wrapper_name
from .schema_builder import SCHEMA_FILES

__all__ = [
    "NS",
    "SCHEMA_FILES",
    "SERVICES",
    "WSDL_DIR",
    "WSDL_FILES",
    "WSDL_PATH",
    "ServiceSpec",
    "fault_action",
    "reply_action",
    "soap_action",
    "wrapper_name",
]

WSDL_DIR = Path(__file__).resolve().parent
WSDL_PATH = WSDL_DIR / "xppservice.wsdl"
#: The imported WSDL parts in ``?wsdl=wsdlN`` order.
WSDL_FILES: tuple[str, ...] = ("services.wsdl", "routing.wsdl")
