"""``POST /webhooks/prestashop`` (and ``/webhooks/ps_webhooks``): verify, decode, deduplicate, persist, acknowledge, nudge.

Refusals store nothing and answer a JSON body ``{"error": <code>, "detail": <sentence>}``:
415 wrong content type (or a charset other than UTF-8), 413 body over the limit, 408 body not
complete within the read timeout, 401 missing/invalid/stale signature, 400 malformed JSON,
wrong shape or types, unknown top-level fields, nesting deeper than :data:`MAX_DEPTH`, repeated
keys or missing fields (:func:`decode_envelope`), 422 unknown event type, 422 ``invalid_field`` (with
``"field"``) for what the ingress can tell is wrong without asking the shop: a record id that
is not a positive integer (PrestaShop ids are unsigned integers; a stock key may also be
``<id_product>-<id_product_attribute>``), a ``date_upd`` not in PrestaShop's
``YYYY-MM-DD HH:MM:SS`` (it orders the updates of a record, so a malformed one would hide
later updates).

Idempotency keys: a ``<entity>.created`` / ``<entity>.updated`` webhook about the record itself
with a ``data.date_upd`` is journaled under the record's **change key**
``prestashop:<entity>:<id>:<date_upd>``, the key the PrestaShop poller gives the same version
(:mod:`runtime.pollers_ps`), so a change found by both paths is one message whichever comes
first. Other events (``order.status_changed``, deletions, a body without ``date_upd``) keep
``prestashop:webhook:<webhook-id>`` (``prestashop:ps_webhooks:<hash of the body>`` on the
``ps_webhooks`` route). For a signed webhook under a change key, the webhook id's receipt (the
message id and a hash of event type and data) is kept in the store (``webhook-id:<id>`` beside
the poll cursors) and looked up first, so a reused id is still recognised whatever its body; a
version another *webhook* already brought, sent again under a new webhook id, is a new event by
the standard and is journaled under that id, as before.

A duplicate (same ``webhook-id``, or same body on ``ps_webhooks``, or a version the poller
journaled first) answers 200 with the original message id, as the Standard Webhooks specification asks. When its body differs from
the original's (compared on event type and data, not on whitespace or key order) the new body
is still not journaled, but the mismatch is recorded: a warning log line (ids and hashes only),
a ``duplicate_mismatch`` event on the original message's timeline (the new body's SHA-256 and
the time) and the ``presta_ax_webhook_duplicate_mismatches_total`` counter of ``/metrics``.
The journal write is shielded from client disconnects and finishes before the 202; the entity
actor is nudged afterwards without waiting for the work.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import logging
import re
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from connectors.errors import ValidationError
from connectors.prestashop.signing import SignatureError, verify
from connectors.prestashop.webhooks import parse_ps_webhooks
from runtime.app.ingest_trace import carrier_of, ingest_span
from runtime.config import ENTITIES
from runtime.messages import Message, new_message_id
from runtime.pollers_ps import ps_change_key
from runtime.store import AsyncStore, Receipt

__all__ = ["BodyProblem", "KNOWN_EVENTS", "MAX_DEPTH", "WebhookIngest", "check_structure", "decode_envelope", "error"]

log = logging.getLogger("presta_ax.ingest")

#: event types accepted on the webhook: ``<entity>.<action>``
KNOWN_EVENTS = frozenset(
    {f"{e}.{a}" for e in ENTITIES for a in ("created", "updated", "deleted")}
    | {"order.status_changed", "order.validated", "stock.changed", "price.changed"}
)


class _Envelope(msgspec.Struct, forbid_unknown_fields=True):
    type: str
    data: dict[str, Any]
    timestamp: Any = None


_decode = msgspec.json.Decoder(_Envelope)

#: deepest nesting of objects and arrays a webhook may carry (a PrestaShop record is ~4 deep);
#: deeper bodies are refused so that no later recursive walk (masking, mapping) can blow up
MAX_DEPTH = 32


class BodyProblem(Exception):
    """Why a webhook body was refused: the HTTP ``status``, the error ``code`` and a sentence."""

    def __init__(self, status: int, code: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail


def _too_deep(value: Any, limit: int) -> bool:
    """Whether ``value`` nests objects/arrays deeper than ``limit`` (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise BodyProblem(400, "duplicate_key", f"The body repeats the key '{dup[:40]}' in one object; "
                          "each key may appear once.")
    return out


def decode_envelope(body: bytes) -> _Envelope:
    """Decode a signed webhook's body ``{"type", "timestamp", "data"}``; raises :class:`BodyProblem`.

    Refused (400): bytes that are not UTF-8 JSON, a top-level value other than that object,
    unknown top-level fields, wrong types, numbers out of range, nesting deeper than
    :data:`MAX_DEPTH`, a key repeated in one object (parsers disagree on which one wins).
    Never raises anything else, whatever the bytes (fuzzed: ``fuzz/fuzz_webhook.py``).
    """
    try:
        env = _decode.decode(body)
    except msgspec.ValidationError as exc:
        raise BodyProblem(400, "invalid_body", f"The body is not a valid webhook: {exc}.") from None
    except msgspec.DecodeError as exc:
        raise BodyProblem(400, "malformed_json", f"The body is not valid JSON: {exc}.") from None
    except UnicodeDecodeError:
        raise BodyProblem(400, "malformed_json", "The body is not valid JSON: it is not UTF-8.") from None
    except RecursionError:
        raise BodyProblem(400, "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.") from None
    check_structure(body, env.data)
    return env


def check_structure(body: bytes, data: Any) -> None:
    """The checks msgspec does not make, on a body it decoded (``data`` its decoded payload):
    nesting deeper than :data:`MAX_DEPTH` and keys repeated in one object raise :class:`BodyProblem`."""
    # The cheap bound first: nesting needs at least as many brackets as levels.
    if body.count(b"{") + body.count(b"[") > MAX_DEPTH and _too_deep(data, MAX_DEPTH - 1):
        raise BodyProblem(400, "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.")
    # msgspec keeps the last of repeated keys silently; a second pass with the standard parser
    # finds them (~10 us for a typical order, after the signature was verified)
    try:
        json.loads(body, object_pairs_hook=_unique_keys)
    except (ValueError, RecursionError):  # what msgspec accepted, the standard parser does too
        raise BodyProblem(400, "malformed_json", "The body is not valid JSON.") from None


def error(status: int, code: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": code, "detail": detail}, status_code=status)


def _invalid(field: str, detail: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_field", "field": field, "detail": detail}, status_code=422)


_PS_ID = re.compile(r"[1-9][0-9]{0,9}")
_PS_STOCK_KEY = re.compile(r"[1-9][0-9]{0,9}-[0-9]{1,10}")  # id_product-id_product_attribute
_PS_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}")  # PrestaShop's date_upd
_PS_MAX_ID = 2**32 - 1  # PrestaShop ids are INT UNSIGNED
_canonical = msgspec.json.Encoder(order="sorted")


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _field_problem(entity: str, key: Any, key_field: str, data: dict[str, Any]) -> JSONResponse | None:
    """The 422 refusal for a record key or ``date_upd`` that cannot be right, or ``None``.
    Checked at the door because the message would otherwise be journaled only to die later
    (``GET customers/abc``), or, for a malformed ``date_upd``, to order updates wrongly."""
    text = str(key) if isinstance(key, (int, str)) and not isinstance(key, bool) else None
    plain = text is not None and _PS_ID.fullmatch(text) is not None and int(text) <= _PS_MAX_ID
    if not plain and not (entity == "stock" and text is not None and _PS_STOCK_KEY.fullmatch(text)):
        return _invalid(key_field, f"{key_field} must be a positive integer (a PrestaShop id), got {_shown(key)}.")
    date_upd = data.get("date_upd")
    if date_upd is not None:
        try:
            if not isinstance(date_upd, str):
                raise ValueError
            # the exact shape first, then the calendar (fromisoformat: a tenth of strptime's cost)
            if _PS_DATE.fullmatch(date_upd) is None:
                raise ValueError
            datetime.datetime.fromisoformat(date_upd)
        except ValueError:
            return _invalid("data.date_upd", "data.date_upd must be a date and time as PrestaShop writes it "
                            f"(YYYY-MM-DD HH:MM:SS, e.g. 2026-11-26 10:00:00), got {_shown(date_upd)}.")
    return None


def _same_content(a: Message, event: str, data: dict[str, Any]) -> bool:
    return a.event == event and _canonical.encode(a.payload) == _canonical.encode(data)


def _content_digest(event: str, data: dict[str, Any]) -> str:
    """What a webhook id's receipt remembers of its body: event type and data, canonical."""
    return hashlib.sha256(_canonical.encode({"type": event, "data": data})).hexdigest()


def _change_key(entity: str, key: str, event_type: str, data: dict[str, Any]) -> str | None:
    """The change key of a ``<entity>.created`` / ``<entity>.updated`` webhook about the record
    itself (``data.id`` is the key) with a ``date_upd``, the key the PrestaShop poller gives the
    same version (:func:`runtime.pollers_ps.ps_change_key`); ``None`` for any other event."""
    date_upd = data.get("date_upd")
    if event_type.rsplit(".", 1)[-1] not in ("created", "updated") or not isinstance(date_upd, str):
        return None
    if str(data.get("id")) != key:
        return None  # a row of the record (an order history of an order), not the record's version
    return ps_change_key(entity, key, date_upd)


def _utf8_charset(params: str) -> bool:
    """JSON is UTF-8 (RFC 8259): a ``charset`` parameter, if any, must say so."""
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


class _Answer(Response):
    """An accepted webhook's JSON answer, its body encoded by the caller: the bytes and headers
    of a ``JSONResponse`` of the same content, without its per-answer header building."""

    media_type = "application/json"

    def __init__(self, body: bytes, status_code: int) -> None:
        self.status_code = status_code
        self.body = body
        self.background = None
        self.raw_headers = [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")]


_encode = msgspec.json.Encoder().encode


class _TooLarge(Exception):
    pass


async def _read_limited(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _TooLarge
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


class WebhookIngest:
    """The handler, built once per replica. ``nudge(entity, key, carrier)`` must not block."""

    def __init__(self, store: AsyncStore, secrets: list[str], nudge: Callable[[str, str, dict[str, str]], Any],
                 *, max_body_bytes: int = 1024 * 1024, tolerance_s: int = 300,
                 url_tokens: list[str] | None = None, body_timeout_s: float = 10.0) -> None:
        self.store = store
        self.body_timeout_s = body_timeout_s
        self.url_tokens = list(url_tokens or [])
        self.secrets = secrets
        self.nudge = nudge
        self.max_body_bytes = max_body_bytes
        self.tolerance_s = tolerance_s
        #: reused webhook ids whose body differed from the original's (``/metrics``)
        self.duplicate_mismatches = 0

    async def __call__(self, request: Request) -> Response:
        with ingest_span(request, "/webhooks/prestashop") as span:
            response = await self._handle(request, span)
            span.set_attribute("http.status_code", response.status_code)
            return response

    async def _json_body(self, request: Request) -> bytes | JSONResponse:
        """The raw body, or the refusal: 415 unless JSON, 413 over the limit (checked on the
        declared length first, then while streaming, so an oversized body is never held whole),
        408 when the whole body has not arrived within ``body_timeout_s`` (a slow sender,
        slowloris, holds a request slot no longer than that)."""
        ctype, _, params = request.headers.get("content-type", "").partition(";")
        if ctype.strip().lower() != "application/json" or not _utf8_charset(params):
            return error(415, "unsupported_media_type", "Send the webhook body as application/json (UTF-8).")
        try:
            async with asyncio.timeout(self.body_timeout_s):
                return await _read_limited(request, self.max_body_bytes)
        except TimeoutError:
            return error(408, "body_timeout", f"The body did not arrive within {self.body_timeout_s:g} s.")
        except _TooLarge:
            return error(413, "payload_too_large", f"The body exceeds the limit of {self.max_body_bytes} bytes.")
        except ClientDisconnect:
            return error(400, "client_disconnected", "The client went away before the body was complete.")

    async def _handle(self, request: Request, span: Any) -> Response:
        body = await self._json_body(request)
        if isinstance(body, JSONResponse):
            return body
        if not self.secrets:
            return error(401, "signature_unverifiable", "No webhook secret is configured, so nothing is accepted.")
        try:
            webhook_id = verify(self.secrets, request.headers, body, tolerance=self.tolerance_s)
        except SignatureError as exc:
            return error(401, f"signature_{exc.reason}", exc.message)
        try:
            env = decode_envelope(body)
        except BodyProblem as problem:
            return error(problem.status, problem.code, problem.detail)
        if env.type not in KNOWN_EVENTS:
            return error(422, "unknown_event_type",
                         f"Event type '{env.type[:80]}' is not one the bridge handles (e.g. order.created).")
        entity = env.type.split(".", 1)[0]
        key = env.data.get("id")
        if key is None or isinstance(key, (dict, list, bool)) or str(key) == "":
            return error(400, "missing_field", "Field data.id (the record's id in the shop) is required.")
        refusal = _field_problem(entity, key, "data.id", env.data)
        if refusal is not None:
            return refusal
        return await self._persist(span, entity, str(key), env.type, env.data, f"prestashop:webhook:{webhook_id}",
                                   body, webhook_id=webhook_id)

    async def ps_webhooks(self, request: Request) -> Response:
        """``POST /webhooks/ps_webhooks?token=...``: the unsigned ``ps_webhooks`` module format,
        accepted only with a configured URL token (the weaker option: see the connector README)."""
        with ingest_span(request, "/webhooks/ps_webhooks") as span:
            body = await self._json_body(request)
            if isinstance(body, JSONResponse):
                return body
            try:
                event = parse_ps_webhooks(body, request.query_params.get("token"), self.url_tokens)
                check_structure(body, event.data)
            except SignatureError as exc:
                return error(401, f"token_{exc.reason}", exc.message)
            except ValidationError as exc:
                return error(400, "invalid_body", exc.message)
            except BodyProblem as problem:
                return error(problem.status, problem.code, problem.detail)
            except UnicodeDecodeError:
                return error(400, "malformed_json", "The body is not valid JSON: it is not UTF-8.")
            except RecursionError:
                return error(400, "too_deep", f"The body nests deeper than {MAX_DEPTH} levels.")
            if event.type not in KNOWN_EVENTS:
                return error(422, "unknown_event_type", f"Event type '{event.type[:80]}' is not one the bridge handles.")
            # the key is data.id, or data.id_order for the rows of an order (order_histories...)
            key_field = next((f"data.{f}" for f in ("id", "id_order") if str(event.data.get(f)) == event.key),
                             "data.id")
            refusal = _field_problem(event.entity, event.key, key_field, event.data)
            if refusal is not None:
                return refusal
            return await self._persist(span, event.entity, event.key, event.type, event.data,
                                       f"prestashop:ps_webhooks:{event.event_id}", body)

    async def _persist(self, span: Any, entity: str, key: str, event_type: str, data: dict[str, Any],
                       idempotency_key: str, body: bytes, webhook_id: str | None = None) -> Response:
        version = data.get("date_upd", data.get("version"))
        carrier = carrier_of(span)  # stored in the message and sent with the nudge
        msg = Message(
            id=new_message_id(), entity=entity, key=key, source="prestashop", event=event_type,
            payload=data, idempotency_key=idempotency_key, traceparent=carrier.get("traceparent"),
            source_version=None if version is None else str(version),
        )
        change_key = _change_key(entity, key, event_type, data)
        if change_key is not None and webhook_id is not None:
            message_id, created = await self._append_change(msg, change_key, webhook_id, body)
        elif change_key is not None:
            # ps_webhooks: its event id is a hash of the body, so the version's key covers it
            msg.idempotency_key = change_key
            message_id, created = await self.store.append(msg)
        else:
            # a client that disconnects cannot cancel the write: AsyncStore.append hands the
            # message to the writer before it first waits (no asyncio.shield task needed)
            message_id, created = await self.store.append(msg)
            if not created:
                await self._check_duplicate(message_id, idempotency_key, event_type, data, body)
        # one call for the attributes known now (each set_attribute call takes the span's lock)
        span.set_attributes({"entity": entity, "record.key": key, "message.id": message_id})
        if not created:
            return _Answer(_encode({"message_id": message_id, "duplicate": True}), 200)
        try:
            self.nudge(entity, key, carrier)
        except Exception as exc:  # noqa: BLE001 - the dispatcher will pick the message up anyway
            log.warning("nudge of the %s actor failed (%s); the dispatcher will retry", entity, type(exc).__name__)
        return _Answer(_encode({"message_id": message_id}), 202)

    async def _append_change(self, msg: Message, change_key: str, webhook_id: str,
                             body: bytes) -> tuple[str, bool]:
        """Journal a signed webhook that carries a version under the change key (see the module
        docstring): ``(message id, created)``. The webhook id's receipt is claimed in the same
        transaction as the message (group-committed, shielded from client disconnects), so two
        deliveries of one id racing each other still make one message."""
        receipt = Receipt(webhook_id, _content_digest(msg.event, msg.payload), change_key)
        message_id, created = await self.store.append(msg, receipt)  # never cancelled: see _persist
        if receipt.seen_content is not None and receipt.seen_content != receipt.content:
            await self._record_mismatch(message_id, msg.idempotency_key, msg.event, body)
        return message_id, created

    async def _check_duplicate(self, message_id: str, idempotency_key: str, event_type: str, data: dict[str, Any],
                               body: bytes) -> None:
        """Record a reused id whose body differs from the original's (see the module docstring).
        Only duplicates pay for this read; a failure to record is logged, never answered."""
        try:
            original = await self.store.get(message_id)
            if original is None or _same_content(original, event_type, data):
                return
        except Exception as exc:  # noqa: BLE001 - the sender's answer does not depend on this record
            log.warning("could not check a duplicate of message %s (%s)", message_id, type(exc).__name__)
            return
        await self._record_mismatch(message_id, idempotency_key, event_type, body)

    async def _record_mismatch(self, message_id: str, idempotency_key: str, event_type: str, body: bytes) -> None:
        """The ``duplicate_mismatch`` record: log line, timeline event, counter (ids and hashes only)."""
        try:
            digest = hashlib.sha256(body).hexdigest()
            self.duplicate_mismatches += 1
            log.warning("webhook id reused with a different body: message %s, idempotency key %s, "
                        "new body sha256 %s (the new body is not journaled)", message_id, idempotency_key, digest)
            await asyncio.shield(self.store.record_event(
                message_id, "duplicate_mismatch",
                {"idempotency_key": idempotency_key, "body_sha256": digest, "event": event_type[:80]}))
        except Exception as exc:  # noqa: BLE001 - the sender's answer does not depend on this record
            log.warning("could not record a duplicate mismatch on message %s (%s)", message_id, type(exc).__name__)
