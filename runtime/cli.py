"""``presta-ax``: the one entry point. ``presta-ax --help`` lists every command.

Commands live with their role: :mod:`runtime.cli_serve` (serve, demo, demo-order),
:mod:`runtime.cli_ops` (status, messages, dlq), :mod:`runtime.cli_lint` (lint); flows, the
PrestaShop client and the sandboxes bring their own sub-applications. :func:`main` runs it all
behind one handler of expected failures (:func:`runtime.cli_common.run_cli`): one line on stderr
and a non-zero exit code instead of a traceback; ``presta-ax --debug ...`` shows the traceback.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import typer

from connectors.errors import ConfigError
from runtime import __version__
from runtime.cli_ai import register as _register_ai
from runtime.cli_common import ConfigOpt, HelpGroup, TokenOpt, UrlOpt, console, err, run_cli, state
from runtime.cli_common import load as _settings
from runtime.cli_lint import lint
from runtime.cli_ops import register as _register_ops
from runtime.cli_serve import register as _register_run
from runtime.cli_sync import register as _register_sync
from runtime.cli_trace import register as _register_trace

app = typer.Typer(help="Presta-AX Bridge: PrestaShop <-> Dynamics AX 2012 integration server on Ray.",
                  no_args_is_help=True, add_completion=False, cls=HelpGroup,
                  # plain help: Rich markup would eat bracketed examples such as [id,email]
                  rich_markup_mode=None, pretty_exceptions_show_locals=False)
sandbox_app = typer.Typer(help="Run an emulated PrestaShop or AX for demos and tests.", no_args_is_help=True)
ax_app = typer.Typer(help="Dynamics AX 2012 (AIF) checks.", no_args_is_help=True)
_register_run(app)
app.command()(lint)
_register_ops(app)
_register_ai(app)  # mapping suggest|schema, guard score, review
_register_sync(app)
_register_trace(app)
app.add_typer(ax_app, name="ax")
app.add_typer(sandbox_app, name="sandbox")


@app.callback()
def _root(debug: bool = typer.Option(False, "--debug", help="Show the full traceback of a failure.")) -> None:
    """Presta-AX Bridge: PrestaShop <-> Dynamics AX 2012 integration server on Ray."""
    state.debug = debug


@app.command()
def version() -> None:
    """Print the version."""
    console.print(f"presta-ax-bridge {__version__}")


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


def _running_bridge_store(settings: Any) -> str | None:
    """The store URL of a bridge that runs now on this configuration, found by its live
    dispatcher lease: the demo's own journal (``<data_dir>/demo/journal.db``) first, then the
    configured store; None when no bridge holds either."""
    from runtime.demo import demo_store_url
    from runtime.dispatch_lease import DISPATCHER_LEASE, is_live
    from runtime.store import Store

    candidates = []
    if (Path(settings.data_dir) / "demo" / "journal.db").exists():
        candidates.append(demo_store_url(Path(settings.data_dir)))
    url = settings.store_url()
    if not url.startswith("sqlite:///") or Path(url.removeprefix("sqlite:///").partition("?")[0]).exists():
        candidates.append(url)
    for candidate in candidates:
        store = Store(candidate)
        try:
            lease = store.get_lease(DISPATCHER_LEASE)
        finally:
            store.close()
        if lease is not None and is_live(lease):
            return candidate
    return None


def flow_deploy(name: str = typer.Argument(..., help="Flow name (see `presta-ax flow list`)"),
                local: bool = typer.Option(False, "--local", help="Record the version in the configured store "
                                           "directly, even while a bridge runs."),
                config: Path | None = ConfigOpt, url: str | None = UrlOpt, token: str | None = TokenOpt) -> None:
    """Lint the flow (and its mappings); if clean, record its content version as deployed.

    While a bridge runs (``serve`` or ``demo``: found by its live dispatcher lease, or ``--url``),
    the deploy goes through that bridge's admin API (``POST /api/v1/flows/NAME/deploy``): the
    bridge lints its own flow folders and records the version in the journal it runs on (the
    demo's own, too); its entity actors run it from their next message. Otherwise the version is
    recorded in the configured store, where the actors pick it up when they start."""
    from pipelines.lint import lint_flow
    from pipelines.registry import FlowRegistry
    from runtime.store import Store

    settings = _settings(config)
    running = None if local else (url or _running_bridge_store(settings))
    if running is not None:
        from runtime.cli_ops import _Api

        r = _Api(config, url, token)("POST", f"/api/v1/flows/{name}/deploy")
        console.print(f"[green]✓[/green] {r['name']} {r['version_id']} {r['status']} (through the running bridge)")
        return
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


def main(argv: Sequence[str] | None = None) -> None:
    """The ``presta-ax`` program (see the module docstring); ``argv`` defaults to ``sys.argv``."""
    run_cli(app, argv)


if __name__ == "__main__":
    main()
