"""The connector's Windows authentication (NTLM and Negotiate, connectors/dynamics_ax/auth.py)
against the sandbox started with IIS Windows authentication, over real HTTP end to end: the
remote WSDL and its XSDs are fetched through the handshake, then reads and a create go through
the one-connection lanes while the sandbox checks every token per TCP connection."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import httpx
import pytest

from connectors.dynamics_ax import AuthConfig, Client, NewAddress, NewSalesLine, NewSalesOrder
from connectors.dynamics_ax.sandbox.config import SandboxConfig
from connectors.dynamics_ax.sandbox.server import run_in_thread
from connectors.dynamics_ax.soap import clear_wsdl_cache
from connectors.errors import AuthError

pytestmark = pytest.mark.contract
PASSWORD = "Pa55-word!"


@pytest.fixture(scope="module")
def windows_sandbox():
    config = SandboxConfig(seed=5, items=4, customers=2, open_orders=0, workers=2,
                           windows_auth=("CONTOSO\\svc-bridge", PASSWORD))
    with run_in_thread(config) as base:
        yield base


def _order(ref: str, account: str) -> NewSalesOrder:
    return NewSalesOrder(cust_account=account, shop_reference=ref, currency="EUR", delivery_name="Ann Lee",
                         delivery_address=NewAddress(street="1 Rue de Rivoli", city="Paris", zip_code="75001",
                                                     country="FRA"),
                         requested_receipt_date=dt.date(2026, 12, 1),
                         lines=[NewSalesLine(item_id="A0001", qty=Decimal(1), unit="ea", warehouse="11")])


@pytest.mark.parametrize("mode", ["ntlm", "negotiate"])
async def test_connector_authenticates_with_windows_credentials(windows_sandbox, make_config, mode):
    clear_wsdl_cache()  # the remote WSDL must come through the handshake in this test
    fetched: list[int] = []

    class Recording(httpx.HTTPTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = super().handle_request(request)
            fetched.append(response.status_code)
            return response

    auth = AuthConfig(mode=mode, username="svc-bridge", domain="CONTOSO", password=PASSWORD)
    async with Client(make_config(windows_sandbox, auth=auth, max_connections=3),
                      wsdl_transport=Recording()) as ax:
        items = await asyncio.gather(*(ax.read_items(["A0001", "A0002"]) for _ in range(6)))
        account = (await ax.service("customer").get_keys(page_size=1)).keys[0].value
        created = await ax.create_sales_order(_order(f"WEB-NTLM-{mode}", account), idempotency_key=mode)
        found = await ax.find_sales_order_by_reference(f"WEB-NTLM-{mode}")
    # the WSDL/XSD loads were challenged once, then served over the authenticated connection
    assert fetched[0] == 401 and fetched.count(401) == 1 and fetched[1:] == [200] * (len(fetched) - 1)
    assert all([i.item_id for i in got] == ["A0001", "A0002"] for got in items)
    assert found is not None and found.sales_id == created.key


async def test_wrong_password_is_an_auth_error_without_the_secret(windows_sandbox, make_config):
    bad = AuthConfig(mode="ntlm", username="CONTOSO\\svc-bridge", password="not-the-one")
    async with Client(make_config(windows_sandbox, auth=bad, wsdl="bundled")) as ax:
        with pytest.raises(AuthError) as info:
            await ax.read_items(["A0001"])
    assert info.value.code == "unauthorized"
    assert "not-the-one" not in info.value.message and PASSWORD not in info.value.message


async def test_remote_wsdl_needs_the_credentials(windows_sandbox, make_config):
    clear_wsdl_cache()
    async with Client(make_config(windows_sandbox)) as ax:  # auth mode none
        with pytest.raises(AuthError):
            await ax.read_items(["A0001"])


class _Statuses(httpx.AsyncHTTPTransport):
    """A real connection pool that notes the status of every response, handshake legs included."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[int] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        self.seen.append(response.status_code)
        return response


@pytest.mark.parametrize("protocol", ["ntlm", "negotiate"])
async def test_an_authenticated_lane_skips_the_handshake_until_iis_asks_again(windows_sandbox, protocol):
    from connectors.dynamics_ax.auth import SpnegoAuth
    from connectors.dynamics_ax.soap import Lanes
    from tests.unit.ax_sandbox.soap import PATH, envelope, key_list, wrap

    transport = _Statuses()
    lanes = Lanes(1, auth=SpnegoAuth("CONTOSO\\svc-bridge", PASSWORD, protocol=protocol), transport=transport,
                  base_url=windows_sandbox)
    headers = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": '"http://schemas.microsoft.com/dynamics/2008/01/services/ItemService/read"'}
    body = envelope(wrap("ItemService", "read", key_list("ItemId", "A0001")))
    try:
        for _ in range(4):
            async with lanes.lane() as client:
                assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        assert transport.seen == [401, 200, 200, 200, 200]  # one handshake, then the connection is trusted
        await transport.aclose()  # the connection goes away: IIS forgets it, the next call handshakes again
        async with lanes.lane() as client:
            assert (await client.post(PATH, content=body, headers=headers)).status_code == 200
        assert transport.seen[5:] == [401, 401, 200]  # bare request refused, then challenge and answer
    finally:
        await lanes.aclose()
