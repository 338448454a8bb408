"""CPU per webhook in one process: the durable route against a bare route of the same app.

The bridge's Starlette app (:func:`runtime.app.build_app`, SQLite journal in a temporary folder,
nudges to a no-op as in ``benchmarks/ingest.py``) gets one more route, ``/bare``, that does what
the bare endpoint of ``benchmarks/ingest.py`` does (reads the body, answers 202 with a small JSON
body). Both are called straight over ASGI, without a server or a socket, by 32 concurrent
senders; the figure is the process's CPU time (``time.process_time``) per request, which is
steadier than requests per second on a shared machine. Rounds alternate the routes; the best
round of each is printed. The sender's own cost (building the ASGI scope, collecting the answer)
is in both figures alike.

``--parts`` also times each part of a durable webhook on its own (signature, decode, field
checks, id, span, traceparent, the journal batch per message, the response) so the difference
can be read part by part.

Ends with ``ingest_cpu_us: N`` (durable) and ``ingest_cpu_ratio: R`` (bare / durable CPU per
request: 1.0 would mean the durable route costs nothing more than the bare one).

Usage: ``python benchmarks/ingest_cpu.py [--n 8000] [--rounds 3] [--parts] [--quick]``
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SECRET = "whsec_YmVuY2htYXJrLXNlY3JldC1iZW5jaG1hcms="
SENDERS = 32
_versions = itertools.count()


def _requests(n: int, tag: str) -> list[tuple[list[tuple[bytes, bytes]], bytes]]:
    """``n`` signed order webhooks with unique ids, each a new version (``date_upd``) of one of
    5,000 orders, as ASGI header lists and bodies (what benchmarks/ingest.py sends)."""
    from benchmarks.ingest import date_upd
    from connectors.prestashop.signing import sign

    ts = int(time.time())
    out = []
    for i in range(n):
        body = json.dumps({"type": "order.created", "timestamp": ts, "data": {
            "id": i % 5000 + 1, "reference": f"XKBKNABJK{i}", "total_paid": "123.40",
            "date_upd": date_upd(next(_versions), False)}}, separators=(",", ":")).encode()
        wid = f"cpu_{tag}_{i}"
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()), (b"webhook-id", wid.encode()),
                   (b"webhook-timestamp", str(ts).encode()),
                   (b"webhook-signature", sign(SECRET, wid, ts, body).encode())]
        out.append((headers, body))
    return out


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
             "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80)}
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # a client that stays connected
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def _round(app: Any, path: str, reqs: list[tuple[list[tuple[bytes, bytes]], bytes]]) -> tuple[float, int]:
    """CPU µs per request over ``reqs`` sent by :data:`SENDERS` concurrent senders; and how many
    answers were not 202 (must be 0: a refused request would be cheaper than an accepted one)."""
    it = iter(reqs)
    bad = 0

    async def sender() -> None:
        nonlocal bad
        for headers, body in it:
            if await _call(app, path, headers, body) != 202:
                bad += 1
    cpu = time.process_time()
    await asyncio.gather(*(sender() for _ in range(SENDERS)))
    return (time.process_time() - cpu) / len(reqs) * 1e6, bad


def build(tmp: Path) -> tuple[Any, Any]:
    """The bridge's app with an added ``/bare`` route, and its AsyncStore."""
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from runtime.app import build_app
    from runtime.store import AsyncStore, Store

    store = AsyncStore(Store(f"sqlite:///{tmp / 'journal.db'}"))
    app = build_app(store, webhook_secrets=[SECRET], admin_token="x", nudge=lambda *a: None)

    async def bare(request: Request) -> JSONResponse:  # benchmarks/ingest.py's bare endpoint
        await request.body()
        return JSONResponse({"message_id": "bare"}, status_code=202)
    app.router.routes.insert(0, Route("/bare", bare, methods=["POST"]))
    return app, store


def _per_call(fn: Callable[[], Any], n: int = 20_000) -> float:
    start = time.process_time()
    for _ in range(n):
        fn()
    return (time.process_time() - start) / n * 1e6


def parts(tmp: Path) -> dict[str, float]:
    """µs of CPU for each part of a durable webhook, timed on its own."""
    from opentelemetry.trace import SpanKind
    from starlette.datastructures import Headers
    from starlette.requests import Request

    from connectors.prestashop.signing import verify
    from runtime.app import webhooks as wh
    from runtime.app.ingest_trace import carrier_of, ingest_span
    from runtime.messages import Message, new_message_id
    from runtime.store import Receipt, Store
    from runtime.tracing import context_from_traceparent, get_tracer, inject_carrier, setup_tracing

    setup_tracing()
    headers, body = _requests(1, "parts")[0]
    hdrs = Headers(raw=headers)
    request = Request({"type": "http", "headers": headers, "method": "POST", "path": "/"})
    env = wh.decode_envelope(body)
    tracer = get_tracer()
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    out: dict[str, float] = {}
    out["signature (verify)"] = _per_call(lambda: verify([SECRET], hdrs, body, tolerance=300))
    out["decode + structure check"] = _per_call(lambda: wh.decode_envelope(body))
    out["field checks (id, date_upd)"] = _per_call(lambda: wh._field_problem("order", 1, "data.id", env.data))
    out["message id"] = _per_call(new_message_id)
    out["receipt digest"] = _per_call(lambda: wh._content_digest(env.type, env.data))

    def span() -> None:  # what the ingest does: route at creation, one call for the rest
        with ingest_span(request, "/webhooks/prestashop") as s:
            s.set_attributes({"entity": "order", "record.key": "1", "message.id": "x"})
            s.set_attribute("http.status_code", 202)
    out["ingest span, its 5 attributes"] = _per_call(span)

    def span_as_current() -> None:  # the same span made current, 5 set_attribute calls (before)
        with tracer.start_as_current_span("webhook ingest", kind=SpanKind.SERVER) as s:
            for k, v in (("http.route", "/webhooks/prestashop"), ("entity", "order"), ("record.key", "1"),
                         ("message.id", "x"), ("http.status_code", 202)):
                s.set_attribute(k, v)
            inject_carrier()
    out["  (before: current span, 5 calls, injected traceparent)"] = _per_call(span_as_current)
    out["sender's traceparent parsed"] = _per_call(lambda: context_from_traceparent(tp))
    live = tracer.start_span("webhook ingest")
    out["traceparent of the span (carrier_of)"] = _per_call(lambda: carrier_of(live))
    live.end()
    out["answer (pre-encoded 202)"] = _per_call(lambda: wh._Answer(wh._encode({"message_id": "x" * 26}), 202))
    out["  (before: JSONResponse 202)"] = _per_call(lambda: wh.JSONResponse({"message_id": "x" * 26}, status_code=202))

    store = Store(f"sqlite:///{tmp / 'parts.db'}")
    seq = iter(range(10**9))

    def messages_of_32() -> tuple[list[Message], list[Receipt]]:
        msgs, receipts = [], []
        for _ in range(32):
            i = next(seq)
            msgs.append(Message(id=new_message_id(), entity="order", key=str(i), source="prestashop",
                                event="order.created", payload=env.data, idempotency_key=f"k{i}"))
            receipts.append(Receipt(f"w{i}", "c" * 64, f"prestashop:order:{i}:2026-11-26 10:00:00"))
        return msgs, receipts

    def batch() -> None:
        store.append_many(*messages_of_32())
    out["journal batch of 32, per message (incl. id)"] = _per_call(batch, 300) / 32

    def one_by_one() -> None:
        msgs, receipts = messages_of_32()
        now = time.time()
        with store.backend.tx() as cur:
            for m, r in zip(msgs, receipts, strict=True):
                store._insert_with_receipt(cur, m, r, now)
    out["  (before: the same, three statements a message)"] = _per_call(one_by_one, 300) / 32
    store.close()
    return out


async def _main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="presta-ax-cpu-") as tmpdir:
        tmp = Path(tmpdir)
        app, store = build(tmp)
        try:
            await _round(app, "/bare", _requests(500, "warm-bare"))
            await _round(app, "/webhooks/prestashop", _requests(500, "warm-durable"))
            best: dict[str, float] = {}
            for r in range(args.rounds):
                for name, path in (("bare", "/bare"), ("durable", "/webhooks/prestashop")):
                    us, bad = await _round(app, path, _requests(args.n, f"{name}{r}"))
                    if bad:
                        print(f"{name}: {bad} answers were not 202", file=sys.stderr)
                        return 1
                    best[name] = min(best.get(name, us), us)
            print(f"inline batches {store.inline_batches}, thread batches {store.thread_batches}")
        finally:
            store.close()
        if args.parts:
            print(f"{'part of a durable webhook':48s} {'µs CPU':>8s}")
            for name, us in parts(tmp).items():
                print(f"{name:48s} {us:8.1f}")
    print(f"{'route':10s} {'µs CPU per request':>20s}  ({SENDERS} concurrent senders over ASGI, best of {args.rounds})")
    for name, us in best.items():
        print(f"{name:10s} {us:20.1f}")
    print(f"ingest_cpu_us: {best['durable']:.0f}")
    print(f"ingest_cpu_ratio: {best['bare'] / best['durable']:.2f}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=8000, help="requests per round and route")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parts", action="store_true", help="also time each part of a durable webhook alone")
    ap.add_argument("--quick", action="store_true", help="2,000 requests, one round")
    args = ap.parse_args()
    if args.quick:
        args.n, args.rounds = 2000, 1
    return asyncio.run(_main(args))


if __name__ == "__main__":
    sys.exit(main())
