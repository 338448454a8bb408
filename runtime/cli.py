"""``presta-ax``: the one entry point. ``presta-ax --help`` lists every command.

Operator commands (``status``, ``messages``, ``dlq``) talk to a running server's admin API; the
token comes from ``--token``, ``PRESTA_AX_ADMIN_TOKEN``, the config, or ``<data_dir>/admin-token``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from connectors.errors import ConfigError
from runtime import __version__
from runtime.cli_common import ConfigOpt, TokenOpt, UrlOpt, console, err
from runtime.cli_common import load as _settings
from runtime.cli_common import when as _when
from runtime.cli_serve import register as _register_run

app = typer.Typer(help="Presta-AX Bridge: PrestaShop <-> Dynamics AX 2012 integration server on Ray.",
                  no_args_is_help=True, add_completion=False)
messages_app = typer.Typer(help="Inspect messages in the journal.", no_args_is_help=True)
dlq_app = typer.Typer(help="The dead-letter queue: list, replay, discard.", no_args_is_help=True)
sandbox_app = typer.Typer(help="Run an emulated PrestaShop or AX for demos and tests.", no_args_is_help=True)
ax_app = typer.Typer(help="Dynamics AX 2012 (AIF) checks.", no_args_is_help=True)
app.add_typer(ax_app, name="ax")
app.add_typer(messages_app, name="messages")
app.add_typer(dlq_app, name="dlq")
app.add_typer(sandbox_app, name="sandbox")
_register_run(app)


class _Api:
    def __init__(self, config: Path | None, url: str | None, token: str | None) -> None:
        import httpx

        settings = _settings(config)
        host = settings.server.host if settings.server.host not in ("0.0.0.0", "::") else "127.0.0.1"
        self.base = (url or f"http://{host}:{settings.server.port}").rstrip("/")
        if token is None:
            if settings.server.admin_token is not None:
                token = settings.server.admin_token.get_secret_value()
            else:
                path = Path(settings.data_dir) / "admin-token"
                token = path.read_text().strip() if path.exists() else None
        if not token:
            err.print("[red]No admin token: pass --token or set PRESTA_AX_ADMIN_TOKEN.[/red]")
            raise typer.Exit(2)
        self.client = httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=15)

    def __call__(self, method: str, path: str, **kw: Any) -> Any:
        import httpx

        try:
            r = self.client.request(method, path, **kw)
        except httpx.HTTPError:
            err.print(f"[red]Cannot reach the bridge at {self.base}: is `presta-ax serve` running?[/red]")
            raise typer.Exit(1) from None
        if r.status_code >= 400:
            try:
                detail = r.json().get("detail", r.text)
            except ValueError:
                detail = r.text
            err.print(f"[red]{r.status_code}: {detail}[/red]")
            raise typer.Exit(1)
        return r.json()


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"presta-ax-bridge {__version__}")



@app.command()
def lint(files: list[Path] = typer.Argument(None, help="integration.yaml and/or flow and mapping files")) -> None:
    """Check configuration, flow and mapping files; print every problem with where and why."""
    from runtime.config import lint_config

    problems: list[str] = []
    targets = files or [Path("integration.yaml")]
    flow_files = []
    for f in targets:
        if not f.exists():
            problems.append(f"{f}: file not found")
        elif f.is_dir() or f.name not in ("integration.yaml", "integration.yml") and _looks_like_flow(f):
            flow_files.append(f)
        else:
            problems.extend(f"{f}: {p}" if not p.startswith(str(f)) else p for p in lint_config(f))
    warnings: list[str] = []
    if flow_files:
        errors, warnings = _lint_flows(flow_files)
        problems.extend(errors)
    for p in problems:
        console.print(f"[red]✗[/red] {p}")
    for w in warnings:
        console.print(f"[yellow]![/yellow] {w}")
    if problems:
        console.print(f"{len(problems)} problem(s).")
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] {len(targets)} file(s) OK" + (f", {len(warnings)} warning(s)." if warnings else "."))


def _looks_like_flow(f: Path) -> bool:
    """A flow file has a top-level ``flow:`` key, a mapping file ``mapping:``; anything else is
    taken for a configuration file."""
    try:
        head = f.read_text(encoding="utf-8")[:20000]
    except OSError:
        return False
    return any(line.startswith(("flow:", "mapping:")) for line in head.splitlines())


def _lint_flows(paths: list[Path]) -> tuple[list[str], list[str]]:
    """(errors, warnings) of flow and mapping files, each formatted with file, line and path."""
    from pipelines.cli import lint_command_problems

    found = lint_command_problems(paths)
    return ([p.format() for p in found if p.severity == "error"],
            [p.format() for p in found if p.severity != "error"])


@app.command()
def status(config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Message counts by status, per entity."""
    health = _Api(config, url, token)("GET", "/api/v1/health")
    from runtime.messages import STATUSES as statuses

    table = Table("entity", *statuses, title=f"Presta-AX Bridge {health['version']}")
    for entity, counts in sorted(health["counts"].items()):
        table.add_row(entity, *(str(counts.get(s, 0)) for s in statuses))
    console.print(table)


def _message_table(items: list[dict[str, Any]], title: str) -> Table:
    table = Table("id", "entity", "key", "event", "status", "attempts", "received", "error", title=title)
    for m in items:
        error = (m.get("last_error") or {}).get("message", "")
        table.add_row(m["id"], m["entity"], m["key"], m["event"], m["status"], str(m["attempts"]),
                      _when(m["received_at"]), error[:60])
    return table


@messages_app.command("list")
def messages_list(
    status_: str | None = typer.Option(None, "--status"), entity: str | None = typer.Option(None),
    key: str | None = typer.Option(None), trace_id: str | None = typer.Option(None),
    limit: int = typer.Option(50), as_json: bool = typer.Option(False, "--json"),
    config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt,
) -> None:
    """List messages, newest first, filtered by status, entity, key or trace id."""
    params = {k: v for k, v in {"status": status_, "entity": entity, "key": key, "trace_id": trace_id,
                                "limit": limit}.items() if v is not None}
    items = _Api(config, url, token)("GET", "/api/v1/messages", params=params)["items"]
    console.print_json(json.dumps(items)) if as_json else console.print(_message_table(items, "Messages"))


@messages_app.command("show")
def messages_show(message_id: str, config: Path | None = ConfigOpt, url: str | None = UrlOpt,
                  token: str | None = TokenOpt) -> None:
    """One message with its full timeline of attempts and errors."""
    m = _Api(config, url, token)("GET", f"/api/v1/messages/{message_id}")
    console.print(f"[bold]{m['id']}[/bold]  {m['entity']} {m['key']}  {m['event']}  status={m['status']} "
                  f"attempts={m['attempts']}  trace={m.get('trace_id') or '-'}")
    for e in m["timeline"]:
        detail = e.get("detail") or {}
        text = detail.get("message") or detail.get("reason") or ""
        console.print(f"  {_when(e['at'])}  {e['kind']:<18} {e.get('attempt') or '':<3} {text}")


@dlq_app.command("list")
def dlq_list(entity: str | None = typer.Option(None), config: Path | None = ConfigOpt,
             url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Messages in the dead-letter queue, with their reasons."""
    params = {"entity": entity} if entity else {}
    items = _Api(config, url, token)("GET", "/api/v1/dlq", params=params)["items"]
    console.print(_message_table(items, "Dead-letter queue"))


@dlq_app.command("replay")
def dlq_replay(ids: list[str] = typer.Argument(None), all_: bool = typer.Option(False, "--all"),
               entity: str | None = typer.Option(None), config: Path | None = ConfigOpt,
               url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Replay dead messages (by id, or --all) with the flow version deployed now."""
    if not ids and not all_:
        err.print("[red]Give message ids or --all.[/red]")
        raise typer.Exit(2)
    body = {"all": True, "entity": entity} if all_ else {"ids": ids}
    r = _Api(config, url, token)("POST", "/api/v1/dlq/replay", json=body)
    console.print(f"replayed {len(r['replayed'])}, skipped {len(r['skipped'])} (not in the dead-letter queue)")


@dlq_app.command("discard")
def dlq_discard(ids: list[str] = typer.Argument(None), all_: bool = typer.Option(False, "--all"),
                reason: str | None = typer.Option(None), config: Path | None = ConfigOpt,
                url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Discard dead messages (kept in the journal as 'discarded')."""
    if not ids and not all_:
        err.print("[red]Give message ids or --all.[/red]")
        raise typer.Exit(2)
    body: dict[str, Any] = {"all": True} if all_ else {"ids": ids}
    if reason:
        body["reason"] = reason
    r = _Api(config, url, token)("POST", "/api/v1/dlq/discard", json=body)
    console.print(f"discarded {len(r['discarded'])}, skipped {len(r['skipped'])}")


@ax_app.command("check")
def ax_check(config: Path | None = ConfigOpt) -> None:
    """Call the configured AX port: WSDL reachable, every needed operation exposed, one real call."""
    import asyncio

    from connectors.dynamics_ax import check_port

    settings = _settings(config)
    if settings.systems.ax is None:
        err.print("[red]systems.ax is not configured in the configuration file.[/red]")
        raise typer.Exit(2)
    report = asyncio.run(check_port(settings.systems.ax))
    for k in ("endpoint", "company", "call"):
        console.print(f"  {k:<10} {report.get(k)}")
    if report.get("missing"):
        console.print(f"[red]  missing operations: {', '.join(report['missing'])}[/red]")
    if report.get("error"):
        console.print(f"[red]  error: {report['error']}[/red]")
    if report.get("error") or report.get("missing"):
        raise typer.Exit(1)
    console.print(f"[green]✓[/green] AX port OK ({len(report.get('operations') or [])} operations)")


def flow_deploy(name: str = typer.Argument(..., help="Flow name (see `presta-ax flow list`)"),
                config: Path | None = ConfigOpt) -> None:
    """Lint the flow (and its mappings); if clean, record its content version as deployed."""
    from pipelines.lint import lint_flow
    from pipelines.registry import FlowRegistry
    from runtime.store import Store

    settings = _settings(config)
    try:
        flow = FlowRegistry(list(settings.flow_dirs)).get(name)
    except ConfigError as exc:
        err.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    problems = [p for p in lint_flow(flow) if p.severity == "error"]  # the flow and every mapping it uses
    for p in problems:
        console.print(f"[red]✗[/red] {p.format()}")
    if problems:
        console.print(f"Not deployed: {len(problems)} problem(s).")
        raise typer.Exit(1)
    Path(settings.data_dir).mkdir(parents=True, exist_ok=True)
    store = Store(settings.store_url())
    try:
        new = store.record_flow_version(flow.name, flow.version_id, json.dumps(flow.record()))
    finally:
        store.close()
    state = "deployed" if new else "already deployed"
    console.print(f"[green]✓[/green] {flow.name} {flow.version_id} {state}")


def _register_optional() -> None:
    """Commands that live with the connectors and pipelines (absent pieces are simply not listed)."""
    try:
        from connectors.prestashop.sandbox.cli import command as ps_sandbox

        sandbox_app.command("prestashop", help="Run the emulated PrestaShop 8.2 webservice.")(ps_sandbox)
    except ImportError:
        pass
    try:
        from connectors.dynamics_ax.sandbox.cli import command as ax_sandbox
        from connectors.dynamics_ax.sandbox.cli import step_command as ax_step

        sandbox_app.command("ax", help="Run the emulated Dynamics AX 2012 AIF services.")(ax_sandbox)
        sandbox_app.command("ax-step", help="Advance the AX sandbox's fulfilment (pick, pack, invoice).")(ax_step)
    except ImportError:
        pass
    try:
        from connectors.prestashop.cli import prestashop_app

        app.add_typer(prestashop_app, name="prestashop", help="Talk to a PrestaShop webservice: ping, get, list, poll.")
    except ImportError:
        pass
    try:
        from pipelines.cli import flow_app

        flow_app.command("deploy", help="Lint a flow and record its version as deployed in the store.")(flow_deploy)
        app.add_typer(flow_app, name="flow", help="Flows: list, lint, test-run on a sample, deploy.")
    except ImportError:
        pass


_register_optional()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
