"""The bulk driver: list keys page by page, cut them into chunks, run the chunks as Ray tasks
with a bounded in-flight window, sum what they report, and keep the run's record current.

Contract of :func:`run_bulk` (the runtime's ``presta-ax sync`` calls it):

* keys are listed with AX ``getKeys`` in pages (:attr:`BulkOptions.page_size`), streamed: the
  driver holds the keys of at most ``window`` chunks plus one page, whatever the catalog's size;
* chunk ``i`` is the ``i``-th run of ``chunk_size`` keys in listing order, named by its index and
  first/last keys; at most ``window`` chunks are submitted at once (never all), each a Ray task
  with ``task_cpus`` (fractional: the work is I/O-bound) and Ray's retries for a lost worker;
* a run resumes from its checkpoints: ``resume=RUN_ID``, or the same command again (the latest
  unfinished run of the same kind and arguments) — finished chunks are listed but not run again;
* one limiter actor per target system (:mod:`pipelines.bulk.limiter`) is shared by all tasks;
* the run record (``store.save_run``) holds status (``running``, ``done``, ``failed``,
  ``interrupted``), totals and the summary: ``listed``/``keys_done`` count keys (items),
  ``records_done`` the records they made (an item and its variants); it is saved at start, about every second and at
  the end; ``on_progress(run)`` is called at the same moments (the CLI's progress bar);
* a dry run writes nothing (no checkpoint, no run record): it reports what would be created,
  updated or left unchanged.
"""

from __future__ import annotations

import asyncio
import resource
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.errors import ConfigError
from pipelines.bulk.jobs import JOBS, find_flow
from pipelines.bulk.limiter import Permits, limiter_name
from pipelines.bulk.store import StoreFactory, store_of
from pipelines.bulk.task import COUNTERS, TaskEnv, run_chunk
from pipelines.registry import FlowRegistry

__all__ = ["BulkOptions", "check_cluster_store", "list_chunks", "run_bulk"]


@dataclass
class BulkOptions:
    """The knobs of a run (see docs/bulk-sync.md, "Sizing")."""

    kind: str
    direction: str = "ax-to-ps"
    dry_run: bool = False
    resume: str | None = None
    concurrency: int = 8           # the most writes in flight per target system
    chunk_size: int = 100
    page_size: int = 500           # keys per getKeys page
    window: int = 0                # chunks in flight; 0: 2 x the cluster's CPUs, at least 4
    task_cpus: float = 0.25
    record_concurrency: int = 16   # records of one chunk in flight inside its task
    permit_lease_s: float = 60.0   # a write permit not given back by then (its task died) is taken back
    flow_dirs: list[str] = field(default_factory=list)
    namespace: str | None = None

    def signature(self) -> str:
        """What makes two commands "the same run" (a rerun continues it)."""
        return f"{self.kind}:{self.direction}:{self.chunk_size}"


def check_cluster_store(store_url: str, nodes: int) -> None:
    """A SQLite store lives on one machine's disk: with more than one Ray node, tasks on other
    nodes cannot reach it. Raises ConfigError saying so."""
    if nodes > 1 and store_url.startswith("sqlite"):
        raise ConfigError(f"This Ray cluster has {nodes} nodes, but the store is SQLite, a file on one machine that "
                          "tasks on the other nodes cannot reach. Point `store.url` at PostgreSQL "
                          "(postgresql://...) to run a bulk sync on a cluster, or run it on a single node.")


async def list_chunks(ax: Any, key_entity: str, chunk_size: int, page_size: int) -> AsyncIterator[dict[str, Any]]:
    """Chunks of keys in listing order, streamed from ``getKeys`` pages."""
    from connectors.dynamics_ax import EntityKey

    index, keys = 0, []
    async for page in ax.service(key_entity).iter_keys(page_size=page_size):
        for key in page.keys:
            keys.append(key.value if isinstance(key, EntityKey) else str(key))
            if len(keys) == chunk_size:
                yield {"id": f"c{index:06d}", "index": index, "first": keys[0], "last": keys[-1], "keys": keys}
                index, keys = index + 1, []
    if keys:
        yield {"id": f"c{index:06d}", "index": index, "first": keys[0], "last": keys[-1], "keys": keys}


def _new_run(opts: BulkOptions, flow: str) -> dict[str, Any]:
    now = time.time()
    return {"run_id": f"{opts.kind}-{time.strftime('%Y%m%d-%H%M%S', time.gmtime(now))}-{uuid.uuid4().hex[:6]}",
            "kind": opts.kind, "direction": opts.direction, "flow": flow, "signature": opts.signature(),
            "status": "running", "args": {k: v for k, v in asdict(opts).items() if k not in ("resume", "flow_dirs")},
            "started_at": now, "updated_at": now, "finished_at": None, "listed": 0, "listing_done": False,
            "chunks_done": 0, "keys_done": 0, "records_done": 0, "errors": 0, "duration_s": 0.0, "writes_per_s": 0.0,
            "counts": dict.fromkeys(COUNTERS, 0), "nodes": {}, "peak_task_rss_kb": 0, "task_cpu_s": 0.0}


async def run_bulk(opts: BulkOptions, *, prestashop: Any, ax: Any, store_factory: StoreFactory,
                   on_progress: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
    """Run (or resume) a bulk sync; returns the run record (module docstring). Needs
    ``ray.init`` done by the caller. Raises ConfigError for an unknown kind, a flow without a
    ``bulk`` trigger, or an unknown ``resume`` id."""
    from pathlib import Path

    import ray

    from connectors.dynamics_ax import Client as AxClient

    job = JOBS.get(opts.kind)
    if job is None:
        raise ConfigError(f"Unknown sync kind '{opts.kind}'. Known: {', '.join(JOBS)}.")
    if opts.direction != "ax-to-ps":
        raise ConfigError(f"`presta-ax sync {opts.kind}` runs ax-to-ps only in this version.")
    if ax is None:
        raise ConfigError("A bulk sync reads AX: configure `systems.ax` first.")
    if opts.concurrency < 1 or opts.chunk_size < 1:
        raise ConfigError("--concurrency and --chunk-size must be at least 1.")
    flow = find_flow(FlowRegistry([Path(d) for d in opts.flow_dirs]), job)
    store = store_of(store_factory)
    run: dict[str, Any] | None = None
    if opts.resume:
        run = store.get_run(opts.resume)
        if run is None:
            raise ConfigError(f"There is no bulk run '{opts.resume}' in this store (see `presta-ax sync status`).")
        if run["kind"] != opts.kind:
            raise ConfigError(f"Run '{opts.resume}' is a {run['kind']} sync, not {opts.kind}.")
    elif not opts.dry_run:
        run = store.open_run(opts.kind, opts.signature())
    if run is None:
        run = _new_run(opts, flow.name)
    else:
        run.update(status="running", finished_at=None)
        opts.chunk_size = int(run["args"].get("chunk_size", opts.chunk_size))  # chunks must match the checkpoints
    run["dry_run"] = opts.dry_run
    checkpoints = {} if opts.dry_run else store.get_checkpoints(run["run_id"])
    finished = [c for c in checkpoints.values() if c.get("state") == "done"]
    resumed_from = len(finished)
    if finished:
        # the totals are the checkpoints' (a killed driver may not have counted its last chunks)
        run["counts"] = {n: sum(int(c.get(n, 0)) for c in finished) for n in COUNTERS}
        run["records_done"] = sum(int(c.get("records", 0)) for c in finished)
        run["keys_done"] = sum(int(c.get("keys", 0)) for c in finished)
        run["chunks_done"] = len(finished)
        run["errors"] = run["counts"]["failed"] + run["counts"]["held"]
    run["resumed_chunks"] = resumed_from
    if not opts.dry_run:
        store.save_run(run)
    cpus = int(ray.cluster_resources().get("CPU", 2))
    window = opts.window or max(4, 2 * cpus)
    permits = {} if opts.dry_run else {"prestashop": Permits.create(
        limiter_name(run["run_id"], "prestashop") + f":{uuid.uuid4().hex[:6]}", opts.concurrency,
        start=min(2, opts.concurrency), lease_s=opts.permit_lease_s)}
    env = TaskEnv(run_id=run["run_id"], kind=opts.kind, flow_name=flow.name, flow_dirs=list(opts.flow_dirs),
                  prestashop=prestashop, ax=ax, store_factory=store_factory, permits=permits,
                  dry_run=opts.dry_run, record_concurrency=opts.record_concurrency)
    # SPREAD: on a cluster the chunks go to every node (the limiter, not the node, bounds the writes)
    task = ray.remote(num_cpus=opts.task_cpus, max_retries=3, retry_exceptions=False,
                      scheduling_strategy="SPREAD")(run_chunk)
    env_ref = ray.put(env)
    started = time.monotonic()
    before = dict(run["counts"])  # a resumed run's earlier counts (writes/s counts this session's only)
    last_save = 0.0

    def absorb(result: dict[str, Any]) -> None:
        run["chunks_done"] += 1
        if result.get("again"):
            return
        for name in COUNTERS:
            run["counts"][name] = run["counts"].get(name, 0) + int(result.get(name, 0))
        run["records_done"] += int(result.get("records", 0))
        run["keys_done"] = run.get("keys_done", 0) + int(result.get("keys", 0))
        run["errors"] = run["counts"]["failed"] + run["counts"]["held"]
        node = str(result.get("node") or "local")
        run["nodes"][node] = run["nodes"].get(node, 0) + 1
        run["peak_task_rss_kb"] = max(run["peak_task_rss_kb"], int(result.get("maxrss_kb") or 0))
        run["task_cpu_s"] = run["task_cpu_s"] + float(result.get("cpu_s") or 0.0)
        timing = run.setdefault("task_timing_s", {})
        for name, value in (result.get("timing") or {}).items():
            timing[name] = round(timing.get(name, 0.0) + float(value), 4)

    def progress(force: bool = False) -> None:
        nonlocal last_save
        now = time.monotonic()
        if not force and now - last_save < 1.0:
            return
        last_save = now
        elapsed = now - started
        run["duration_s"] = round(run.get("duration_prev_s", 0.0) + elapsed, 3)
        writes = run["counts"]["writes"] - before.get("writes", 0)
        run["writes_per_s"] = round(writes / elapsed, 2) if elapsed > 0 else 0.0
        run["updated_at"] = time.time()
        run["driver_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if permits:
            try:
                run["limiter"] = permits["prestashop"].stats()
            except Exception:  # noqa: BLE001 - progress must not fail the run
                pass
        if not opts.dry_run:
            store.save_run(run)
        if on_progress is not None:
            on_progress(run)

    pending: dict[Any, dict[str, Any]] = {}
    run["listed"] = 0
    try:
        async with AxClient(ax) as client:
            async for chunk in list_chunks(client, job.key_entity, opts.chunk_size, opts.page_size):
                run["listed"] += len(chunk["keys"])
                done = checkpoints.get(chunk["id"])
                if done and done.get("state") == "done" and done.get("first") == chunk["first"]:
                    continue  # finished before this session (and counted above): not run again
                while len(pending) >= window:
                    await _collect(pending, absorb)
                    progress()
                ref = task.remote(env_ref, {k: chunk[k] for k in ("id", "index", "first", "last", "keys")})
                pending[ref] = {"id": chunk["id"]}
                progress()
        run["listing_done"] = True
        while pending:
            await _collect(pending, absorb)
            progress()
        run["status"] = "done"
    except BaseException as exc:
        run["status"] = "interrupted" if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError)) else "failed"
        run["error"] = f"{type(exc).__name__}: {exc}"[:500]
        raise
    finally:
        run["finished_at"] = time.time() if run["status"] != "running" else None
        run["duration_prev_s"] = run.get("duration_prev_s", 0.0) + (time.monotonic() - started)
        progress(force=True)
        for ref in pending:
            ray.cancel(ref, force=False)
        for p in permits.values():
            try:
                ray.kill(p.actor())
            except Exception:  # noqa: BLE001 - it ends with the driver anyway
                pass
    return run


async def _collect(pending: dict[Any, dict[str, Any]], absorb: Callable[[dict[str, Any]], None]) -> None:
    import ray

    ready, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1, timeout=1.0)
    for ref in ready:
        pending.pop(ref)
        absorb(ray.get(ref))
