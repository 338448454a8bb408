"""``presta-ax flow ...`` commands (the runtime's CLI mounts :data:`flow_app` as ``flow``).

* ``flow list [--dir DIR]`` — the flows found (user directories first, then the defaults),
  with their content version, one block per flow (readable at 80 columns);
* ``flow test FLOW --input sample.json`` — run the flow's map/validate/guard steps on a sample
  without touching any system and print each step's output (sensitive fields masked unless
  ``--unmasked``); exit code 1 when a step fails;
* ``flow lint [PATHS...]`` — lint flow and mapping files (the defaults when no path is given).

:func:`lint_command_problems` is what ``presta-ax lint`` calls for flow and mapping files;
:func:`lintable_files` and :func:`lint_summary` give both lint commands the same count and last line.

Output that is not a terminal is never hard-wrapped (a log keeps whole lines).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.syntax import Syntax

from connectors.errors import ConfigError
from pipelines.lint import Problem, lint_paths, yaml_files
from pipelines.registry import DEFAULT_FLOWS_DIR, FlowRegistry, load_flow_bundle
from pipelines.testrun import load_sample, run_flow_test, sample_path

__all__ = ["flow_app", "lint_command_problems", "lint_summary", "lintable_files"]

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


def _is_flow_or_mapping(file: Path) -> bool:
    """A flow file has a top-level ``flow:`` key, a mapping file ``mapping:``."""
    try:
        head = file.read_text(encoding="utf-8")[:20000]
    except (OSError, UnicodeDecodeError):
        return False
    return any(line.startswith(("flow:", "mapping:")) for line in head.splitlines())


def lintable_files(paths: list[Path], problems: Sequence[Problem] = ()) -> list[Path]:
    """The files lint checked under ``paths`` (the default flows when empty): the flow and
    mapping files, plus any file that has a problem (a YAML file too broken to tell)."""
    found = yaml_files(list(paths) or [DEFAULT_FLOWS_DIR])
    with_problems = {p.file for p in problems}
    return [f for f in found if str(f) in with_problems or _is_flow_or_mapping(f)]


def lint_summary(files: int, problems: list[Problem]) -> str:
    """The last line of every lint command: how many files, errors and warnings."""
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    if not problems:
        return f"{files} file(s) linted: no problems."
    return f"{files} file(s) linted: {errors} error(s), {warnings} warning(s)."


def _console() -> Console:
    # a pipe or a log file gets whole lines; a terminal gets wrapped ones
    return Console(soft_wrap=not sys.stdout.isatty())


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
        Path | None,
        typer.Option(
            "--input",
            "-i",
            help="Sample record (JSON): the record, or {record, context, message}. "
            "Default: the sample shipped with the flow (samples/FLOW.json beside it).",
        ),
    ] = None,
    dirs: Annotated[
        list[Path] | None, typer.Option("--dir", help="Extra flow directory (searched first).")
    ] = None,
    unmasked: Annotated[bool, typer.Option(help="Show sensitive fields in clear.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Test-run FLOW on a sample: map, validate and guard steps run, nothing is sent anywhere."""
    console = _console()
    try:
        target = _resolve_flow(flow, list(dirs or []))
        if input is None:
            loaded = load_flow_bundle(target, list(dirs or [])) if isinstance(target, Path) else target
            input = sample_path(loaded)
            if input is None:
                raise ConfigError(f"No --input given, and flow {loaded.name} ships no sample "
                                  f"(samples/{loaded.name}.json beside the flow file).")
            if not as_json:  # keep --json output one JSON document
                console.print(f"[dim]Sample: {escape(str(input))}[/dim]")
        sample = load_sample(input)
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
    """List the flows: name, entity, content version, file, triggers and steps (one block each)."""
    console = _console()
    try:
        flows = FlowRegistry(list(dirs or [])).flows()
    except ConfigError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from None
    # one block per flow rather than a table: at 80 columns a six-column table cut the names and
    # spread each flow's steps over many lines
    for name, f in sorted(flows.items()):
        triggers = ", ".join(
            f"{t.type}:{t.event or t.resource or t.service or t.cron or ''}" for t in f.spec.triggers
        )
        steps = [s.id for s in f.spec.steps]
        console.print(f"[bold]{escape(name)}[/bold]  {escape(f.spec.entity)}  {f.version_id}  "
                      f"{escape(Path(f.spec.file).name)}")
        console.print(f"  triggers: {escape(triggers or '-')}")
        console.print(f"  steps ({len(steps)}): {escape(' > '.join(steps))}")
    console.print(f"{len(flows)} flow(s).")


@flow_app.command("lint")
def lint_command(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders.")] = None,
) -> None:
    """Lint flow and mapping files; exit code 1 when there is an error."""
    problems = lint_command_problems(list(paths or []))
    for p in problems:
        typer.echo(p.format())
    typer.echo(lint_summary(len(lintable_files(list(paths or []), problems)), problems))
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)
