"""Benchmark: AX sandbox ``read`` and ``create`` calls per second per core.

Two measurements, each with a baseline measured in the same run:

1. In process (no HTTP): the sandbox's SOAP processing (parse, XSD validation, CallContext,
   operation, serialisation) called directly on one core, against the baseline of only
   parsing the request and serialising a stored response (the XML floor).
2. Over HTTP: the sandbox served by uvicorn in its own process (one worker = one core),
   loaded by keep-alive clients, against a bare Starlette app in the same setup that returns
   a fixed response of the same size (the HTTP floor).

Run: ``python benchmarks/ax_sandbox.py [--seconds 3] [--clients 4]``. Prints figures and
ratios; asserts nothing.
"""

from __future__ import annotations

import argparse
import multiprocessing
import threading
import time
import uuid
from collections.abc import Callable

import httpx

from connectors.dynamics_ax.sandbox import SandboxConfig, create_app, free_port
from connectors.dynamics_ax.sandbox.app import SandboxState, _process
from connectors.dynamics_ax.sandbox.schemas import parse_xml

SO = "http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/"
ENV = "http://schemas.xmlsoap.org/soap/envelope/"
DOC = "http://schemas.microsoft.com/dynamics/2008/01/documents/SalesOrder"
CONFIG = SandboxConfig(seed=1, items=50, customers=20, open_orders=20)


def envelope(body: str, message_id: str | None = None) -> bytes:
    mid = f"<MessageId>{{{message_id}}}</MessageId>" if message_id else ""
    return (f'<s:Envelope xmlns:s="{ENV}"><s:Header><CallContext xmlns="http://schemas.microsoft.com/dynamics/'
            f'2010/01/datacontracts"><Company>DAT</Company>{mid}</CallContext></s:Header><s:Body>{body}</s:Body>'
            "</s:Envelope>").encode()


def read_body(sales_id: str) -> bytes:
    return envelope(
        '<SalesOrderServiceReadRequest xmlns="http://schemas.microsoft.com/dynamics/2008/01/services">'
        '<EntityKeyList xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKeyList">'
        '<EntityKey xmlns="http://schemas.microsoft.com/dynamics/2006/02/documents/EntityKey"><KeyData><KeyField>'
        f"<Field>SalesId</Field><Value>{sales_id}</Value></KeyField></KeyData></EntityKey></EntityKeyList>"
        "</SalesOrderServiceReadRequest>")


def create_body(n: int) -> bytes:
    return envelope(
        '<SalesOrderServiceCreateRequest xmlns="http://schemas.microsoft.com/dynamics/2008/01/services">'
        f'<SalesOrder xmlns="{DOC}"><SalesTable class="entity"><CustAccount>C-000001</CustAccount>'
        f"<CustomerRef>bench {n}</CustomerRef><PurchOrderFormNum>B-{n}</PurchOrderFormNum>"
        "<ReceiptDateRequested>2026-03-02</ReceiptDateRequested>"
        '<SalesLine class="entity"><ItemId>A0001</ItemId><SalesQty>1</SalesQty><SalesUnit>ea</SalesUnit></SalesLine>'
        '<SalesLine class="entity"><ItemId>A0002</ItemId><SalesQty>2</SalesQty><SalesUnit>ea</SalesUnit></SalesLine>'
        "</SalesTable></SalesOrder></SalesOrderServiceCreateRequest>", message_id=str(uuid.uuid4()))


def rate(fn: Callable[[int], object], seconds: float) -> float:
    n, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        fn(n)
        n += 1
    return n / elapsed


def in_process(seconds: float) -> None:
    state = SandboxState(CONFIG)
    read_req = read_body("SO-000001")
    status, stored = _process(state, SO + "read", read_req)
    assert status == 200, stored[:300]

    def floor(_: int) -> None:  # parse the request and hand back bytes of a stored response
        parse_xml(read_req)
        parse_xml(stored)

    base = rate(floor, seconds)
    reads = rate(lambda _: _process(state, SO + "read", read_req), seconds)
    creates = rate(lambda n: _process(state, SO + "create", create_body(n)), seconds)
    print(f"in process, 1 core   baseline (parse request + response XML): {base:9.0f} /s")
    print(f"                     read  {reads:9.0f} calls/s   ratio to baseline {reads / base:5.2f}")
    print(f"                     create{creates:9.0f} calls/s   ratio to baseline {creates / base:5.2f}")


def _serve_sandbox(port: int) -> None:
    import uvicorn

    uvicorn.run(create_app(CONFIG), host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _serve_floor(port: int, payload: bytes) -> None:
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    async def endpoint(request: Request) -> Response:
        await request.body()
        return Response(payload, media_type="text/xml; charset=utf-8")

    app = Starlette(routes=[Route(CONFIG.service_path, endpoint, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False, log_level="warning")


def _wait(url: str) -> None:
    for _ in range(200):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.05)
    raise RuntimeError(f"The benchmark server at {url} did not start.")


def load(url: str, action: str, make: Callable[[int], bytes], clients: int, seconds: float) -> float:
    counts = [0] * clients
    stop = time.perf_counter() + seconds

    def worker(i: int) -> None:
        with httpx.Client(timeout=30) as c:
            n = i * 10_000_000
            while time.perf_counter() < stop:
                r = c.post(url, content=make(n), headers={"Content-Type": "text/xml; charset=utf-8",
                                                          "SOAPAction": action})
                if r.status_code != 200:
                    raise RuntimeError(f"Benchmark call failed with HTTP {r.status_code}: {r.text[:200]}")
                counts[i] += 1
                n += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - start)


def over_http(seconds: float, clients: int) -> None:
    ctx = multiprocessing.get_context("spawn")
    state = SandboxState(CONFIG)
    _, payload = _process(state, SO + "read", read_body("SO-000001"))
    results = {}
    for name, target, args in (("floor", _serve_floor, (payload,)), ("sandbox", _serve_sandbox, ())):
        port = free_port()
        proc = ctx.Process(target=target, args=(port, *args), daemon=True)
        proc.start()
        try:
            url = f"http://127.0.0.1:{port}{CONFIG.service_path}"
            _wait(f"http://127.0.0.1:{port}/")
            results[name, "read"] = load(url, SO + "read", lambda _: read_body("SO-000001"), clients, seconds)
            if name == "sandbox":
                results[name, "create"] = load(url, SO + "create", create_body, clients, seconds)
        finally:
            proc.terminate()
            proc.join()
    base = results["floor", "read"]
    print(f"over HTTP, 1 server core  baseline (bare Starlette, same response): {base:7.0f} /s")
    for op in ("read", "create"):
        value = results["sandbox", op]
        print(f"                     {op:6}{value:9.0f} calls/s   ratio to baseline {value / base:5.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    in_process(args.seconds)
    over_http(args.seconds, args.clients)


if __name__ == "__main__":
    main()
