"""The chunk task: read a chunk of keys in batches, run each record through its flow, write only
what changed, within the shared budget, then checkpoint the chunk.

:func:`run_chunk` is a plain function (the driver wraps it with ``ray.remote``); it runs its
coroutine on one event loop per worker process (:func:`_loop`), so the connector clients,
their connection pools and the opened store are reused by every chunk the worker runs.

Contract of one chunk (``{"id", "index", "first", "last", "keys"}``):

* a chunk whose checkpoint says ``done`` is not run again (a retried task after a lost
  answer): its stored counts are returned with ``"again": true``;
* the keys are read in parts of ``read_part_size`` (:mod:`pipelines.bulk.prefetch`): the next
  part is read while the records of the previous ones are written, so the first write waits
  for one part's read only and the writes never wait for a later read unless the reads fall
  behind; up to ``record_concurrency`` records are in flight;
* after a part's read, its job's batched look-up runs (:attr:`pipelines.bulk.jobs.Job.lookup`; the
  catalog's products by ``reference``, :mod:`pipelines.bulk.lookup`), before any of its writes:
  a product create is then one request, the one that holds the permit; a write attempt retried
  after a failure drops that answer and looks the product up itself (the failed attempt may
  have created it);
* each record goes through :func:`pipelines.bulk.records.run_record`; a load is skipped when
  the target's stored hash (``sync_state``, the same rows as real-time echo suppression) equals
  the mapped document's, otherwise it is written (each write request holds a permit of the
  target's shared limiter: :mod:`pipelines.bulk.gate`; in an ax-to-ps run each AX call of the
  reads holds one of AX's, ``ax_concurrency``), and the
  hash of what was written is stored right after (the cross-references are written by the
  operations themselves, right after each create);
* a transient failure (429, 503, timeout, network) is retried per record with backoff,
  honouring ``Retry-After``, up to ``max_attempts``; then, like a permanent failure or a
  ``hold`` guard, the record goes to the dead-letter queue with its reason; the chunk goes on;
* source versions (catalog, prices: the flows whose real-time messages carry the AX read time as
  ``source_version``): the chunk's version is the time taken before its AX read, in the same
  format; right before a record's write it is claimed in the record's ``sync_state`` row (the
  row the real-time worker checks and advances, ``(flow entity, key)``), which refuses a version
  older than the one applied: a record a newer real-time update reached first ends ``stale``,
  unwritten, and a real-time message read before the bulk's read ends ``skipped_stale``;
* two-way flows (customers): a record whose source side holds exactly the bridge's own last
  write (its projection on what the flow writes to that side, and of each address, equals the
  stored hash that carries a write time) is that write, not a change: ``unchanged``, nothing
  run. Unlike real time, the source's content is not recorded as that side's hash: runs in
  alternating directions would then rewrite each other's records wherever a mapping's round
  trip is not the identity (they settle after one run each way instead);
* the checkpoint (``done`` + counts) is written only after every record of the chunk ended,
  so a chunk cut short (a killed worker, driver or node) is run again, and finds its earlier
  writes through the cross-references and hashes: nothing is written twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import resource
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

from connectors.errors import TransientError
from pipelines.bulk.jobs import job_for
from pipelines.bulk.limiter import Permits
from pipelines.bulk.lookup import LOOKED_UP
from pipelines.bulk.prefetch import pipelined
from pipelines.bulk.records import now_version, run_record
from pipelines.bulk.store import BulkStore, StoreFactory, store_of
from pipelines.hashing import fingerprint
from pipelines.registry import FlowRegistry, LoadedFlow
from pipelines.sync import SidePlan, echo_plan, side_plans, state_entity, target_key

__all__ = ["COUNTERS", "TaskEnv", "run_chunk"]

T = TypeVar("T")

#: the counts a chunk reports (and a run sums)
COUNTERS = ("created", "updated", "unchanged", "dropped", "held", "failed", "stale", "writes")
#: where the key of a load's target is when its document does not name it (the bulk reader set it)
_KEY_IN_CONTEXT = {"products.upsert": "ps_product_id", "combinations.upsert": "ps_combination_id",
                   "stock_availables.update": "ps_stock_available_id", "products.update": "ps_product_id",
                   "customers.upsert": "ps_customer_id", "addresses.upsert": "ps_address_id",
                   "CustomerService.upsert": "ax_customer_account"}
#: kinds whose real-time messages carry a source version (the AX read time) in ``sync_state``
_VERSIONED = frozenset({"catalog", "prices"})
_COLUMN = {"prestashop": "ps_hash", "ax": "ax_hash"}


@dataclass
class TaskEnv:
    """What every chunk task of a run needs (picklable; secrets stay in the pydantic configs)."""

    run_id: str
    kind: str
    flow_name: str
    flow_dirs: list[str]
    prestashop: Any
    ax: Any
    store_factory: StoreFactory
    direction: str = "ax-to-ps"
    permits: dict[str, Permits] = field(default_factory=dict)
    dry_run: bool = False
    record_concurrency: int = 16
    read_part_size: int = 50  # keys per part of a chunk's pipelined read (pipelines.bulk.prefetch)
    read_ahead: int = 1       # parts read ahead of the writes
    max_attempts: int = 6
    backoff_s: float = 0.2


# ----------------------------------------------------------------------------- per worker process

_state_lock = threading.Lock()
_loop_ref: list[asyncio.AbstractEventLoop] = []
_ops: dict[str, Any] = {}
_flows: dict[tuple[str, ...], FlowRegistry] = {}


def _loop() -> asyncio.AbstractEventLoop:
    """This process's event loop, running in a daemon thread (started on first use)."""
    with _state_lock:
        if not _loop_ref:
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="bulk-loop", daemon=True).start()
            _loop_ref.append(loop)
        return _loop_ref[0]


def _run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run_coroutine_threadsafe(coro, _loop()).result()


async def _operations(env: TaskEnv, store: BulkStore) -> Any:
    from pipelines.operations import SystemOperations

    ops = _ops.get(env.run_id)
    if ops is None:
        for old in list(_ops.values()):  # a worker serves one run at a time: close the previous clients
            with contextlib.suppress(Exception):
                await old.aclose()
        _ops.clear()
        ps_client = ax_client = None
        if env.prestashop is not None and "prestashop" in env.permits:
            from connectors.prestashop import Client as PsClient
            from pipelines.bulk.gate import gated_transport

            ps_client = PsClient(env.prestashop, transport=gated_transport(env.prestashop, env.permits["prestashop"]))
        if env.ax is not None and "ax" in env.permits and env.direction == "ax-to-ps":
            from pipelines.bulk.gate import gated_ax_client

            ax_client = gated_ax_client(env.ax, env.permits["ax"])  # every AX call (the reads) holds a permit
        ops = _ops[env.run_id] = SystemOperations(env.prestashop, env.ax, store, ps_client=ps_client,
                                                  ax_client=ax_client)
    return ops


def _flow(env: TaskEnv) -> LoadedFlow:
    from pathlib import Path

    key = tuple(env.flow_dirs)
    registry = _flows.get(key)
    if registry is None:
        registry = _flows[key] = FlowRegistry([Path(d) for d in env.flow_dirs])
    return registry.get(env.flow_name)


# ----------------------------------------------------------------------------- writes


class _ChunkWriter:
    """:class:`pipelines.bulk.records.Writer` of one chunk (see the module docstring)."""

    def __init__(self, env: TaskEnv, ops: Any, store: BulkStore, states: dict[tuple[str, str], dict[str, Any]]
                 ) -> None:
        self.env, self.ops, self.store, self.states = env, ops, store, states

    async def load(self, flow: LoadedFlow, step: Any, plan: SidePlan | None, document: Any,
                   context: dict[str, Any]) -> tuple[str, Any]:
        operation = step.operation or ""
        key = target_key(plan, document) if plan else None
        key = key or context.get(_KEY_IN_CONTEXT.get(operation, ""))
        key = None if key in (None, "") else str(key)
        entity = state_entity(flow, plan) if plan else None
        digest = fingerprint(document, plan.shape) if plan else None
        if plan and key and entity:
            stored = self.states.get((entity, key))
            if stored is None and (entity, key) not in self.states:
                stored = self.store.get_sync_state(entity, key)
            if stored and stored.get(_COLUMN[plan.system]) == digest:
                return "unchanged", {"id": key, "unchanged": True}
        if self.env.dry_run:
            return ("updated" if key else "created"), {"id": key, "dry_run": True}
        version = context.get("source_version")
        if version and context.get("bulk_key") and not self.store.put_sync_state(
                flow.spec.entity, str(context["bulk_key"]), source_version=str(version)):
            # claimed right before the write: a newer real-time update of this record came first
            return "stale", {"id": key, "stale": True, "version": version}
        result = await self._call(step.system or "", operation, document, step.mode, context)
        if not isinstance(result, dict):
            return "updated", result
        if result.get("stale"):
            return "stale", result
        written_key = target_key(plan, document, result) if plan else None
        if plan and entity and written_key and digest:
            column = _COLUMN[plan.system]  # ps_hash or ax_hash: the side this write went to
            self.store.put_sync_state(entity, written_key, ps_hash=digest if column == "ps_hash" else None,
                                      ax_hash=digest if column == "ax_hash" else None)
        if operation == "products.upsert" and result.get("id") not in (None, ""):
            context["ps_product_id"] = str(result["id"])
        if operation == "stock_availables.update" and result.get("id") not in (None, ""):
            self.store.put_xref("stock_available", str(result["id"]), str(context.get("bulk_key")))
        if result.get("existed") is False:
            return "created", result
        if result.get("changed") == [] and result.get("existed") is not False:
            return "unchanged", result  # the shop held this content already: recorded, nothing sent
        return "updated", result

    def source_echo(self, flow: LoadedFlow, record: dict[str, Any], context: dict[str, Any]) -> bool:
        """Whether ``record`` holds exactly the bridge's own last write to its side (module
        docstring); only for records that say their side (``context.message.source``)."""
        source = str((context.get("message") or {}).get("source") or "")
        plan = echo_plan(flow, source) if source in _COLUMN else None
        key = context.get("bulk_key")
        if plan is None or not key:
            return False
        column = _COLUMN[source]
        checks = [(state_entity(flow, plan), str(key), record, plan)]
        for other in side_plans(flow).values():
            if other.system != source or other is plan:
                continue
            rows = record.get(flow.mappings[other.mapping].target.resource or "")
            if not isinstance(rows, list):
                return False  # a write to the source side this record does not show: run it
            checks += [(state_entity(flow, other), str(r.get("id")), r, other) for r in rows
                       if isinstance(r, dict) and r.get("deleted") != "1"]
        for entity, k, doc, p in checks:
            stored = self.store.get_sync_state(entity, k)
            if not stored or stored.get(f"{column}_at") is None or stored.get(column) != fingerprint(doc, p.shape):
                return False
        return True

    async def _call(self, system: str, operation: str, document: Any, mode: str | None,
                    context: dict[str, Any]) -> Any:
        # the shop's writes hold a permit of the shared limiter at the HTTP level (pipelines.bulk.gate);
        # an AX write operation holds one of AX's for its whole call (its SOAP calls share one lane
        # pool, and a partial update reads the document first: both are the write's load on AX)
        # (an ax-to-ps run gates each AX call instead, pipelines.bulk.gate: never both, a call inside
        # a gated operation would wait for a second permit of the same budget)
        permits = self.env.permits.get("ax") if system == "ax" and self.env.direction == "ps-to-ax" else None
        attempts = 0

        def fresh() -> None:
            nonlocal attempts
            attempts += 1
            if attempts > 1:  # a failed attempt may have written (a timeout): look it up again, not from the batch
                for name in LOOKED_UP:
                    context.pop(name, None)

        if permits is None:
            async def plain() -> Any:
                fresh()
                return await self.ops.call(system, operation, document, mode=mode, context=context)

            return await _retrying(self.env, plain)

        async def gated() -> Any:
            fresh()
            async with permits.slot() as report:
                try:
                    return await self.ops.call(system, operation, document, mode=mode, context=context)
                except TransientError as exc:
                    if exc.unavailable or exc.retry_after is not None:
                        report["outcome"], report["retry_after"] = "overload", exc.retry_after
                    raise

        return await _retrying(self.env, gated)


async def _retrying(env: TaskEnv, make: Callable[[], Awaitable[Any]]) -> Any:
    """``await make()``, again after a transient failure (a reset connection, 429/503, a timeout)
    with jittered exponential backoff or the target's Retry-After, at most ``env.max_attempts``
    times; the last failure is raised."""
    attempt = 0
    while True:
        attempt += 1
        try:
            return await make()
        except TransientError as exc:
            if attempt >= env.max_attempts:
                raise
            delay = exc.retry_after if exc.retry_after is not None else min(10.0, env.backoff_s * 2 ** (attempt - 1))
            await asyncio.sleep(delay * (0.5 + random.random()))


# ----------------------------------------------------------------------------- the chunk


async def _read_groups(job: Any, ops: Any, keys: list[str], store: Any) -> list[Any]:
    return [g async for g in job.reader(ops, keys, store.xrefs_by_ax)]


def _load_states(flow: LoadedFlow, plans: dict[str, SidePlan], store: BulkStore, groups: list[Any],
                 states: dict[tuple[str, str], dict[str, Any] | None]) -> None:
    """The stored hashes of every target ``groups`` may write, in one query per entity."""
    for plan in plans.values():
        entity = state_entity(flow, plan)
        ctx_field = next((_KEY_IN_CONTEXT[s.operation] for s in flow.spec.steps
                          if s.id == plan.step and s.operation in _KEY_IN_CONTEXT), None)
        keys = sorted({str(c[ctx_field]) for g in groups for _, c in g if ctx_field and c.get(ctx_field)})
        found = store.sync_states(entity, keys) if keys else {}
        states.update({(entity, k): found.get(k) for k in keys})


async def _chunk(env: TaskEnv, chunk: dict[str, Any]) -> dict[str, Any]:
    store = store_of(env.store_factory)
    done = store.get_checkpoints(env.run_id).get(chunk["id"]) if not env.dry_run else None
    if done and done.get("state") == "done" and done.get("first") == chunk["first"]:
        return {**done, "again": True}
    t0 = time.perf_counter()
    flow = _flow(env)
    ops = await _operations(env, store)
    job = job_for(env.kind, env.direction)
    version = now_version() if env.kind in _VERSIONED else None  # taken before the chunk's first read
    counts = dict.fromkeys(COUNTERS, 0)
    plans = side_plans(flow)
    states: dict[tuple[str, str], dict[str, Any] | None] = {}
    writer = _ChunkWriter(env, ops, store, states)  # type: ignore[arg-type]
    records = 0
    t1 = time.perf_counter()

    async def read_part(keys: list[str]) -> list[Any]:
        nonlocal records
        # a part's reads again after a transient failure (an AX or shop connection reset under load)
        groups = await _retrying(env, lambda: _read_groups(job, ops, keys, store))
        if job.lookup is not None and not env.dry_run:
            # the products' look-ups by reference, one batch per part, before any of its writes
            # (pipelines.bulk.lookup): each write then holds its permit for the write request only
            await _retrying(env, lambda: job.lookup(ops, groups))
        _load_states(flow, plans, store, groups, states)
        records += sum(len(g) for g in groups)
        return groups

    async def one_group(group: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        for record, context in group:
            master = context.pop("master_context", None)
            if master is not None:
                context["ps_product_id"] = master.get("ps_product_id")
            if version is not None:
                context["source_version"] = version
            if isinstance(context.get("message"), dict):
                # AX writes carry a MessageId made from it: a chunk run again repeats it
                context["message"]["id"] = f"bulk-{env.run_id}-{context.get('bulk_key')}"
            if writer.source_echo(flow, record, context):
                counts["unchanged"] += 1
                continue
            outcome = await run_record(flow, record, context, writer)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
            counts["writes"] += 0 if env.dry_run else outcome.writes
            if outcome.status in ("failed", "held") and not env.dry_run:
                store.dead_letter(entity=flow.spec.entity, key=str(context.get("bulk_key")), source=job.source,
                                  event=f"bulk.{env.kind}", flow=flow.name,
                                  error={**(outcome.error or {}), "step": outcome.step, "run_id": env.run_id},
                                  payload={"key": str(context.get("bulk_key")), "bulk_run": env.run_id})
            if master is None and outcome.status in ("failed", "held", "dropped"):
                break  # the variants of a master that was not written have no product to go to
            if master is None and env.dry_run and outcome.status == "created" and len(group) > 1:
                counts["created"] += len(group) - 1  # a new product's combinations are all new too
                break

    # the next part is read while this one is written (pipelines.bulk.prefetch): the target's
    # permits do not wait for the whole chunk's read, nor sit idle during the next part's
    piped = await pipelined(list(chunk["keys"]), max(1, env.read_part_size), read_part, one_group,
                            workers=max(1, env.record_concurrency), ahead=max(1, env.read_ahead))
    for permits in env.permits.values():  # this chunk writes no more: what it still asks for goes back
        await permits.close()
    t2 = time.perf_counter()
    result = {"state": "done", "first": chunk["first"], "last": chunk["last"], "keys": len(chunk["keys"]),
              "records": records,
              **counts, "timing": {"setup_s": round(t1 - t0, 4), "read_s": round(piped["read_s"], 4),
                                   "records_s": round(t2 - t1, 4)}}
    if not env.dry_run:
        store.put_checkpoint(env.run_id, chunk["id"], result)
    return result


def run_chunk(env: TaskEnv, chunk: dict[str, Any]) -> dict[str, Any]:
    """Run one chunk (module docstring); returns its counts plus where and at what cost it ran:
    ``node``, ``pid``, ``cpu_s`` (this process's CPU time spent), ``maxrss_kb`` (the worker's peak)."""
    cpu = time.process_time()
    result = _run(_chunk(env, chunk))
    node = None
    with contextlib.suppress(Exception):
        import ray

        node = ray.get_runtime_context().get_node_id()
    return {**result, "chunk": chunk["id"], "node": node, "pid": os.getpid(), "cpu_s": time.process_time() - cpu,
            "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
