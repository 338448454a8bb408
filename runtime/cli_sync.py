"""``presta-ax sync catalog|stock|prices|customers`` and ``presta-ax sync status``.

A sync runs :func:`pipelines.bulk.run_bulk` from this process (the driver) on a Ray instance:
a local one by default, a cluster with ``--address`` (``auto``, or ``ray://host:10001``). It
shows a live progress bar (done/total, rate, ETA, errors), prints the run's summary and keeps it
in the store (``presta-ax sync status``, ``GET /api/v1/bulk-runs``). Ctrl-C stops it; the same
command again, or ``--resume RUN_ID``, continues where it stopped.

Exit codes: 0 done (records that failed are in the dead-letter queue and counted in the
summary); 1 the run failed or was interrupted; 2 bad usage or configuration.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any

import typer
from rich import box
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from connectors.errors import ConfigError
from runtime.cli_common import ConfigOpt, console
from runtime.cli_common import load as _settings
from runtime.cli_common import when as _when
from runtime.local_ray import use_loopback
from runtime.metrics import bulk_progress

__all__ = ["register", "sync_app"]

sync_app = typer.Typer(help="Bulk syncs as Ray tasks: catalog, stock, prices, customers; status of runs.",
                       no_args_is_help=True)

DirectionOpt = typer.Option("ax-to-ps", "--direction", help="ax-to-ps (every kind) or ps-to-ax (customers).")
FullOpt = typer.Option(True, "--full/--changed", help="--full: list every record (default); --changed: only those changed "
                                                     "since the last finished run of this command began (AX change "
                                                     "tracking, the shop's date_upd). Unchanged records are never "
                                                     "written.")
SinceOpt = typer.Option(None, "--since", help="Only records changed since TIME (ISO 8601, e.g. 2026-12-01T08:00:00Z; "
                                               "UTC when no zone is given): AX change tracking, the shop's date_upd.")
DryOpt = typer.Option(False, "--dry-run", help="Print the plan (would create / update / leave unchanged); write nothing.")
ResumeOpt = typer.Option(None, "--resume", help="Continue this run (default: the last unfinished run of the same "
                                                "command continues by itself).")
ConcurrencyOpt = typer.Option(8, "--concurrency", min=1, max=512,
                              help="Most writes in flight on the target (the adaptive limit never exceeds it).")
AxConcurrencyOpt = typer.Option(0, "--ax-concurrency", min=0, max=512,
                                help="Most AX calls in flight, shared by all tasks: the reads (key pages, reads of "
                                     "many keys) of an ax-to-ps run, the write operations of a ps-to-ax run. 0 "
                                     "(default): AX's max_connections (ps-to-ax: at most --concurrency). AX's AOS "
                                     "serialises per worker: more only queue there.")
ChunkOpt = typer.Option(100, "--chunk-size", min=1, max=10000, help="Records per Ray task.")
AddressOpt = typer.Option(None, "--address", help="Ray cluster to run on (auto, or ray://HEAD:10001); default: "
                                                  "a local Ray.")
JsonOpt = typer.Option(False, "--json", help="Print the run record as JSON.")


def register(app: typer.Typer) -> None:
    """Add ``sync`` to ``app``."""
    app.add_typer(sync_app, name="sync")


def _ray(address: str | None) -> None:
    import os

    # both are read when Ray is imported: set first (a Ray already running in this process is used)
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    if not address:
        use_loopback()
    import ray

    if ray.is_initialized():
        return
    if address:
        ray.init(address=address, log_to_driver=False, namespace="presta-ax-bulk")
    else:
        ray.init(include_dashboard=False, log_to_driver=False, namespace="presta-ax-bulk")


def parse_since(text: str | None) -> dt.datetime | None:
    """``--since``: an ISO 8601 time (UTC when it names no zone) or epoch seconds; ConfigError
    naming the expected form otherwise."""
    if text is None:
        return None
    value = text.strip()
    try:
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    except ValueError:
        pass
    try:
        when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--since {text[:40]!r} is not a time: give ISO 8601 (2026-12-01T08:00:00Z) or epoch "
                          "seconds.") from None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def _run(kind: str, *, direction: str, full: bool, since: str | None, dry_run: bool, resume: str | None,
         concurrency: int, chunk_size: int, address: str | None, config: Path | None, as_json: bool,
         ax_concurrency: int = 0) -> None:
    from pipelines.bulk import BulkOptions, check_cluster_store, run_bulk
    from runtime.store.bulk_runs import open_bulk_store

    settings = _settings(config)
    url = settings.store_url()
    _ray(address)
    import ray

    check_cluster_store(url, sum(1 for n in ray.nodes() if n.get("Alive")))
    opts = BulkOptions(kind=kind, direction=direction, since=parse_since(since), changed=not full, dry_run=dry_run, resume=resume, concurrency=concurrency,
                       ax_concurrency=ax_concurrency, chunk_size=chunk_size, flow_dirs=[str(d) for d in settings.flow_dirs],
                       task_resource=settings.placement.bulk_resource)
    columns = (TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn("{task.fields[rate]} rec/s"), TimeRemainingColumn(), TextColumn("{task.fields[errors]}"))
    with Progress(*columns, console=console, transient=False, disable=as_json) as bar:
        task = bar.add_task(f"sync {kind}{' (dry run)' if dry_run else ''}", total=None, rate="-", errors="")

        def show(run: dict[str, Any]) -> None:
            bulk_progress(run)  # Ray's metrics: records by outcome, share done, the shop's write limit
            done = run.get("keys_done", 0)  # keys (items) of listed: the bar's unit
            rate = run["records_done"] / run["duration_s"] if run.get("duration_s") else 0.0
            errors = run.get("errors", 0)
            bar.update(task, completed=done,
                       total=run["listed"] if run.get("listing_done") else None,
                       rate=f"{rate:,.0f}", errors=f"[red]{errors} errors[/red]" if errors else "")

        try:
            run = asyncio.run(run_bulk(opts, prestashop=settings.systems.prestashop, ax=settings.systems.ax,
                                       store_factory=functools.partial(open_bulk_store, url), on_progress=show))
        except KeyboardInterrupt:
            console.print("Interrupted: run the same command again (or --resume) to continue.")
            raise typer.Exit(1) from None
    if as_json:
        typer.echo(json.dumps(run, indent=2, default=str))
    else:
        _summary(run)


def _summary(run: dict[str, Any]) -> None:
    c = run["counts"]
    plan = run.get("dry_run")
    t = Table(box=box.SIMPLE, title=f"{'Plan' if plan else 'Run'} {run['run_id']} ({run['flow']}): {run['status']}")
    labels = {"created": "would create", "updated": "would update", "unchanged": "would leave unchanged"}
    for name in ("created", "updated", "unchanged", "dropped", "held", "failed", "stale"):
        t.add_column(labels[name] if plan and name in labels else name, justify="right")
    t.add_column("duration", justify="right")
    t.add_column("writes/s", justify="right")
    t.add_row(*(f"{c.get(n, 0):,}" for n in ("created", "updated", "unchanged", "dropped", "held", "failed", "stale")),
              f"{run.get('duration_s', 0):.1f} s", f"{run.get('writes_per_s', 0):,.1f}")
    console.print(t)
    if run.get("resumed_chunks"):
        console.print(f"Resumed: {run['resumed_chunks']} chunk(s) were finished before and were not run again.")
    if c.get("failed") or c.get("held"):
        console.print(f"{c.get('failed', 0) + c.get('held', 0)} record(s) are in the dead-letter queue: "
                      "`presta-ax dlq list`.")


def _command(kind: str) -> Any:
    def command(direction: str = DirectionOpt, full: bool = FullOpt, since: str | None = SinceOpt,
                dry_run: bool = DryOpt, resume: str | None = ResumeOpt, concurrency: int = ConcurrencyOpt,
                ax_concurrency: int = AxConcurrencyOpt, chunk_size: int = ChunkOpt, address: str | None = AddressOpt,
                config: Path | None = ConfigOpt, as_json: bool = JsonOpt) -> None:
        _run(kind, direction=direction, full=full, since=since, dry_run=dry_run, resume=resume,
             concurrency=concurrency, chunk_size=chunk_size, address=address, config=config, as_json=as_json,
             ax_concurrency=ax_concurrency)

    command.__doc__ = {"catalog": "AX items and variants -> PrestaShop products and combinations.",
                       "stock": "AX on-hand -> PrestaShop stock_availables.",
                       "prices": "AX base prices and trade agreements -> PrestaShop prices.",
                       "customers": "AX customers -> shop customers and addresses (--direction ps-to-ax: "
                                    "shop customers -> AX)."}[kind]
    return command


for _kind in ("catalog", "stock", "prices", "customers"):
    sync_app.command(_kind)(_command(_kind))


@sync_app.command("status")
def status(run_id: str | None = typer.Argument(None, help="One run (default: the latest runs)."),
           limit: int = typer.Option(10, "--limit", min=1, max=500, help="At most this many runs."),
           config: Path | None = ConfigOpt, as_json: bool = JsonOpt) -> None:
    """Bulk runs from the store: status, progress, summary."""
    from runtime.store.bulk_runs import open_bulk_store

    store = open_bulk_store(_settings(config).store_url())
    try:
        runs = [r for r in [store.get_run(run_id)] if r] if run_id else store.list_runs(limit)
    finally:
        store.close()
    if run_id and not runs:
        console.print(f"There is no bulk run '{run_id}' in this store.")
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps(runs if not run_id else runs[0], indent=2, default=str))
        return
    t = Table(box=box.SIMPLE, title="Bulk runs")
    for col in ("run", "status", "items", "records", "created", "updated", "unchanged", "failed", "writes/s", "started"):
        t.add_column(col)
    for r in runs:
        c = r["counts"]
        t.add_row(r["run_id"], r["status"], f"{r.get('keys_done', 0):,}/{r['listed']:,}", f"{r['records_done']:,}",
                  str(c.get("created", 0)),
                  str(c.get("updated", 0)), str(c.get("unchanged", 0)), str(c.get("failed", 0) + c.get("held", 0)),
                  f"{r.get('writes_per_s', 0):,.1f}", _when(r.get("started_at")))
    console.print(t)
