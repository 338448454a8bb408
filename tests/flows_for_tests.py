"""Flows used by the runtime tests, and the idempotent test sink they write to.

The sink lives in the store's own database (tables ``test_sink`` and ``test_sink_log``), so it
works the same in-process and inside Ray actors, on SQLite and PostgreSQL. Each effect is keyed
by message id: ``deliveries`` counts how often a flow tried to apply it (at-least-once), while
the row itself exists once (the effect is idempotent).

Payload switches: ``fail_times: n`` raises a transient error on the first n attempts;
``permanent: true`` raises a validation error; ``sleep: s`` waits before the effect.
"""

from __future__ import annotations

import asyncio
from typing import Any

from connectors.errors import TransientError, ValidationError
from runtime.flows import FlowRegistry, FunctionFlow
from runtime.messages import Message
from runtime.worker import FlowContext

_DDL = [
    "CREATE TABLE IF NOT EXISTS test_sink (message_id TEXT PRIMARY KEY, key TEXT NOT NULL, "
    "version TEXT, deliveries INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS test_sink_log (key TEXT NOT NULL, message_seq INTEGER NOT NULL, version TEXT)",
]


def _apply(store: Any, msg: Message) -> None:
    with store.backend.tx() as cur:
        for ddl in _DDL:
            cur.execute(ddl)
        cur.execute("INSERT INTO test_sink (message_id, key, version, deliveries) VALUES (?, ?, ?, 1) "
                    "ON CONFLICT (message_id) DO UPDATE SET deliveries = test_sink.deliveries + 1",
                    (msg.id, msg.key, msg.source_version))
        cur.execute("INSERT INTO test_sink_log (key, message_seq, version) VALUES (?, ?, ?)",
                    (msg.key, msg.seq, msg.source_version))


async def sink_flow(ctx: FlowContext, msg: Message) -> dict[str, Any]:
    with ctx.step("validate"):
        if msg.payload.get("permanent"):
            raise ValidationError("Field 'email' is not a valid e-mail address (rule isEmail).")
    with ctx.step("load"):
        if ctx.attempt <= int(msg.payload.get("fail_times", 0)):
            raise TransientError("The target answered 503 Service Unavailable.", system="sink")
        if msg.payload.get("sleep"):
            await asyncio.sleep(float(msg.payload["sleep"]))
        await asyncio.get_running_loop().run_in_executor(None, _apply, ctx.store.sync, msg)
    return {"sink": "ok"}


def register(registry: FlowRegistry) -> None:
    flow = FunctionFlow("test_sink", sink_flow)
    for entity in ("order", "customer", "product", "stock", "price", "shipment", "invoice"):
        registry.register(entity, "*", flow)


def read_sink(store: Any) -> tuple[dict[str, int], list[tuple[str, int, str | None]]]:
    """``({message_id: deliveries}, [(key, message_seq, version) in application order])``."""
    with store.backend.tx() as cur:
        for ddl in _DDL:
            cur.execute(ddl)
        cur.execute("SELECT message_id, deliveries FROM test_sink")
        effects = {r[0]: int(r[1]) for r in cur.fetchall()}
        cur.execute("SELECT key, message_seq, version FROM test_sink_log")
        log = [(r[0], int(r[1]), r[2]) for r in cur.fetchall()]
    return effects, log


async def auth_flow(ctx: FlowContext, msg: Message) -> None:
    from connectors.errors import AuthError

    raise AuthError("PrestaShop refused the webservice key (code 17).", system="prestashop")
