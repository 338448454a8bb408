"""Benchmark: the AX connector's own cost per call, against a hand-written SOAP client.

The baseline, measured in the same run, is the least any Python client of an AIF port must do:
format the envelope (CallContext included) as a string, POST it with httpx and pull the wanted
values out of the answer with lxml. The connector does the same calls through zeep (request
serialisation from the WSDL), its fault table, :mod:`connectors.dynamics_ax.codec` and typed
msgspec views. Two measurements:

1. Client CPU per call, in process: both clients talk to an ``httpx.MockTransport`` replaying
   responses recorded from the sandbox, so nothing but client work is timed (one core).
   Operations: ``read`` of 20 items with prices, ``read`` of one sales order, ``create`` of a
   two-line sales order.
2. Windows authentication over HTTP: the sandbox with ``--auth ntlm`` in its own process; the
   connector's NTLM flow on its one-connection lanes (a handshake once per connection, as IIS
   allows) against the same flow doing a handshake on every call (baseline), 4 in flight.
3. End to end over HTTP: both clients against the sandbox in its own process (one IIS worker,
   the default), 4 calls in flight, ``read`` of one sales order: does the connector keep the
   AX port as busy as the bare client does (ratio near 1 = the connector is not the bottleneck)?

Run: ``python benchmarks/ax_client.py [--seconds 3]``. Prints figures; the last line is the
end-to-end ratio. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import multiprocessing
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx
from lxml import etree

from connectors.dynamics_ax import AxConfig, Client, NewAddress, NewSalesLine, NewSalesOrder
from connectors.dynamics_ax.sandbox import SandboxConfig, create_app, free_port

SERVICES = "http://schemas.microsoft.com/dynamics/2008/01/services"
ACTION = SERVICES + "/{service}/{op}"
ITEM_NS = "{http://schemas.microsoft.com/dynamics/2008/01/documents/Item}"
SO_NS = "{http://schemas.microsoft.com/dynamics/2008/01/documents/SalesOrder}"
EK = "http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey"
SANDBOX = SandboxConfig(seed=1, items=40, customers=10, open_orders=5)
ITEMS = [f"A{i:04d}" for i in range(1, 21)]


def config(base_url: str) -> AxConfig:
    return AxConfig(base_url=base_url + "/MicrosoftDynamicsAXAif60", port_name="WebShop", company="DAT",
                    wsdl="bundled", read_batch_size=len(ITEMS), max_connections=4)


def new_order(n: int) -> NewSalesOrder:
    return NewSalesOrder(
        cust_account="C-000001", shop_reference=f"B-{n}", currency="EUR", delivery_name="Ann Lee",
        delivery_address=NewAddress(street="1 Rue de Rivoli", city="Paris", zip_code="75001", country="FRA"),
        requested_receipt_date=dt.date(2026, 12, 1),
        lines=[NewSalesLine(item_id="A0001", qty=Decimal(1), unit="ea", warehouse="11"),
               NewSalesLine(item_id="A0002", qty=Decimal(2), unit="ea", warehouse="11")])


# --- the hand-written baseline client -------------------------------------------------------------

def _envelope(body: str, message_id: str) -> bytes:
    return ('<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header>'
            '<CallContext xmlns="http://schemas.microsoft.com/dynamics/2010/01/datacontracts">'
            f"<Company>DAT</Company><Language>en-us</Language><MessageId>{{{message_id}}}</MessageId>"
            f"</CallContext></s:Header><s:Body>{body}</s:Body></s:Envelope>").encode()


def _keys(field: str, values: list[str]) -> str:
    keys = "".join(f'<EntityKey xmlns="{EK}"><KeyData><KeyField><Field>{field}</Field><Value>{v}</Value>'
                   "</KeyField></KeyData></EntityKey>" for v in values)
    return f'<EntityKeyList xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList">{keys}</EntityKeyList>'


class BareClient:
    """What a minimal client must do per call: string envelope, POST, lxml extraction."""

    def __init__(self, http: httpx.AsyncClient, endpoint: str) -> None:
        self.http, self.endpoint = http, endpoint

    async def _post(self, service: str, op: str, body: str) -> etree._Element:
        wrapper = f"{service}{op[0].upper()}{op[1:]}Request"
        response = await self.http.post(self.endpoint, content=_envelope(
            f'<{wrapper} xmlns="{SERVICES}">{body}</{wrapper}>', str(uuid.uuid4())), headers={
            "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{ACTION.format(service=service, op=op)}"'})
        if response.status_code != 200:
            raise RuntimeError(f"{service}.{op} failed with HTTP {response.status_code}.")
        return etree.fromstring(response.content)

    async def read_items(self, ids: list[str]) -> list[tuple[str, str]]:
        root = await self._post("ItemService", "read", _keys("ItemId", ids))
        return [(t.findtext(ITEM_NS + "ItemId") or "", t.findtext(f"{ITEM_NS}Sales/{ITEM_NS}Price") or "0")
                for t in root.iter(ITEM_NS + "InventTable")]

    async def read_sales_order(self, sales_id: str) -> tuple[str, int]:
        root = await self._post("SalesOrderService", "read", _keys("SalesId", [sales_id]))
        table = next(root.iter(SO_NS + "SalesTable"))
        return table.findtext(SO_NS + "SalesId") or "", len(table.findall(SO_NS + "SalesLine"))

    async def create_sales_order(self, n: int) -> str:
        lines = "".join(f'<SalesLine class="entity"><ItemId>{i}</ItemId><SalesQty>{q}</SalesQty>'
                        f'<SalesUnit>ea</SalesUnit><InventDim class="entity"><InventLocationId>11</InventLocationId>'
                        "</InventDim></SalesLine>" for i, q in (("A0001", 1), ("A0002", 2)))
        body = (f'<SalesOrder xmlns="{SO_NS[1:-1]}"><SalesTable class="entity"><CurrencyCode>EUR</CurrencyCode>'
                f"<CustAccount>C-000001</CustAccount><CustomerRef>B-{n}</CustomerRef><DeliveryName>Ann Lee"
                f"</DeliveryName><PurchOrderFormNum>B-{n}</PurchOrderFormNum><ReceiptDateRequested>2026-12-01"
                f"</ReceiptDateRequested>{lines}</SalesTable></SalesOrder>")
        root = await self._post("SalesOrderService", "create", body)
        return root.findtext(f".//{{{EK}}}Value") or ""


# --- measurement ------------------------------------------------------------------------------------

async def rate(fn: Callable[[int], Awaitable[object]], seconds: float, in_flight: int = 1) -> float:
    """Calls per second of ``fn`` with ``in_flight`` concurrent callers for about ``seconds``."""
    count, stop = [0], time.perf_counter() + seconds

    async def caller(offset: int) -> None:
        n = offset
        while time.perf_counter() < stop:
            await fn(n)
            count[0] += 1
            n += in_flight

    start = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(in_flight)))
    return count[0] / (time.perf_counter() - start)


class _Recording(httpx.ASGITransport):
    """The sandbox in process; keeps the last response body per SOAPAction."""

    def __init__(self) -> None:
        super().__init__(app=create_app(SANDBOX))
        self.recorded: dict[str, bytes] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await super().handle_async_request(request)
        body = await response.aread()
        self.recorded[request.headers["soapaction"].strip('"')] = body
        return httpx.Response(response.status_code, headers=response.headers, content=body)


async def recorded_transport() -> httpx.MockTransport:
    """Responses of the sandbox, recorded once per (service, operation) and replayed."""
    recording = _Recording()
    async with httpx.AsyncClient(transport=recording, base_url="http://ax.bench") as http:
        bare = BareClient(http, SANDBOX.service_path)
        assert [i for i, _ in await bare.read_items(ITEMS)] == ITEMS
        assert (await bare.read_sales_order("SO-000001"))[0] == "SO-000001"
        assert await bare.create_sales_order(0)  # the baseline's create is valid for AX too
    recorded = recording.recorded

    def handler(request: httpx.Request) -> httpx.Response:
        body = recorded[request.headers["soapaction"].strip('"')]
        return httpx.Response(200, content=body, headers={"Content-Type": "text/xml; charset=utf-8"})

    return httpx.MockTransport(handler)


async def client_cpu(seconds: float) -> None:
    transport = await recorded_transport()
    async with Client(config("http://ax.bench"), transport=transport) as ax, \
            httpx.AsyncClient(transport=transport) as http:
        bare = BareClient(http, config("http://ax.bench").endpoint)
        assert len(await ax.read_items(ITEMS)) == len(await bare.read_items(ITEMS)) == len(ITEMS)
        cases: list[tuple[str, Callable[[int], Awaitable[object]], Callable[[int], Awaitable[object]]]] = [
            ("read 20 items", lambda _: bare.read_items(ITEMS), lambda _: ax.read_items(ITEMS)),
            ("read 1 order", lambda _: bare.read_sales_order("SO-000001"),
             lambda _: ax.read_sales_order("SO-000001")),
            ("create order", bare.create_sales_order,
             lambda n: ax.create_sales_order(new_order(n), idempotency_key=f"bench-{n}")),
        ]
        print("client CPU per call, in process (replayed responses, 1 core):")
        for name, base_fn, ax_fn in cases:
            base = await rate(base_fn, seconds)
            conn = await rate(ax_fn, seconds)
            print(f"  {name:14} baseline {base:8.0f}/s ({1e6 / base:6.0f} us)   connector {conn:8.0f}/s "
                  f"({1e6 / conn:6.0f} us)   ratio {conn / base:5.2f}")


def _serve(port: int, windows: tuple[str, str] | None = None) -> None:
    import uvicorn

    config = SandboxConfig(**{**SANDBOX.__dict__, "windows_auth": windows})
    uvicorn.run(create_app(config), host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _start(windows: tuple[str, str] | None = None) -> tuple[multiprocessing.process.BaseProcess, str]:
    port = free_port()
    proc = multiprocessing.get_context("spawn").Process(target=_serve, args=(port, windows), daemon=True)
    proc.start()
    base_url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(base_url + "/_sandbox/state", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, base_url


async def windows_auth(seconds: float) -> None:
    from connectors.dynamics_ax.auth import SpnegoAuth
    from connectors.dynamics_ax.soap import Lanes

    account = ("CONTOSO\\bench", "Bench-Pa55")
    proc, base_url = _start(account)
    body = _envelope(f'<SalesOrderServiceReadRequest xmlns="{SERVICES}">{_keys("SalesId", ["SO-000001"])}'
                     "</SalesOrderServiceReadRequest>", str(uuid.uuid4()))
    headers = {"Content-Type": "text/xml; charset=utf-8",
               "SOAPAction": f'"{ACTION.format(service="SalesOrderService", op="read")}"'}
    auth = SpnegoAuth(*account, protocol="ntlm")
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    try:
        lanes = Lanes(4, auth=auth, base_url=base_url, timeout=30)  # one flow per connection
        every_call = Lanes(4, base_url=base_url, timeout=30)
        every_call.clients = [httpx.AsyncClient(limits=one, auth=auth, base_url=base_url, timeout=30)
                              for _ in range(4)]  # the shared flow: a handshake on every call

        def caller(pool: Lanes) -> Callable[[int], Awaitable[object]]:
            async def call(_: int) -> None:
                async with pool.lane() as client:
                    r = await client.post(SANDBOX.service_path, content=body, headers=headers)
                    if r.status_code != 200:
                        raise RuntimeError(f"NTLM benchmark call failed with HTTP {r.status_code}.")
            return call

        base = await rate(caller(every_call), seconds, in_flight=4)
        conn = await rate(caller(lanes), seconds, in_flight=4)
        await lanes.aclose()
        await every_call.aclose()
    finally:
        proc.terminate()
        proc.join()
    print("Windows authentication (NTLM) over HTTP, 4 in flight, read 1 order:")
    print(f"  handshake every call {base:7.0f} calls/s   connector lanes {conn:7.0f} calls/s   ratio {conn / base:5.2f}")


async def end_to_end(seconds: float) -> None:
    proc, base_url = _start()
    try:
        limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)
        async with Client(config(base_url)) as ax, httpx.AsyncClient(limits=limits, timeout=30) as http:
            bare = BareClient(http, config(base_url).endpoint)
            await ax.read_sales_order("SO-000001")  # build the zeep client before timing
            base = await rate(lambda _: bare.read_sales_order("SO-000001"), seconds, in_flight=4)
            conn = await rate(lambda _: ax.read_sales_order("SO-000001"), seconds, in_flight=4)
    finally:
        proc.terminate()
        proc.join()
    print("end to end over HTTP (sandbox in its own process, 1 worker, 4 in flight), read 1 order:")
    print(f"  baseline {base:8.0f} calls/s   connector {conn:8.0f} calls/s")
    print(f"ratio connector / hand-written client, end to end: {conn / base:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    asyncio.run(client_cpu(args.seconds))
    asyncio.run(windows_auth(args.seconds))
    asyncio.run(end_to_end(args.seconds))


if __name__ == "__main__":
    main()
