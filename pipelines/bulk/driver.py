"""The bulk driver: list keys page by page, cut them into chunks, run the chunks as Ray tasks
with a bounded in-flight window, sum what they report, and keep the run's record current.

Contract of :func:`run_bulk` (the runtime's ``presta-ax sync`` calls it):

* keys are listed in pages (:attr:`BulkOptions.page_size`) from the job's source, streamed: AX
  ``getKeys``, or the shop's ids (``limit=offset,count``, sorted by id); the driver holds the
  keys of at most ``window`` chunks plus one page, whatever the catalog's size;
* ``since`` (UTC): only records changed since then: AX change tracking (``getChangedKeys``, as
  the AX poller lists changes; all keys when AX says the time is too old), the shop's
  ``date_upd`` (the shop's own clock; the shop states no time zone, so give ``since`` in it);
* chunk ``i`` is the ``i``-th run of ``chunk_size`` keys in listing order, named by its index and
  first/last keys; at most ``window`` chunks are submitted at once (never all), each a Ray task
  with ``task_cpus`` (fractional: the work is I/O-bound) and Ray's retries for a lost worker;
* a run resumes from its checkpoints: ``resume=RUN_ID``, or the same command again (the latest
  unfinished run of the same kind and arguments) — finished chunks are listed but not run again;
* one limiter actor for the system written to (:mod:`pipelines.bulk.limiter`) is shared by all
  tasks: the shop (``concurrency``) or AX (:func:`ax_write_limit`); an ax-to-ps run has a second
  one for AX's reads (every AX call of the run: the driver's key pages and the tasks' reads,
  :func:`ax_read_limit`, :func:`pipelines.bulk.gate.gated_ax_client`); the actor is created at
  the start without waiting for it, and the driver's AX calls take no permit until its first task
  is submitted (they are the only caller until then, one at a time): a run with nothing to do
  never waits for the actor's process to start;
* the run record (``store.save_run``) holds status (``running``, ``done``, ``failed``,
  ``interrupted``), totals and the summary: ``listed``/``keys_done`` count keys (items),
  ``records_done`` the records they made (an item and its variants); it is saved at start, about every second and at
  the end; ``on_progress(run)`` is called at the same moments (the CLI's progress bar);
* a dry run writes nothing (no checkpoint, no run record): it reports what would be created,
  updated or left unchanged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import resource
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from connectors.errors import ConfigError
from pipelines.bulk.jobs import Job, find_flow, job_for
from pipelines.bulk.limiter import AdaptiveLimit, Permits, limiter_name
from pipelines.bulk.store import StoreFactory, store_of
from pipelines.bulk.task import COUNTERS, TaskEnv, run_chunk
from pipelines.registry import FlowRegistry

__all__ = ["BulkOptions", "check_cluster_store", "list_chunks", "run_bulk"]


@dataclass
class BulkOptions:
    """The knobs of a run (see docs/bulk-sync.md, "Sizing")."""

    kind: str
    direction: str = "ax-to-ps"
    since: dt.datetime | None = None  # only records changed since then (UTC)
    changed: bool = False          # since the start of the last finished run of this command (less overlap)
    overlap_s: float = 120.0       # --changed lists from this long before that start (clock skew, slow commits)
    dry_run: bool = False
    resume: str | None = None
    concurrency: int = 8           # the most writes in flight per target system
    ax_concurrency: int = 0        # AX calls in flight at most (ax-to-ps: reads, ps-to-ax: write operations); 0: see
                                   # ax_read_limit / ax_write_limit
    chunk_size: int = 100
    page_size: int = 500           # keys per getKeys page
    window: int = 0                # chunks in flight; 0: 2 x the cluster's CPUs, at least 4
    task_cpus: float = 0.25
    record_concurrency: int = 16   # records of one chunk in flight inside its task
    read_part_size: int = 50       # keys per part of a chunk's read; the next part is read during the writes
    permit_lease_s: float = 10.0   # a permit whose holder stopped renewing it (its task died) is taken back then
    flow_dirs: list[str] = field(default_factory=list)
    namespace: str | None = None
    task_resource: str | None = None  # a custom Ray resource each task asks one unit of (placement.bulk_resource)

    def signature(self) -> str:
        """What makes two commands "the same run" (a rerun continues it)."""
        base = f"{self.kind}:{self.direction}:{self.chunk_size}"
        if self.changed:
            return base + ":changed"
        return base + (f":since={self.since.isoformat()}" if self.since is not None else "")


def ax_write_limit(opts: BulkOptions, ax: Any) -> int:
    """The most AX write operations in flight at once (a ps-to-ax run): ``ax_concurrency``, or
    ``concurrency`` capped by AX's ``max_connections`` (IIS serialises calls per worker process,
    so writes beyond its connections only queue there and run into timeouts)."""
    if opts.ax_concurrency:
        return opts.ax_concurrency
    return max(1, min(opts.concurrency, int(getattr(ax, "max_connections", opts.concurrency))))


def ax_read_limit(opts: BulkOptions, ax: Any) -> int:
    """The most AX calls in flight at once in an ax-to-ps run (key pages, reads of many keys):
    ``ax_concurrency``, or AX's ``max_connections`` (the IIS workers the bridge may keep busy)."""
    if opts.ax_concurrency:
        return opts.ax_concurrency
    return max(1, int(getattr(ax, "max_connections", 8)))


def check_cluster_store(store_url: str, nodes: int) -> None:
    """A SQLite store lives on one machine's disk: with more than one Ray node, tasks on other
    nodes cannot reach it. Raises ConfigError saying so."""
    if nodes > 1 and store_url.startswith("sqlite"):
        raise ConfigError(f"This Ray cluster has {nodes} nodes, but the store is SQLite, a file on one machine that "
                          "tasks on the other nodes cannot reach. Point `store.url` at PostgreSQL "
                          "(postgresql://...) to run a bulk sync on a cluster, or run it on a single node.")


async def ax_keys(ax: Any, job: Job, page_size: int, since: dt.datetime | None = None) -> AsyncIterator[str]:
    """Keys of ``job``'s AX documents: all (``getKeys``), or those changed since ``since``: the
    keys AX change tracking lists for each of ``job.changes`` (a related document is read to find
    the key it belongs to); every key when AX cannot answer since then. Each key once."""
    from connectors.dynamics_ax import EntityKey

    def text(key: Any) -> str:
        return key.value if isinstance(key, EntityKey) else str(key)

    if since is not None:
        if not job.changes:
            raise ConfigError(f"AX keeps no change tracking for `sync {job.kind}`: run it without --since/--changed "
                              "(unchanged records are skipped by their content hash).")
        seen: set[str] = set()  # a key changed twice, or in two documents, is listed once
        for entity, field in job.changes:
            async for page in ax.changed_keys(entity, since, page_size=page_size):
                if page.needs_full_resync:
                    break  # the time is older than AX's tracking: list everything below
                keys = [text(k) for k in page.keys] if field is None else [
                    _field_of(doc, field) for doc in await ax.service(entity).read(page.keys, skip_missing=True)]
                for key in keys:
                    if key and key not in seen:
                        seen.add(key)
                        yield key
            else:
                continue
            break
        else:
            return
    async for page in ax.service(job.key_entity).iter_keys(page_size=page_size):
        for key in page.keys:
            yield text(key)


def _field_of(doc: Any, names: str) -> str:
    """The first non-empty of ``names`` (``A|B``) in an AX document."""
    for name in names.split("|"):
        value = doc.get(name) if isinstance(doc, dict) else None
        if value not in (None, ""):
            return str(value)
    return ""


async def shop_keys(ps: Any, resource: str, page_size: int, since: dt.datetime | None = None) -> AsyncIterator[str]:
    """Ids of a shop resource, ascending, page by page (``limit=offset,count``); with ``since``
    those whose ``date_upd`` is at or after it."""
    from connectors.prestashop import F

    filters = None
    if since is not None:
        filters = {"date_upd": F.between(since.strftime("%Y-%m-%d %H:%M:%S"), "9999-12-31 23:59:59")}
    offset = 0
    while True:
        page = await ps.list(resource, sort=["id_ASC"], limit=(offset, page_size), filters=filters,
                             date=True if filters else None)
        for record in page:
            yield str(record["id"])
        if len(page) < page_size:
            return
        offset += page_size


async def list_chunks(keys_of: AsyncIterator[str], chunk_size: int) -> AsyncIterator[dict[str, Any]]:
    """Chunks of keys in listing order, streamed from ``keys_of``."""
    index, keys = 0, []
    async for key in keys_of:
        keys.append(key)
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

    job = job_for(opts.kind, opts.direction)
    if ax is None or prestashop is None:
        raise ConfigError("A bulk sync reads one system and writes the other: configure both `systems.ax` and "
                          "`systems.prestashop` first.")
    if opts.since is not None and opts.since.tzinfo is None:
        raise ConfigError("--since needs a time zone (e.g. 2026-12-01T00:00:00Z).")
    if opts.changed and opts.since is not None:
        raise ConfigError("Give --since TIME or --changed, not both.")
    if opts.concurrency < 1 or opts.chunk_size < 1 or opts.ax_concurrency < 0:
        raise ConfigError("--concurrency and --chunk-size must be at least 1.")
    flow = find_flow(FlowRegistry([Path(d) for d in opts.flow_dirs]), job)
    store = store_of(store_factory)
    if opts.changed:
        # the records that changed since the last finished run of this command began: those it
        # did not see; AX lists them (change tracking), so unchanged ones are not even read
        base = opts.signature().removesuffix(":changed")
        last = store.last_done_run(opts.kind, [base, base + ":changed"])
        if last is not None:
            opts.since = dt.datetime.fromtimestamp(float(last["started_at"]) - opts.overlap_s, dt.UTC)
    run: dict[str, Any] | None = None
    if opts.resume:
        run = store.get_run(opts.resume)
        if run is None:
            raise ConfigError(f"There is no bulk run '{opts.resume}' in this store (see `presta-ax sync status`).")
        if run["kind"] != opts.kind or run.get("direction", "ax-to-ps") != opts.direction:
            raise ConfigError(f"Run '{opts.resume}' is a {run['kind']} sync ({run.get('direction', 'ax-to-ps')}), not "
                              f"{opts.kind} ({opts.direction}).")
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
    # one budget for the system written to: the shop's writes are gated at the HTTP level, AX's
    # per write operation (pipelines.bulk.task); an ax-to-ps run's AX calls (all reads) share one
    # too, per call (pipelines.bulk.gate), also in a dry run: it reads as much as a real one
    target = "prestashop" if job.source == "ax" else "ax"
    most = opts.concurrency if target == "prestashop" else ax_write_limit(opts, ax)
    budgets = {} if opts.dry_run else {target: most}
    if job.source == "ax":
        budgets["ax"] = ax_read_limit(opts, ax)
    suffix = uuid.uuid4().hex[:6]
    # one limiter actor holds the run's budgets; it is created here without waiting for it: its
    # process starts while the driver lists keys, whose calls take no permit until the first task
    # is submitted (they are the budget's only caller until then, one call at a time), so a run
    # that finds nothing to do never waits for it (gate.gated_ax_client)
    starts = {system: (n, min(2, n)) for system, n in budgets.items()}
    permits = Permits.create_many(f"{limiter_name(run['run_id'])}:{suffix}", starts,
                                  lease_s=opts.permit_lease_s) if budgets else {}
    submitted = False  # a task was submitted: from then on every AX call of the run holds a permit
    listing: list[Any] = []  # the driver's listing client

    def limiter_asked() -> bool:
        """Whether anything of this run has asked the limiter actor for a permit yet."""
        return submitted or any(getattr(getattr(c, "soap", None), "permits_taken", 0) for c in listing)
    env = TaskEnv(run_id=run["run_id"], kind=opts.kind, direction=opts.direction, flow_name=flow.name,
                  flow_dirs=list(opts.flow_dirs),
                  prestashop=prestashop, ax=ax, store_factory=store_factory, permits=permits,
                  dry_run=opts.dry_run, record_concurrency=opts.record_concurrency,
                  read_part_size=opts.read_part_size)
    # SPREAD: on a cluster the chunks go to every node (the limiter, not the node, bounds the writes)
    task = ray.remote(num_cpus=opts.task_cpus, max_retries=3, retry_exceptions=False, scheduling_strategy="SPREAD",
                      resources={opts.task_resource: 1} if opts.task_resource else {})(run_chunk)
    env_ref = ray.put(env)
    started = time.monotonic()
    earlier_s = float(run.get("duration_prev_s", 0.0))  # what earlier sessions of a resumed run took
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
        run["duration_s"] = round(earlier_s + elapsed, 3)
        writes = run["counts"]["writes"] - before.get("writes", 0)
        run["writes_per_s"] = round(writes / elapsed, 2) if elapsed > 0 else 0.0
        run["updated_at"] = time.time()
        run["driver_rss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        for system, p in permits.items():
            try:
                # while nothing has asked the limiter for a permit its budgets are as they started
                # (asking would wait for its process to start)
                stats = {"system": system, **(p.stats() if limiter_asked() else
                                              AdaptiveLimit(starts[system][0], start=starts[system][1]).stats())}
            except Exception:  # noqa: BLE001 - progress must not fail the run
                continue
            run.setdefault("limiters", {})[system] = stats
            if system == target:
                run["limiter"] = stats  # the budget of the system written to
        if not opts.dry_run:
            store.save_run(run)
        if on_progress is not None:
            on_progress(run)

    pending: dict[Any, dict[str, Any]] = {}
    run["listed"] = 0
    try:
        async with _source_client(job, ax, prestashop, permits.get("ax"), solo=lambda: not submitted) as client:
            listing.append(client)
            keys_of = ax_keys(client, job, opts.page_size, opts.since) if job.source == "ax" else \
                shop_keys(client, job.key_entity, opts.page_size, opts.since)
            async for chunk in list_chunks(keys_of, opts.chunk_size):
                run["listed"] += len(chunk["keys"])
                done = checkpoints.get(chunk["id"])
                if done and done.get("state") == "done" and done.get("first") == chunk["first"]:
                    continue  # finished before this session (and counted above): not run again
                while len(pending) >= window:
                    await _collect(pending, absorb)
                    progress()
                submitted = True  # (the listing is suspended here: none of its AX calls is in flight)
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
        run["duration_prev_s"] = earlier_s + (time.monotonic() - started)
        progress(force=True)
        for ref in pending:
            ray.cancel(ref, force=False)
        for p in list(permits.values())[:1]:  # the budgets share one actor
            try:
                ray.kill(p.limiter())  # (a driver running several runs would keep one process per run)
            except Exception:  # noqa: BLE001 - it ends with the driver anyway
                pass
    return run


def _source_client(job: Job, ax: Any, prestashop: Any, ax_permits: Permits | None = None,
                   solo: Callable[[], bool] | None = None) -> Any:
    """The client of the system whose keys ``job`` lists (an async context manager); AX's calls
    hold a permit of ``ax_permits`` each when given, except while ``solo()`` is True
    (:func:`pipelines.bulk.gate.gated_ax_client`)."""
    if job.source == "ax":
        from connectors.dynamics_ax import Client as AxClient

        # one connection: the listing makes one call at a time, and each connection of an AX
        # client costs its start (an HTTP client and TLS context per lane: with AX's 8 lanes that
        # was most of a zero-change --changed re-sync on a busy 2-core box)
        ax = ax.model_copy(update={"max_connections": 1}) if hasattr(ax, "model_copy") else ax
        if ax_permits is not None:
            from pipelines.bulk.gate import gated_ax_client

            return gated_ax_client(ax, ax_permits, solo)
        return AxClient(ax)
    from connectors.prestashop import Client as PsClient

    return PsClient(prestashop)


async def _collect(pending: dict[Any, dict[str, Any]], absorb: Callable[[dict[str, Any]], None]) -> None:
    import ray

    ready, _ = await asyncio.to_thread(ray.wait, list(pending), num_returns=1, timeout=1.0)
    for ref in ready:
        pending.pop(ref)
        absorb(ray.get(ref))
