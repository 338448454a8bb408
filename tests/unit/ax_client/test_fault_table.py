"""The fault table: AifFault bodies in the reference's shape, HTTP statuses and network errors."""

from __future__ import annotations

import httpx
import pytest
from lxml import etree

from connectors.dynamics_ax.errors import (
    FAULT_TABLE,
    error_for_fault,
    error_for_http_status,
    error_for_network,
    parse_aif_fault,
)
from connectors.errors import (
    AuthError,
    ConfigError,
    DuplicateError,
    NotFoundError,
    PermanentError,
    TransientError,
    ValidationError,
)

pytestmark = pytest.mark.unit

ENVELOPE = """<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault>
<faultcode>s:Client</faultcode><faultstring xml:lang="en-US">{faultstring}</faultstring>
<detail><AifFault xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"
 xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
<CustomDetailXml i:nil="true"/>{fml}
<InfologMessageList xmlns:b="http://schemas.datacontract.org/2004/07/Microsoft.Dynamics.AX.Framework.Services">{infolog}</InfologMessageList>
<StackTrace i:nil="true"/><XppExceptionType>{xpp}</XppExceptionType></AifFault></detail></s:Fault></s:Body></s:Envelope>"""


def fault(faultstring: str, *, infolog: list[str] = (), xpp: int = 3, fml: str = "<FaultMessageListArray i:nil=\"true\"/>"):
    lines = "".join(
        f"<b:InfologMessage><b:InfologMessageType>Error</b:InfologMessageType><b:Message>{m}</b:Message></b:InfologMessage>"
        for m in infolog
    )
    doc = etree.fromstring(ENVELOPE.format(faultstring=faultstring, fml=fml, infolog=lines, xpp=xpp).encode())
    fs = doc.find(".//faultstring").text
    detail = doc.find(".//detail")
    return parse_aif_fault(fs, detail, 500)


def classify(info):
    return error_for_fault(info, service="SalesOrderService", operation="create", company="DAT")


def test_parse_reads_infolog_type_and_faultstring():
    info = fault("No valid document identified from the entity key.",
                 infolog=["No valid document identified from the entity key."], xpp=3)
    assert info.xpp_exception_type == 3
    assert info.infolog == (("Error", "No valid document identified from the entity key."),)
    # the faultstring repeats the infolog line and is not listed twice
    assert info.texts() == ["No valid document identified from the entity key."]


def test_parse_reads_every_fault_message_with_field_and_xpath():
    fml = """<FaultMessageListArray><FaultMessageList><Document>SalesOrder</Document>
      <FaultMessageArray><FaultMessage><Code>FieldMandatory</Code><Message>Field 'Customer account' must be filled in.</Message></FaultMessage>
      <FaultMessage><Code>Other</Code><Message>Second problem.</Message></FaultMessage></FaultMessageArray>
      <Field>CustAccount</Field><XPath>/SalesOrder/SalesTable/CustAccount</XPath></FaultMessageList></FaultMessageListArray>"""
    err = classify(fault("Request Failed.", fml=fml))
    assert isinstance(err, ValidationError)
    assert "[FieldMandatory] Field 'Customer account' must be filled in." in err.message
    assert "field CustAccount" in err.message and "XPath /SalesOrder/SalesTable/CustAccount" in err.message
    assert "Second problem." in err.message
    assert err.code == "business" and err.system == "ax"
    assert "SalesOrderService.create in company DAT" in err.message


@pytest.mark.parametrize(
    ("xpp", "code"),
    [(2, "deadlock"), (11, "update_conflict"), (12, "update_conflict"), (13, "duplicate_key_conflict"), (15, "timeout")],
)
def test_transient_exception_types(xpp, code):
    err = classify(fault("Request Failed.", infolog=["Something locked."], xpp=xpp))
    assert isinstance(err, TransientError) and err.code == code
    assert f"XppExceptionType {xpp}" in err.message


@pytest.mark.parametrize(
    ("text", "cls", "code"),
    [
        ("The document hash does not match the hash in the XML. The document may have been changed since last read",
         TransientError, "hash_mismatch"),
        ("Duplicate message. Message has already been processed.", DuplicateError, "duplicate_message"),
        ("No valid document identified from the entity key.", NotFoundError, "not_found"),
        ("Cannot create a record in Customers (CustTable). Customer account: C-1. The record already exists.",
         DuplicateError, "record_exists"),
        ("Invalid document schema. The following error is reported : The element 'SalesTable' has invalid child "
         "element 'LanguageId'.", ValidationError, "schema"),
        ("Customer account C-9 does not exist.", ValidationError, "business"),
    ],
)
def test_text_rows(text, cls, code):
    err = classify(fault(text, infolog=[text], xpp=3))
    assert type(err) is cls and err.code == code
    assert text.rstrip(".") in err.message


def test_generic_fault_is_permanent_with_advice():
    err = classify(fault("Request Failed. See the Exception Log for details.", xpp=3))
    assert type(err) is PermanentError and err.code == "generic"
    assert "Include exceptions in fault" in err.message


def test_generic_text_with_infolog_is_not_generic():
    err = classify(fault("Request Failed. See the Exception Log for details.", infolog=["Item X1 is blocked."]))
    assert type(err) is ValidationError and "Item X1 is blocked." in err.message


def test_action_not_supported_is_config():
    err = classify(fault("The message with Action 'x' cannot be processed at the receiver, due to a ContractFilter "
                         "mismatch at the EndpointDispatcher.", xpp=3))
    assert isinstance(err, ConfigError)


@pytest.mark.parametrize(
    ("status", "cls", "code"),
    [(401, AuthError, "unauthorized"), (403, AuthError, "unauthorized"), (400, PermanentError, "message_too_large"),
     (404, ConfigError, "no_such_port"), (503, TransientError, "unavailable"), (502, TransientError, "unavailable"),
     (504, TransientError, "unavailable"), (418, PermanentError, "http_error")],
)
def test_http_rows(status, cls, code):
    err = error_for_http_status(status, service="CustomerService", operation="read", request_bytes=70_000)
    assert type(err) is cls and err.code == code
    assert f"HTTP {status}" in err.message


def test_http_400_names_size_and_advice():
    err = error_for_http_status(400, service="SalesOrderService", operation="create", request_bytes=70_123)
    assert "70123 bytes" in err.message and "maxReceivedMessageSize" in err.message


def test_retry_after_is_carried():
    err = error_for_http_status(503, service="S", operation="read", retry_after="7")
    assert isinstance(err, TransientError) and err.retry_after == 7.0
    err = error_for_http_status(503, service="S", operation="read", retry_after="Wed, 21 Oct 2015 07:28:00 GMT")
    assert err.retry_after is None


def test_network_errors_are_transient():
    err = error_for_network(httpx.ConnectError("connection refused"), service="S", operation="read")
    assert isinstance(err, TransientError) and err.code == "network" and "ConnectError" in err.message


def test_table_has_one_row_per_name():
    names = [r.name for r in FAULT_TABLE]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("text", "is_company"),
    [("Company 'XYZ' does not exist.", True), ("The company ZZZ does not exist on this server.", True),
     ("Customer account C-9 does not exist.", False), ("Customer account C-9 does not exist in company DAT.", False)],
)
def test_unknown_company_row_is_narrow(text, is_company):
    err = classify(fault(text, infolog=[text]))
    assert isinstance(err, ConfigError) is is_company


def test_texts_win_over_exception_types():
    err = classify(fault("Cannot create a record in Customers (CustTable). Customer account: C-1. The record "
                         "already exists.", xpp=13))
    assert isinstance(err, DuplicateError) and err.code == "record_exists"
    err = classify(fault("Duplicate message. Message has already been processed.", xpp=2))
    assert isinstance(err, DuplicateError) and err.code == "duplicate_message"
