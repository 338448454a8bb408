"""``presta-ax lint``: configuration, flow and mapping files, one format for every problem.

Each problem is one line ``file:line: path: message`` (``file:line: warning: path: message`` for a
warning), then one summary line with the true number of files linted. With no argument it lints
the configuration file when there is one (``--config``, ``PRESTA_AX_CONFIG``, or
``./integration.yaml``); the file is optional, so with none there is nothing to lint (exit 0).
Exit code 1 when there is an error.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from runtime.cli_common import console

__all__ = ["lint"]


def _is_config(f: Path) -> bool:
    from pipelines.cli import lintable_files

    return f.name in ("integration.yaml", "integration.yml") or not lintable_files([f])


def lint(files: list[Path] = typer.Argument(
        None, help="Configuration, flow or mapping files, or folders of flows (default: the configuration file).")
) -> None:
    """Check configuration, flow and mapping files; print every problem as file:line: path: message."""
    from pipelines.cli import lint_command_problems, lint_summary, lintable_files
    from pipelines.lint import Problem
    from runtime.config import lint_config

    targets = list(files or [])
    if not targets:
        default = Path(os.environ.get("PRESTA_AX_CONFIG") or "integration.yaml")
        if not default.exists():
            console.print(f"Nothing to lint: no {default} here (it is optional: the defaults apply). "
                          "Give files or folders to lint, e.g. presta-ax lint my-flows/")
            return
        targets = [default]
    problems: list[Problem] = []
    linted = 0
    flow_targets: list[Path] = []
    for f in targets:
        if not f.exists():
            problems.append(Problem(str(f), 1, "", "file not found"))
        elif f.is_dir() or not _is_config(f):
            flow_targets.append(f)
        else:
            problems.extend(lint_config(f))
            linted += 1
    if flow_targets:
        found = lint_command_problems(flow_targets)
        problems.extend(found)
        linted += len(lintable_files(flow_targets, found))
    for p in problems:
        # plain text: the format is meant for editors and scripts, and must not pass through markup
        typer.echo(p.format())
    console.print(lint_summary(linted, problems), highlight=False)
    if any(p.severity == "error" for p in problems):
        raise typer.Exit(1)
