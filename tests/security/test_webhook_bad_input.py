"""Hostile and broken webhook bodies against the real bridge over HTTP (the session's Serve mode:
HAProxy in front wherever it is usable). Every case is signed with the right secret, so what is
tested is the decoding behind the signature check: each is refused with a JSON error naming the
problem, nothing is journaled, and the bridge answers normally afterwards.

Cases already covered elsewhere are not repeated here: truncated JSON, ``application/xml``, an
unknown event, a non-numeric id, bodies over the limit with and without ``Content-Length``, a
stale and a missing signature (tests/e2e/test_ingress_fast_mode.py, tests/e2e/test_webhook_flow.py),
field checks of ids and dates (tests/unit/runtime/test_webhook_ingress_checks.py)."""

from __future__ import annotations

import asyncio
import json
import socket
import time
import uuid
from urllib.parse import urlsplit

import httpx
import pytest

from connectors.prestashop.signing import signature_headers
from tests.e2e.support import SECRET, signed
from tests.security.conftest import AUTH, BODY_TIMEOUT_S, journaled

pytestmark = pytest.mark.e2e

HOOK = "/webhooks/prestashop"
PS_HOOK = "/webhooks/ps_webhooks?token=ps-webhooks-url-token"


def _signed_raw(body: bytes, content_type: str | None = "application/json", **sig: int) -> dict[str, str]:
    headers = signature_headers(SECRET, f"evt_{uuid.uuid4().hex}", body, **sig)
    return {**headers, "content-type": content_type} if content_type is not None else headers


def _nested(depth: int, opener: bytes = b"[", closer: bytes = b"]") -> bytes:
    return (b'{"type": "order.created", "timestamp": 1, "data": {"id": 5, "deep": '
            + opener * depth + closer * depth + b"}}")


# (what, body, content type, status, error code); each body is signed with the bridge's secret
BAD_BODIES: list[tuple[str, bytes, str | None, int, str]] = [
    ("nested arrays 100k deep", _nested(100_000), "application/json", 400, "too_deep"),
    ("nested objects 50k deep", b'{"type": "order.created", "data": {"id": 5, "x": ' + b'{"a": ' * 50_000 + b"1"
     + b"}" * 50_000 + b"}}", "application/json", 400, "too_deep"),
    ("nested 40 deep (over the limit of 32)", _nested(40), "application/json", 400, "too_deep"),
    ("integer of 100k digits as the id", b'{"type": "order.created", "data": {"id": ' + b"9" * 100_000 + b"}}",
     "application/json", 400, "invalid_body"),
    ("integer of 5000 digits in a field", b'{"type": "order.created", "data": {"id": 5, "n": 1' + b"0" * 5000 + b"}}",
     "application/json", 400, "invalid_body"),
    ("float out of range", b'{"type": "order.created", "timestamp": 1e99999, "data": {"id": 5}}',
     "application/json", 400, "invalid_body"),
    ("NaN", b'{"type": "order.created", "data": {"id": 5, "total": NaN}}', "application/json", 400,
     "malformed_json"),
    ("string of 500k characters as the event type", json.dumps({"type": "x" * 500_000, "data": {"id": 5}}).encode(),
     "application/json", 422, "unknown_event_type"),
    ("string of 100k digits as the id", json.dumps({"type": "order.created", "data": {"id": "7" * 100_000}}).encode(),
     "application/json", 422, "invalid_field"),
    ("data is a list", b'{"type": "order.created", "data": [5]}', "application/json", 400, "invalid_body"),
    ("data is a string", b'{"type": "order.created", "data": "5"}', "application/json", 400, "invalid_body"),
    ("type is a number", b'{"type": 5, "data": {"id": 5}}', "application/json", 400, "invalid_body"),
    ("type is missing", b'{"data": {"id": 5}}', "application/json", 400, "invalid_body"),
    ("body is an array", b'[{"type": "order.created", "data": {"id": 5}}]', "application/json", 400, "invalid_body"),
    ("body is null", b"null", "application/json", 400, "invalid_body"),
    ("body is empty", b"", "application/json", 400, "malformed_json"),
    ("id is an object", b'{"type": "order.created", "data": {"id": {"id": 5}}}', "application/json", 400,
     "missing_field"),
    ("id is true", b'{"type": "order.created", "data": {"id": true}}', "application/json", 400, "missing_field"),
    ("unknown top-level field", b'{"type": "order.created", "data": {"id": 5}, "admin": true}', "application/json",
     400, "invalid_body"),
    ("unknown event of a known entity", b'{"type": "order.exploded", "data": {"id": 5}}', "application/json",
     422, "unknown_event_type"),
    ("event with no entity", b'{"type": "created", "data": {"id": 5}}', "application/json", 422,
     "unknown_event_type"),
    ("duplicate key at the top", b'{"type": "order.created", "type": "order.deleted", "data": {"id": 5}}',
     "application/json", 400, "duplicate_key"),
    ("duplicate key in data", b'{"type": "order.created", "data": {"id": 5, "id": 6}}', "application/json", 400,
     "duplicate_key"),
    ("duplicate key deep in data", b'{"type": "order.created", "data": {"id": 5, "a": [{"k": 1, "k": 2}]}}',
     "application/json", 400, "duplicate_key"),
    ("invalid UTF-8 in a value", b'{"type": "order.created", "data": {"id": 5, "name": "\xff\xfe"}}',
     "application/json", 400, "malformed_json"),
    ("invalid UTF-8 in a key", b'{"type": "order.created", "data": {"id": 5, "\xc3": 1}}', "application/json",
     400, "malformed_json"),
    ("overlong UTF-8 encoding of '/'", b'{"type": "order.created", "data": {"id": 5, "p": "\xc0\xaf"}}',
     "application/json", 400, "malformed_json"),
    ("lone surrogate escape", b'{"type": "order.created", "data": {"id": 5, "name": "\\ud800"}}',
     "application/json", 400, "malformed_json"),
    ("UTF-16 body", json.dumps({"type": "order.created", "data": {"id": 5}}).encode("utf-16"),
     "application/json", 400, "malformed_json"),
    ("byte order mark", b'\xef\xbb\xbf{"type": "order.created", "data": {"id": 5}}', "application/json", 400,
     "malformed_json"),
    ("trailing garbage", b'{"type": "order.created", "data": {"id": 5}} {}', "application/json", 400,
     "malformed_json"),
    ("no content type", b'{"type": "order.created", "data": {"id": 5}}', None, 415, "unsupported_media_type"),
    ("text/plain", b'{"type": "order.created", "data": {"id": 5}}', "text/plain", 415, "unsupported_media_type"),
    ("form encoded", b"type=order.created&data[id]=5", "application/x-www-form-urlencoded", 415,
     "unsupported_media_type"),
    ("JSON declared as latin-1", b'{"type": "order.created", "data": {"id": 5}}', "application/json; charset=latin-1",
     415, "unsupported_media_type"),
    ("a look-alike media type", b'{"type": "order.created", "data": {"id": 5}}', "application/jsonp", 415,
     "unsupported_media_type"),
]


@pytest.mark.parametrize(("what", "body", "ctype", "status", "code"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_a_bad_body_is_refused_with_a_json_error_and_nothing_is_stored(
        security_bridge, what: str, body: bytes, ctype: str | None, status: int, code: str) -> None:
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        before = await journaled(c)
        r = await c.post(HOOK, content=body, headers=_signed_raw(body, ctype))
        assert r.status_code == status, (what, r.status_code, r.text[:300])
        answer = r.json()
        assert answer["error"] == code, (what, answer)
        assert answer["detail"].endswith(".") and len(r.content) < 1000  # a sentence, never the body echoed
        assert await journaled(c) == before


PS_BAD_BODIES = [
    ("nested", b'{"action": "add", "entity": "Customer", "data": {"id": 9, "x": ' + b"[" * 50_000 + b"]" * 50_000
     + b"}}", 400, "too_deep"),
    ("invalid UTF-8", b'{"action": "add", "entity": "Customer", "data": {"id": 9, "x": "\xff"}}', 400,
     "malformed_json"),
    ("duplicate key", b'{"action": "add", "entity": "Customer", "data": {"id": 9, "id": 10}}', 400, "duplicate_key"),
    ("wrong type", b'{"action": "add", "entity": "Customer", "data": [9]}', 400, "invalid_body"),
]


@pytest.mark.parametrize(("what", "body", "status", "code"), PS_BAD_BODIES, ids=[c[0] for c in PS_BAD_BODIES])
async def test_the_ps_webhooks_route_refuses_the_same_bodies(security_bridge, what: str, body: bytes, status: int,
                                                             code: str) -> None:
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        before = await journaled(c)
        r = await c.post(PS_HOOK, content=body, headers={"content-type": "application/json"})
        assert (r.status_code, r.json()["error"]) == (status, code), (what, r.text[:300])
        assert await journaled(c) == before


async def test_a_replayed_webhook_outside_the_tolerance_is_refused_also_after_it_was_accepted(
        security_bridge) -> None:
    """A captured request replayed later: its old timestamp is outside the tolerance (and a fresh
    timestamp would need a new signature, which needs the secret). A timestamp from the future
    is refused too (a clock-skewed or pre-signed replay)."""
    body, headers = signed("order.created", {"id": 4242})
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        before = await journaled(c)
        assert (await c.post(HOOK, content=body, headers=headers)).status_code == 202
        for shift in (-301, -86_400, 301, 86_400 * 365):
            replay = {**headers, **signature_headers(SECRET, headers["webhook-id"], body,
                                                     timestamp=int(time.time()) + shift)}
            r = await c.post(HOOK, content=body, headers=replay)
            assert (r.status_code, r.json()["error"]) == (401, "signature_stale"), (shift, r.text)
        # the captured signature with a new timestamp no longer matches
        moved = {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}
        r = await c.post(HOOK, content=body, headers=moved)
        assert (r.status_code, r.json()["error"]) == (401, "signature_mismatch"), r.text
        assert await journaled(c) == before + 1


def _slow_sender(url: str, body: bytes, headers: dict[str, str], give_up_s: float) -> bytes:
    """Declare the whole body, then send it one byte every 0.25 s; return what the server answered
    (stops sending as soon as an answer arrives, or after ``give_up_s``)."""
    parts = urlsplit(url)
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"POST {HOOK} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}Content-Length: {len(body)}\r\n\r\n"
    with socket.create_connection((parts.hostname, parts.port), timeout=give_up_s) as sock:
        sock.sendall(request.encode())
        sock.settimeout(0.25)
        answer = b""
        end = time.monotonic() + give_up_s
        for byte in body:
            try:
                chunk = sock.recv(65536)
                if chunk:
                    answer += chunk
                    break
                return answer  # closed by the server
            except TimeoutError:
                pass
            if time.monotonic() > end:
                break
            try:
                sock.send(bytes([byte]))
            except OSError:
                break
        sock.settimeout(2.0)
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except (TimeoutError, OSError):
            pass
        return answer


async def test_a_slow_body_is_cut_off_at_the_read_timeout_while_other_senders_are_served(
        security_bridge) -> None:
    body, headers = signed("order.created", {"id": 5151, "pad": "x" * 400})
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        before = await journaled(c)
        # the whole body would take ~100 s at this pace; the bridge's timeout is BODY_TIMEOUT_S
        slow = [asyncio.create_task(asyncio.to_thread(_slow_sender, security_bridge.url, body, headers,
                                                      BODY_TIMEOUT_S * 10)) for _ in range(4)]
        await asyncio.sleep(0.5)
        others = [signed("order.created", {"id": 6000 + i}) for i in range(5)]
        answers = [await c.post(HOOK, content=b, headers=h) for b, h in others]  # served meanwhile
        assert [r.status_code for r in answers] == [202] * 5
        for answer in await asyncio.gather(*slow):
            status_line = answer.split(b"\r\n", 1)[0]
            assert b" 408 " in status_line, answer[:300]
            assert b'"body_timeout"' in answer
        assert await journaled(c) == before + 5  # the slow one was not journaled
        assert (await c.get("/healthz")).status_code == 200


async def test_after_all_of_it_the_bridge_is_healthy_and_accepts_a_good_webhook(security_bridge) -> None:
    body, headers = signed("customer.updated", {"id": 77, "date_upd": "2026-11-26 10:00:00"})
    async with httpx.AsyncClient(base_url=security_bridge.url, timeout=30) as c:
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        before = await journaled(c)
        r = await c.post(HOOK, content=body, headers=headers)
        assert r.status_code == 202 and r.json()["message_id"]
        assert await journaled(c) == before + 1
        assert (await c.get("/api/v1/health", headers=AUTH)).json()["status"] == "ok"
