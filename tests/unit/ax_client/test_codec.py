"""Response decoding: shapes, nil and empty values, faults, non-SOAP answers, refused DTDs."""

from __future__ import annotations

import pytest

from connectors.dynamics_ax.codec import NotSoap, SoapFault, decode_response

pytestmark = pytest.mark.unit

ENV = '<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>{}</s:Body></s:Envelope>'


def test_document_entities_are_lists_and_nil_is_dropped():
    body = ('<R xmlns="urn:svc"><Customer xmlns="urn:doc" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">'
            '<CustTable class="entity"><AccountNum>C-1</AccountNum><Memo i:nil="true"/><Name></Name>'
            '<DirParty class="entity" i:type="AxdEntity_DirParty_DirPerson"><Name>Ann</Name></DirParty>'
            "</CustTable></Customer></R>")
    out = decode_response(200, ENV.format(body).encode())
    assert out == {"CustTable": [{"class": "entity", "AccountNum": "C-1",
                                  "DirParty": [{"class": "entity", "Name": "Ann"}]}]}


def test_repeated_elements_become_lists():
    body = ('<R xmlns="urn:svc"><EntityKeyList xmlns="urn:ekl"><EntityKey><KeyData><KeyField><Field>A</Field>'
            "<Value>1</Value></KeyField></KeyData></EntityKey><EntityKey><KeyData><KeyField><Field>A</Field>"
            "<Value>2</Value></KeyField></KeyData></EntityKey></EntityKeyList></R>")
    out = decode_response(200, ENV.format(body).encode())
    assert [k["KeyData"]["KeyField"]["Value"] for k in out["EntityKey"]] == ["1", "2"]


def test_empty_wrapper_is_none():
    assert decode_response(200, ENV.format('<UpdateResponse xmlns="urn:svc"/>').encode()) is None


def test_fault_raises_with_decoded_detail():
    body = ("<s:Fault><faultcode>s:Client</faultcode><faultstring>Boom.</faultstring><detail>"
            '<AifFault xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Fault">'
            "<XppExceptionType>2</XppExceptionType></AifFault></detail></s:Fault>")
    with pytest.raises(SoapFault) as info:
        decode_response(500, ENV.format(body).encode())
    assert info.value.info.xpp_exception_type == 2 and info.value.info.faultstring == "Boom."


@pytest.mark.parametrize(
    ("status", "content"),
    [(503, b""), (400, b"<html><body>Bad Request</body></html>"), (500, b"not xml at all"),
     (500, ENV.format("").replace("s:Body", "s:Bogus").encode())],
)
def test_not_soap(status, content):
    with pytest.raises(NotSoap):
        decode_response(status, content)


def test_dtd_and_entities_are_refused():
    evil = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "boom">]>'
            b'<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><R><A>&x;</A></R></s:Body></s:Envelope>')
    with pytest.raises(NotSoap):
        decode_response(200, evil)
