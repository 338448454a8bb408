"""Remote WSDL loading: authenticated like the calls, relative imports resolved, parsed once."""

from __future__ import annotations

import base64
from pathlib import PurePosixPath

import httpx
import pytest

from connectors.dynamics_ax import AuthConfig, AxConfig, Client
from connectors.dynamics_ax.soap import BUNDLED_WSDL, clear_wsdl_cache
from connectors.errors import AuthError, ConfigError, TransientError

pytestmark = pytest.mark.unit

GOOD = "Basic " + base64.b64encode(b"svc:right").decode()


class IisMetadata:
    """Serves the bundled WSDL/XSD files like IIS with authentication required on the directory."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(str(request.url))
        if request.headers.get("authorization") != GOOD:
            return httpx.Response(401, headers={"WWW-Authenticate": "Negotiate"}, text="401 - Unauthorized")
        name = PurePosixPath(request.url.path).name
        if name == "xppservice.svc" and request.url.query == b"wsdl":
            name = "xppservice.wsdl"
        path = BUNDLED_WSDL.parent / name
        if not path.is_file():
            return httpx.Response(404)
        return httpx.Response(200, content=path.read_bytes(), headers={"content-type": "text/xml"})


def config(password: str) -> AxConfig:
    return AxConfig(base_url="http://iis.test/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                    wsdl="remote", auth=AuthConfig(mode="basic", username="svc", password=password))


async def test_remote_wsdl_needs_the_credentials():
    clear_wsdl_cache()
    iis = IisMetadata()
    async with Client(config("wrong"), wsdl_transport=httpx.MockTransport(iis)) as ax:
        with pytest.raises(AuthError, match="HTTP 401"):
            ax.port_operations()
    async with Client(config("right"), wsdl_transport=httpx.MockTransport(iis)) as ax:
        assert "getChangedKeys" in ax.port_operations()["sales_order"]
    fetched = len(iis.requests)
    assert any(u.endswith("?wsdl") for u in iis.requests) and any(u.endswith(".xsd") for u in iis.requests)
    async with Client(config("right"), wsdl_transport=httpx.MockTransport(iis)) as ax:
        ax.port_operations()
    assert len(iis.requests) == fetched  # cached per process
    clear_wsdl_cache()


async def test_missing_service_is_a_config_error():
    cfg = AxConfig(base_url="http://iis.test/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                   wsdl="bundled", services={"sales_order": "RetailSalesOrderService"})
    async with Client(cfg, transport=httpx.MockTransport(lambda r: httpx.Response(500))) as ax:
        with pytest.raises(ConfigError, match="BasicHttpBinding_RetailSalesOrderService"):
            await ax.read_sales_order("SO-1")


async def test_unreachable_wsdl_is_transient():
    clear_wsdl_cache()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    async with Client(config("right"), wsdl_transport=httpx.MockTransport(refuse)) as ax:
        with pytest.raises(TransientError):
            ax.port_operations()
