"""The soak's parts, shared by ``benchmarks/ingest.py --soak`` and its short form in the tests
(tests/e2e/test_ingest_soak.py): signed webhooks, a keep-alive HTTP/1.1 sender that records
every answer, the journal check, and the replica's memory.

:func:`send_all` keeps ``connections`` connections busy (each sends its next webhook as soon as
the previous one is answered) and retries a webhook on a connection error, as a real sender
does. :func:`check_journal` says, for the answers received, what is wrong: a ``202`` whose
message is not in the journal, a webhook journaled twice, a refusal. Nothing here times the
server except the overall rate, which the benchmark prints and the test ignores.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Answer", "SoakReport", "check_journal", "make_webhooks", "replica_memory", "send_all"]

DATE_UPD = "2026-11-26 10:00:00"


@dataclass
class Answer:
    status: int
    message_id: str | None
    retries: int = 0


@dataclass
class SoakReport:
    sent: int
    accepted: int
    seconds: float
    problems: list[str] = field(default_factory=list)


def change_key(order_id: int) -> str:
    """The journal's idempotency key of the soak's webhook for ``order_id`` (a signed
    ``order.created`` with a ``date_upd``: runtime/app/webhooks.py, "change key")."""
    return f"prestashop:order:{order_id}:{DATE_UPD}"


def make_webhooks(secret: str, n: int, tag: str, host: str, path: str = "/webhooks/prestashop",
                  first_id: int = 1) -> list[bytes]:
    """``n`` complete HTTP/1.1 requests, each a signed ``order.created`` of its own order
    (ids ``first_id`` ... ``first_id + n - 1``) with a unique webhook id."""
    from connectors.prestashop.signing import sign

    ts = int(time.time())
    out = []
    for i in range(n):
        oid = first_id + i
        body = json.dumps({"type": "order.created", "timestamp": ts, "data": {
            "id": oid, "reference": f"SOAK{oid:06d}", "total_paid": "123.40", "date_upd": DATE_UPD}},
            separators=(",", ":")).encode()
        wid = f"soak_{tag}_{oid}"
        head = (f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                f"webhook-id: {wid}\r\nwebhook-timestamp: {ts}\r\nwebhook-signature: {sign(secret, wid, ts, body)}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n")
        out.append(head.encode() + body)
    return out


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    status = int((await reader.readline()).split(b" ", 2)[1])
    length, chunked = 0, False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if not chunked:
        return status, await reader.readexactly(length)
    body = b""
    while True:
        size = int((await reader.readline()).strip(), 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body
        body += chunk[:-2]


async def send_all(host: str, port: int, requests: list[bytes], connections: int = 16,
                   on_progress: Callable[[int], None] | None = None, deadline_s: float = 3600.0) -> list[Answer]:
    """Send every request; one :class:`Answer` per request, in order. A connection error is
    retried on a new connection (after a short pause) until ``deadline_s``."""
    answers: list[Answer | None] = [None] * len(requests)
    next_index = 0
    done = 0
    end = time.monotonic() + deadline_s

    async def worker() -> None:
        nonlocal next_index, done
        reader = writer = None
        while True:
            if next_index >= len(requests):
                break
            i = next_index
            next_index += 1
            retries = 0
            while True:
                try:
                    if writer is None:
                        reader, writer = await asyncio.open_connection(host, port)
                    assert reader is not None
                    status, body = await _exchange(reader, writer, requests[i])
                    break
                except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                    if writer is not None:
                        writer.close()
                    reader = writer = None
                    retries += 1
                    if time.monotonic() > end:
                        raise
                    await asyncio.sleep(min(0.05 * retries, 1.0))
            try:
                mid = json.loads(body).get("message_id")
            except ValueError:
                mid = None
            answers[i] = Answer(status, mid, retries)
            done += 1
            if on_progress is not None:
                on_progress(done)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return [a for a in answers if a is not None]


def journal_rows(store: Any) -> list[tuple[str, str]]:
    """``(message id, idempotency key)`` of every message in the journal."""
    with store.backend.read() as cur:
        cur.execute("SELECT id, idempotency_key FROM messages")
        return [(str(r[0]), str(r[1])) for r in cur.fetchall()]


def check_journal(answers: list[Answer], rows: list[tuple[str, str]], first_id: int = 1) -> list[str]:
    """What is wrong, one line per kind of problem (empty: every accepted webhook is in the
    journal exactly once and nothing was refused). A ``200`` is accepted too: it is the
    duplicate answer to a webhook re-sent after a connection error, whose first send was
    journaled although its answer was lost."""
    problems = []
    refused = [a.status for a in answers if a.status not in (200, 202)]
    if refused:
        problems.append(f"{len(refused)} webhooks refused (statuses {sorted(set(refused))})")
    by_key: dict[str, list[str]] = {}
    for mid, key in rows:
        by_key.setdefault(key, []).append(mid)
    twice = [k for k, ids in by_key.items() if len(ids) > 1]
    if twice:
        problems.append(f"{len(twice)} webhooks journaled more than once")
    missing = wrong = 0
    for i, a in enumerate(answers):
        if a.status not in (200, 202):
            continue
        ids = by_key.get(change_key(first_id + i), [])
        if not ids:
            missing += 1
        elif a.message_id not in ids:
            wrong += 1
    if missing:
        problems.append(f"{missing} accepted webhooks are not in the journal")
    if wrong:
        problems.append(f"{wrong} answers name a message id the journal does not hold for that webhook")
    extra = len(rows) - sum(1 for a in answers if a.status in (200, 202))
    if extra > 0:
        problems.append(f"{extra} messages in the journal were never acknowledged")
    return problems


def _descends_from(pid: int, ancestor: int, depth: int = 4) -> bool:
    for _ in range(depth):
        try:
            pid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            return False
        if pid == ancestor:
            return True
    return False


def replica_pids(app: str) -> list[int]:
    """Process ids of the Serve replicas of ``app`` in the Ray this process started (Ray names
    the process ``ray::ServeReplica:<app>:<deployment>``; its raylet is a child of ours, so
    another Ray on the machine is not counted)."""
    me = os.getpid()
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            cmd = (d / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if cmd.startswith(f"ray::ServeReplica:{app}:") and _descends_from(int(d.name), me):
            pids.append(int(d.name))
    return pids


def replica_memory(app: str) -> dict[str, float]:
    """``{"rss_mb", "peak_rss_mb"}`` summed over the replicas of ``app`` (Linux ``/proc``)."""
    rss = peak = 0.0
    for pid in replica_pids(app):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1]) / 1024
    return {"rss_mb": rss, "peak_rss_mb": peak}

