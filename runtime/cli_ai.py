"""``presta-ax mapping suggest|schema``, ``presta-ax guard score`` and ``presta-ax review
list|show|release|reject`` (registered on the main app by :func:`register`).

* ``mapping suggest --source SRC.json --target TGT.json [--top 3] [--format json|table]`` --
  :func:`pipelines.ai.suggest.suggest`, offline; a broken schema file exits 2 with every problem;
* ``mapping schema prestashop|ax ENTITY [--output FILE]`` -- the schema file of a PrestaShop
  resource or an AX document service/entity, from the connectors' field tables;
* ``guard score --input EVENTS.jsonl --format json [--currencies EUR,USD]`` -- scores a stream
  in order with only earlier events (the code the flows' guard step runs) and prints one JSON
  line per event ``{"id", "hold", "score", "reason"}``; a malformed line exits 2 naming it;
* ``review ...`` -- the review queue of a running bridge through its admin API (like ``dlq``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table

from runtime.cli_common import ConfigOpt, TokenOpt, UrlOpt, console, err
from runtime.cli_common import when as _when

__all__ = ["register"]

mapping_app = typer.Typer(help="Mapping suggestions: suggest sources for target fields; write schema files.",
                          no_args_is_help=True)
guard_app = typer.Typer(help="The anomaly guard: score a stream of events.", no_args_is_help=True)
review_app = typer.Typer(help="The review queue of held records: list, show, release, reject.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``mapping``, ``guard`` and ``review`` to ``app``."""
    app.add_typer(mapping_app, name="mapping")
    app.add_typer(guard_app, name="guard")
    app.add_typer(review_app, name="review")


def _schema_file(path: Path, what: str) -> Any:
    from pipelines.ai.suggest import parse_schema

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        err.print(f"[red]Cannot read the {what} schema {escape(str(path))}: {escape(exc.strerror or str(exc))}.[/red]")
        raise typer.Exit(2) from None
    except json.JSONDecodeError as exc:
        err.print(f"[red]The {what} schema {escape(str(path))} is not valid JSON: {escape(str(exc))}.[/red]")
        raise typer.Exit(2) from None
    try:
        return parse_schema(data, what)
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None


@mapping_app.command("suggest")
def mapping_suggest(source: Path = typer.Option(..., "--source", help="Schema file of the source (JSON)."),
                    target: Path = typer.Option(..., "--target", help="Schema file of the target (JSON)."),
                    top: int = typer.Option(3, "--top", min=1, max=20, help="Candidates per target field."),
                    fmt: str = typer.Option("table", "--format", help="json or table.")) -> None:
    """For each target field, the source fields most likely to feed it, with confidence and reason."""
    from pipelines.ai.suggest import suggest

    if fmt not in ("json", "table"):
        err.print("[red]--format must be json or table.[/red]")
        raise typer.Exit(2)
    result = suggest(_schema_file(source, "source"), _schema_file(target, "target"), top=top)
    if fmt == "json":
        typer.echo(json.dumps(result, ensure_ascii=False, indent=1))
        return
    table = Table(show_header=True, header_style="bold", expand=False)
    for col in ("target", "source", "conf.", "reason"):
        table.add_column(col, overflow="fold")
    for entry in result["suggestions"]:
        best = entry["candidates"][0] if entry["candidates"] else None
        if best is None or best["confidence"] < 0.5:
            table.add_row(escape(entry["target"]), "[dim]-[/dim]", "", "[dim]no confident source[/dim]")
        else:
            table.add_row(escape(entry["target"]), escape(best["source"]), f"{best['confidence']:.2f}",
                          escape(best["reason"]))
    console.print(table)


@mapping_app.command("schema")
def mapping_schema(system: str = typer.Argument(..., help="prestashop or ax"),
                   entity: str = typer.Argument(..., help="A PrestaShop resource (orders) or an AX document "
                                                "service (SalesOrderService) or entity (SalesTable)."),
                   output: Path | None = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
                   samples: int = typer.Option(5, "--samples", min=0, max=50,
                                               help="Records read from the configured shop for sample values "
                                               "(0: none; the shop only)."),
                   config: Path | None = ConfigOpt) -> None:
    """Write the schema file of a PrestaShop resource or an AX document, for `mapping suggest`.

    With the shop configured (``systems.prestashop``), sample values come from its most recent
    records: the suggestions are better with them. AX documents are written without samples."""
    from pipelines.ai.suggest import ax_schema, prestashop_schema

    if system not in ("prestashop", "ax"):
        err.print("[red]The system must be prestashop or ax.[/red]")
        raise typer.Exit(2)
    try:
        schema = prestashop_schema(entity) if system == "prestashop" else ax_schema(entity)
    except ValueError as exc:
        err.print(f"[red]{escape(str(exc))}[/red]")
        raise typer.Exit(2) from None
    if system == "prestashop" and samples:
        schema = _shop_samples(schema, entity, samples, config)
    text = json.dumps(schema.to_dict(), ensure_ascii=False, indent=1)
    if output is None:
        typer.echo(text)
    else:
        output.write_text(text + "\n", encoding="utf-8")
        console.print(f"[green]✓[/green] {len(schema.fields)} fields written to {escape(str(output))}")


def _shop_samples(schema: Any, resource: str, n: int, config: Path | None) -> Any:
    """The schema with sample values from the configured shop's latest records (unchanged, with a
    note on stderr, when no shop is configured or it cannot be read)."""
    import asyncio

    from connectors.errors import BridgeError
    from connectors.prestashop import Client
    from pipelines.ai.suggest.schema import with_samples
    from runtime.cli_common import load as _settings

    try:
        shop = _settings(config).systems.prestashop
    except Exception:  # noqa: BLE001 - no configuration: a schema without samples is still useful
        shop = None
    if shop is None:
        err.print("No shop configured (systems.prestashop): the schema has no sample values.")
        return schema

    async def read() -> list[Any]:
        async with Client(shop) as client:
            return list(await client.list(resource, display="full", sort="id_DESC", limit=n))

    try:
        records = asyncio.run(read())
    except BridgeError as exc:
        err.print(f"The shop could not be read ({escape(exc.message)}): the schema has no sample values.")
        return schema
    return with_samples(schema, [dict(r) for r in records])


@guard_app.command("score")
def guard_score(input_: Path = typer.Option(..., "--input", help="Events, one JSON object per line ('-': stdin)."),
                fmt: str = typer.Option("json", "--format", help="json (one JSON line per event)."),
                currencies: str | None = typer.Option(None, "--currencies",
                                                      help="The shop's currencies, e.g. EUR,USD (default: learned "
                                                      "from the stream)."),
                thresholds: str | None = typer.Option(None, "--thresholds",
                                                      help="JSON object of thresholds, e.g. '{\"total_factor\": 10}'.")) -> None:
    """Score a stream of events in order, each against the earlier ones only."""
    from pipelines.ai.guard import Scorer, Thresholds, check_event

    if fmt != "json":
        err.print("[red]--format must be json.[/red]")
        raise typer.Exit(2)
    try:
        t = Thresholds.from_dict(json.loads(thresholds) if thresholds else None)
    except (ValueError, TypeError, AttributeError) as exc:
        err.print(f"[red]--thresholds: {escape(str(exc))}.[/red]")
        raise typer.Exit(2) from None
    codes = [c.strip().upper() for c in currencies.split(",") if c.strip()] if currencies else None
    scorer = Scorer(t, currencies=codes)
    states: dict[str, Any] = {}
    try:
        stream = sys.stdin if str(input_) == "-" else input_.open(encoding="utf-8")
    except OSError as exc:
        err.print(f"[red]Cannot read {escape(str(input_))}: {escape(exc.strerror or str(exc))}.[/red]")
        raise typer.Exit(2) from None
    out = sys.stdout
    with stream:
        for n, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                event = check_event(json.loads(line), n)
            except json.JSONDecodeError as exc:
                err.print(f"[red]line {n}: not valid JSON ({escape(exc.msg)}).[/red]")
                raise typer.Exit(2) from None
            except ValueError as exc:
                err.print(f"[red]{escape(str(exc))}[/red]")
                raise typer.Exit(2) from None
            out.write(json.dumps(scorer.run(event, states).to_dict(event.get("id")), ensure_ascii=False) + "\n")


def _api(config: Path | None, url: str | None, token: str | None) -> Any:
    from runtime.cli_ops import _Api

    return _Api(config, url, token)


@review_app.command("list")
def review_list(status: str = typer.Option("pending", "--status", help="pending, released or rejected."),
                entity: str | None = typer.Option(None, "--entity", help="Only this entity (order, price, stock...)."),
                limit: int = typer.Option(50, "--limit", min=1, max=1000, help="At most this many (1-1000)."),
                as_json: bool = typer.Option(False, "--json", help="Print the items as JSON."),
                config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Held records waiting for a decision (oldest first), or the decided ones."""
    params: dict[str, Any] = {"status": status, "limit": limit, **({"entity": entity} if entity else {})}
    items = _api(config, url, token)("GET", "/api/v1/review", params=params)["items"]
    if as_json:
        typer.echo(json.dumps(items, indent=2, ensure_ascii=False))
        return
    for it in items:
        score = f"  score {it['score']:.2f}" if it.get("score") is not None else ""
        console.print(f"[bold]{it['id']}[/bold]  {escape(it['entity'])} {escape(it['key'])}  {it['status']}  "
                      f"{_when(it['created_at'])}  flow={escape(it.get('flow') or '-')}:{escape(it.get('step') or '-')}{score}")
        console.print(f"  {escape(it.get('reason') or '')}")
        if it.get("decision"):
            console.print(f"  decision: {escape(it['decision'])}")
    console.print(f"{len(items)} item(s).")


@review_app.command("show")
def review_show(review_id: str = typer.Argument(..., help="Review id (from `review list`)."),
                config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """One item with the record as the guard saw it (personal data masked)."""
    typer.echo(json.dumps(_api(config, url, token)("GET", f"/api/v1/review/{review_id}"), indent=2, ensure_ascii=False))


def _edits(values: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in values or []:
        path, sep, raw = item.partition("=")
        if not sep or not path.strip():
            err.print(f"[red]--set takes path=value (got {escape(item[:60])!r}).[/red]")
            raise typer.Exit(2)
        try:
            out[path.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            out[path.strip()] = raw  # plain text
    return out


@review_app.command("release")
def review_release(review_id: str = typer.Argument(..., help="Review id (from `review list`)."),
                   set_: list[str] = typer.Option(None, "--set", help="Edit before releasing: path=value "
                                                  "(JSON or text), repeatable, e.g. --set price=49.90."),
                   by: str | None = typer.Option(None, "--by", help="Who decides (shown in the timeline)."),
                   config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Release a held record: its flow continues from the guard (with the edits, if any)."""
    body: dict[str, Any] = {"edit": _edits(set_)} if set_ else {}
    if by:
        body["by"] = by
    r = _api(config, url, token)("POST", f"/api/v1/review/{review_id}/release", json=body)
    console.print(f"[green]✓[/green] released {r['id']} ({escape(r['entity'])} {escape(r['key'])}); message "
                  f"{r['message_id']} continues its flow.")


@review_app.command("reject")
def review_reject(review_id: str = typer.Argument(..., help="Review id (from `review list`)."),
                  reason: str = typer.Option(..., "--reason", help="Why (kept in the message's timeline)."),
                  by: str | None = typer.Option(None, "--by", help="Who decides (shown in the timeline)."),
                  config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Reject a held record: its message ends, rejected, with the reason."""
    r = _api(config, url, token)("POST", f"/api/v1/review/{review_id}/reject",
                                 json={"reason": reason, **({"by": by} if by else {})})
    console.print(f"[green]✓[/green] rejected {r['id']} ({escape(r['entity'])} {escape(r['key'])}).")
