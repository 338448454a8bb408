"""Microsoft Dynamics AX 2012 connector: AIF document services over an IIS HTTP port, on zeep.

``Client`` is the entry point (see ``client.py``); ``AxConfig`` configures it. The layers:
``soap`` (zeep + httpx, WSDL cache, CallContext, fault mapping), ``codec`` (response
decoding with lxml, cheaper than zeep's object model), ``documents`` (the eight
document operations with AIF's rules), ``models`` (typed views), ``payloads`` (what is sent),
``errors`` (the one fault table), ``auth`` (NTLM/Negotiate/Basic), ``query`` (QueryCriteria).
"""

from connectors.dynamics_ax.client import ENTITIES, Canceled, Client, Created, check_port
from connectors.dynamics_ax.config import AuthConfig, AxConfig, ServiceNames
from connectors.dynamics_ax.context import CallContext, message_id_for
from connectors.dynamics_ax.documents import DocumentService, DocumentSpec
from connectors.dynamics_ax.errors import FAULT_TABLE, AifFaultInfo, AlreadyDeliveredError
from connectors.dynamics_ax.models import (
    Customer,
    CustTrans,
    EntityKey,
    Invoice,
    Item,
    KeyPage,
    OnHand,
    PackingSlip,
    SalesOrder,
)
from connectors.dynamics_ax.payloads import NewAddress, NewCustomer, NewSalesLine, NewSalesOrder
from connectors.dynamics_ax.query import Criterion, Operator

__all__ = [
    "ENTITIES",
    "FAULT_TABLE",
    "AifFaultInfo",
    "AlreadyDeliveredError",
    "AuthConfig",
    "AxConfig",
    "CallContext",
    "Canceled",
    "Client",
    "Created",
    "Criterion",
    "check_port",
    "Customer",
    "DocumentService",
    "DocumentSpec",
    "EntityKey",
    "CustTrans",
    "Invoice",
    "Item",
    "KeyPage",
    "NewAddress",
    "NewCustomer",
    "NewSalesLine",
    "NewSalesOrder",
    "OnHand",
    "Operator",
    "PackingSlip",
    "SalesOrder",
    "ServiceNames",
    "message_id_for",
]
