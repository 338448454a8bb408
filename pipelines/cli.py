"""``presta-ax flow ...`` commands (the runtime's CLI mounts :data:`flow_app` as ``flow``).

* ``flow list [--dir DIR]`` — the flows found (user directories first, then the defaults),
  with their content version;
* ``flow test FLOW --input sample.json`` — run the flow's map/validate/guard steps on a sample
  without touching any system and print each step's output (sensitive fields masked unless
  ``--unmasked``); exit code 1 when a step fails;
* ``flow lint [PATHS...]`` — lint flow and mapping files (the defaults when no path is given).

:func:`lint_command_problems` is what ``presta-ax lint`` calls for flow and mapping files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.syntax import Syntax
from rich.table import Table

from connectors.errors import ConfigError
from pipelines.lint import Problem, lint_paths
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry
from pipelines.testrun import run_flow_test

__all__ = ["flow_app", "lint_command_problems"]

flow_app = typer.Typer(
    help="Flows and mappings: list them, lint them, test-run them on a sample.", no_args_is_help=True
)

_STATUS_STYLE = {
    "ok": "green",
    "skipped": "dim",
    "failed": "bold red",
    "held": "yellow",
    "dropped": "yellow",
    "not_reached": "dim",
}


def lint_command_problems(paths: list[Path]) -> list[Problem]:
    """Lint problems of the flow and mapping files under ``paths`` (the default flows when
    ``paths`` is empty). Other YAML files are ignored, so the caller may pass a whole folder."""
    return lint_paths(list(paths) or [DEFAULT_FLOWS_DIR])


def _resolve_flow(flow: str, dirs: list[Path]) -> Any:
    path = Path(flow)
    if path.suffix in (".yaml", ".yml"):
        if not path.is_file():
            raise ConfigError(f"The flow file {flow} does not exist.")
        return path
    return FlowRegistry(dirs).get(flow)


@flow_app.command("test")
def test_command(
    flow: Annotated[str, typer.Argument(help="Flow name or path of a flow file.")],
    input: Annotated[
        Path,
        typer.Option(
            "--input", "-i", help="Sample record (JSON): the record, or {record, context, message}."
        ),
    ],
    dirs: Annotated[
        list[Path] | None, typer.Option("--dir", help="Extra flow directory (searched first).")
    ] = None,
    unmasked: Annotated[bool, typer.Option(help="Show sensitive fields in clear.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Test-run FLOW on a sample: map, validate and guard steps run, nothing is sent anywhere."""
    console = Console()
    try:
        sample = json.loads(input.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        console.print(f"[red]The sample {input} cannot be read as JSON: {exc}[/red]")
        raise typer.Exit(2) from None
    if not isinstance(sample, dict):
        console.print(f"[red]The sample {input} must be a JSON object.[/red]")
        raise typer.Exit(2)
    try:
        target = _resolve_flow(flow, list(dirs or []))
        result = run_flow_test(target, sample, search=list(dirs or []), masked=not unmasked)
    except ConfigError as exc:
        console.print(f"[red]{exc.message}[/red]")
        for p in exc.problems[1:]:
            console.print(f"  {p}")
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print_result(console, result)
    if result["outcome"] == "failed":
        raise typer.Exit(1)


def _print_result(console: Console, result: dict[str, Any]) -> None:
    console.print(f"[bold]Flow {result['flow']}[/bold]  version {result['version_id']}")
    for step in result["steps"]:
        style = _STATUS_STYLE.get(step["status"], "white")
        console.rule(f"[{style}]{step['id']} ({step['kind']}): {step['status']}[/{style}]", align="left")
        if "reason" in step:
            console.print(f"  {step['reason']}", style="dim")
        if "verdict" in step:
            console.print(f"  {step['verdict']['action']}: {step['verdict']['reason']}")
        if "error" in step:
            console.print(f"  {step['error']['message']}", style="red")
            for p in step["error"].get("problems", [])[1:]:
                console.print(f"  - {p['message']}", style="red")
        if "output" in step and step["kind"] == "map":
            console.print(
                Syntax(json.dumps(step["output"], indent=2, ensure_ascii=False), "json", word_wrap=True)
            )
    console.print(f"[bold]Outcome: {result['outcome']}[/bold]")


@flow_app.command("list")
def list_command(
    dirs: Annotated[
        list[Path] | None, typer.Option("--dir", help="Extra flow directory (searched first).")
    ] = None,
) -> None:
    """List the flows: name, content version, entity, triggers and steps."""
    console = Console()
    try:
        flows = FlowRegistry(list(dirs or [])).flows()
    except ConfigError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(2) from None
    table = Table("flow", "version", "entity", "triggers", "steps", "file")
    for name, f in sorted(flows.items()):
        triggers = ", ".join(
            f"{t.type}:{t.event or t.resource or t.service or t.cron or ''}" for t in f.spec.triggers
        )
        steps = " > ".join(s.id for s in f.spec.steps)
        table.add_row(name, f.version_id, f.spec.entity, triggers, steps, Path(f.spec.file).name)
    console.print(table)


@flow_app.command("lint")
def lint_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders.")] = None,
) -> None:
    """Lint flow and mapping files; exit code 1 when there is an error."""
    problems = lint_command_problems(list(paths or []))
    for p in problems:
        typer.echo(p.format())
    errors = sum(1 for p in problems if p.severity == "error")
    typer.echo(f"{errors} error(s), {len(problems) - errors} warning(s)")
    if errors:
        raise typer.Exit(1)
