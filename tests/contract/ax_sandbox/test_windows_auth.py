"""The sandbox's IIS Windows authentication, driven by hand over real TCP connections: the 401
provider list on SOAP, ``?wsdl`` and ``?xsd``; the NTLM handshake bound to its connection; IIS's
connection-based authentication; refusal of a wrong password; SPNEGO (Negotiate) with the final
mutual-authentication token; the control API staying open and an outage answering 503 first."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
import spnego

from connectors.dynamics_ax.sandbox import FaultSettings, SandboxConfig, run_in_thread
from tests.unit.ax_sandbox.soap import envelope, key_list, wrap

pytestmark = pytest.mark.contract
CONFIG = SandboxConfig(seed=2, items=3, customers=1, open_orders=0, windows_auth=("CONTOSO\\svc-bridge", "s3cret!"))
READ = {"Content-Type": "text/xml; charset=utf-8",
        "SOAPAction": '"http://schemas.microsoft.com/dynamics/2008/01/services/ItemService/read"'}
BODY = envelope(wrap("ItemService", "read", key_list("ItemId", "A0001")))


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with run_in_thread(CONFIG) as base:
        yield base + CONFIG.service_path


def one_connection() -> httpx.Client:
    return httpx.Client(limits=httpx.Limits(max_connections=1, max_keepalive_connections=1), timeout=10)


def token(response: httpx.Response, scheme: str) -> bytes:
    values = [v for v in response.headers.get_list("www-authenticate") if v.startswith(scheme + " ")]
    assert len(values) == 1, response.headers
    return base64.b64decode(values[0].split(" ", 1)[1])


def post(http: httpx.Client, url: str, scheme: str | None = None, raw: bytes | None = None) -> httpx.Response:
    headers = dict(READ)
    if scheme is not None:
        headers["Authorization"] = f"{scheme} {base64.b64encode(raw or b'').decode()}"
    return http.post(url, content=BODY, headers=headers)


def ntlm(user: str = "CONTOSO\\svc-bridge", password: str = "s3cret!", protocol: str = "ntlm"):
    return spnego.client(user, password, hostname="127.0.0.1", service="HTTP", protocol=protocol)


def test_every_url_of_the_port_asks_for_windows_credentials(url):
    for method, target in (("POST", url), ("GET", url + "?wsdl"), ("GET", url + "?xsd=xsd0"), ("GET", url)):
        r = httpx.request(method, target, content=BODY if method == "POST" else None, headers=READ)
        assert r.status_code == 401, target
        assert r.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]
        assert "Access is denied" in r.text
    assert httpx.get(url.split("/MicrosoftDynamicsAXAif60")[0] + "/_sandbox/state").status_code == 200


def test_ntlm_handshake_on_one_connection_then_connection_based_auth(url):
    ctx = ntlm()
    with one_connection() as http:
        challenged = post(http, url, "NTLM", ctx.step())
        assert challenged.status_code == 401
        done = post(http, url, "NTLM", ctx.step(token(challenged, "NTLM")))
        assert done.status_code == 200 and "<ItemId>A0001</ItemId>" in done.text
        again = post(http, url)  # same TCP connection, no Authorization: IIS keeps it authenticated
        assert again.status_code == 200
        wsdl = http.get(url + "?wsdl")
        assert wsdl.status_code == 200 and b"BasicHttpBinding_ItemService" in wsdl.content
    with one_connection() as other:  # a new connection starts unauthenticated
        assert post(other, url).status_code == 401


def test_answer_on_another_connection_is_refused(url):
    ctx = ntlm()
    with one_connection() as first, one_connection() as second:
        challenged = post(first, url, "NTLM", ctx.step())
        answer = ctx.step(token(challenged, "NTLM"))
        refused = post(second, url, "NTLM", answer)
        assert refused.status_code == 401
        assert refused.headers.get_list("www-authenticate") == ["Negotiate", "NTLM"]


@pytest.mark.parametrize("user,password", [("CONTOSO\\svc-bridge", "wrong"), ("CONTOSO\\intruder", "s3cret!")])
def test_wrong_account_or_password_is_refused(url, user, password):
    ctx = ntlm(user, password)
    with one_connection() as http:
        challenged = post(http, url, "NTLM", ctx.step())
        refused = post(http, url, "NTLM", ctx.step(token(challenged, "NTLM")))
        assert refused.status_code == 401
        assert post(http, url).status_code == 401  # and the connection is not authenticated


def test_user_without_domain_is_accepted_like_a_member_server(url):
    ctx = ntlm("svc-bridge")
    with one_connection() as http:
        challenged = post(http, url, "NTLM", ctx.step())
        assert post(http, url, "NTLM", ctx.step(token(challenged, "NTLM"))).status_code == 200


def test_negotiate_spnego_with_mutual_authentication(url):
    ctx = ntlm(protocol="negotiate")
    with one_connection() as http:
        challenged = post(http, url, "Negotiate", ctx.step())
        assert challenged.status_code == 401
        done = post(http, url, "Negotiate", ctx.step(token(challenged, "Negotiate")))
        assert done.status_code == 200
        ctx.step(token(done, "Negotiate"))  # the server's final token verifies (raises if forged)
        assert ctx.complete


def test_outage_answers_503_before_authentication():
    with run_in_thread(replace(CONFIG, faults=FaultSettings(outage=True))) as base:
        r = httpx.post(base + CONFIG.service_path, content=BODY, headers=READ)
        wsdl = httpx.get(base + CONFIG.service_path + "?wsdl")
    assert r.status_code == 503 and wsdl.status_code == 503


def test_password_not_in_repr():
    assert "s3cret!" not in repr(CONFIG) and "windows" in repr(CONFIG)
