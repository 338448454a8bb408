"""Lint flow and mapping files: every problem with its file, line and path.

``lint_paths([...])`` takes files or directories (searched for ``*.yaml``/``*.yml``), recognises
flow files (top-level ``flow:``) and mapping files (``mapping:``), ignores other YAML, and
returns a list of :class:`Problem` sorted by file and line. Nothing is raised for a broken
file: a YAML or schema error is a problem like any other.

Flow checks: schema, duplicate step ids, unknown mappings (did-you-mean), inputs that no
earlier step produces, expressions, unreachable steps (a guard that always stops, a ``when``
that is always false, a load whose input is never produced), map outputs never used, and
(warnings) rules that divide by a field that may be missing.
Mapping checks: see :mod:`pipelines.lint_mapping`.
"""

from __future__ import annotations

from dataclasses import dataclass
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from connectors.errors import ConfigError
from pipelines.expressions import ExpressionError, parse_expression
from pipelines.lint_mapping import check_mapping
from pipelines.lint_refs import divisions_by_field, missing_divisor_warning
from pipelines.registry import LoadedFlow, find_mapping_file, mapping_names
from pipelines.specs import FlowSpec, MappingSpec, pydantic_problems
from pipelines.targets import EntitySchema, schema_for
from pipelines.yamlio import LineIndex, format_path, load_yaml

__all__ = ["Problem", "lint_file", "lint_flow", "lint_paths"]

_SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages"})


@dataclass(frozen=True, order=True)
class Problem:
    """One lint finding. ``severity`` is ``error`` (the file must be fixed) or ``warning``."""

    file: str
    line: int
    path: str
    message: str
    severity: str = "error"

    def format(self) -> str:
        """``file:line: path: message`` (``warning:`` marks warnings)."""
        where = f"{self.path}: " if self.path else ""
        tag = "warning: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line}: {tag}{where}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "path": self.path,
            "message": self.message,
            "severity": self.severity,
        }


def yaml_files(paths: list[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out += sorted(
                q
                for q in p.rglob("*")
                if q.suffix in (".yaml", ".yml")
                and q.is_file()
                # hidden folders (.venv, .git) and caches hold no flows
                and not any(
                    part.startswith(".") or part in _SKIP_DIRS for part in q.relative_to(p).parts[:-1]
                )
            )
        else:
            out.append(p)
    return out


def lint_paths(paths: list[Path]) -> list[Problem]:
    """Lint every flow and mapping file under ``paths``; see the module docstring."""
    problems: list[Problem] = []
    for file in yaml_files(paths):
        problems += lint_file(file)
    return sorted(problems)


def lint_flow(flow: LoadedFlow) -> list[Problem]:
    """Problems of a loaded flow's file and of every mapping file it uses, wherever each was
    found (a user folder or the defaults): what must be clean before the flow is deployed."""
    files = [flow.spec.file, *(m.file for m in flow.mappings.values())]
    problems: list[Problem] = []
    for name in dict.fromkeys(files):  # each file once, in order
        if name and name != "<memory>":
            problems += lint_file(Path(name))
    from pipelines.lint_owners import owner_problems

    problems += [Problem(flow.spec.file, line, path, message) for line, path, message in owner_problems(flow)]
    return sorted(problems)


def lint_file(file: Path) -> list[Problem]:
    """Problems of one file (an empty list for YAML that is neither a flow nor a mapping)."""
    name = str(file)
    try:
        data, lines = load_yaml(file)
    except ConfigError as exc:
        return [_from_text(p, name) for p in exc.problems] or [Problem(name, 1, "", str(exc))]
    if not isinstance(data, dict):
        return []
    problems: list[Problem] = []

    def report(path: tuple[str | int, ...], message: str, severity: str = "error") -> None:
        problems.append(Problem(name, lines.line_of(path), format_path(path), message, severity))

    if "mapping" in data:
        spec = _validate(MappingSpec, data, name, lines, problems)
        if spec is not None:
            check_mapping(spec, report)
    elif "flow" in data:
        spec = _validate(FlowSpec, data, name, lines, problems)
        if spec is not None:
            _check_flow(spec, file, report)
    return problems


def _from_text(text: str, file: str) -> Problem:
    # "file:line: message" as produced by the YAML loader
    head, _, rest = text.partition(f"{file}:")
    line_text, _, message = rest.partition(": ")
    return Problem(file, int(line_text) if line_text.isdigit() else 1, "", message or text)


def _validate(model: Any, data: dict[str, Any], file: str, lines: LineIndex, problems: list[Problem]) -> Any:
    try:
        spec = model.model_validate(data)
    except PydanticValidationError as exc:
        for line, path, msg in pydantic_problems(exc, file, lines):
            problems.append(Problem(file, line, path, msg))
        return None
    spec._file = file
    spec._lines = lines
    return spec


def _expression(text: str, where: tuple[str | int, ...], report: Any) -> Any:
    try:
        return parse_expression(text)
    except ExpressionError as exc:
        report(where, f"invalid expression {text!r}: {exc} (at column {exc.column + 1})")
        return None


def _record_schema(spec: FlowSpec) -> tuple[EntitySchema | None, str]:
    """The schema of the extracted record (a PrestaShop ``<resource>.get``), and its name."""
    for step in spec.steps:
        if step.kind == "extract" and step.system == "prestashop" and step.operation:
            resource, _, verb = step.operation.partition(".")
            if verb == "get":
                return schema_for("prestashop", resource), resource
            return None, f"the record of {step.operation}"
        if step.kind == "extract":
            return None, f"the record of {step.operation}"
    return None, "the message payload"


def _check_divisors(
    spec: FlowSpec, text: str, where: tuple[str | int, ...], report: Any, scope: str | None
) -> None:
    """Warn where a step expression divides by a field of its scope that may be missing."""
    try:
        parsed = parse_expression(text)
    except ExpressionError:
        return  # reported by _expression
    if (scope or "record") == "record":
        schema, name = _record_schema(spec)
    else:
        schema, name = None, f"'{scope}'"
    for division, root, path in divisions_by_field(parsed):
        issue = missing_divisor_warning(division, root, path, schema if root == "src" else None, name)
        if issue is not None:
            report(where, issue, "warning")


def _check_flow(spec: FlowSpec, file: Path, report: Any) -> None:
    for i, trig in enumerate(spec.triggers):
        need = {"webhook": "event", "poll": "every", "schedule": "cron"}.get(trig.type)
        if need is not None and getattr(trig, need) is None:
            report(("triggers", i), f"a {trig.type} trigger needs '{need}'")
    seen: dict[str, int] = {}
    produced: dict[str, int] = {}
    used: set[str] = set()
    stopped_at: int | None = None
    has_load = False
    known_mappings: list[str] | None = None
    for i, step in enumerate(spec.steps):
        where: tuple[str | int, ...] = ("steps", i)
        if step.id in seen:
            report((*where, "id"), f"duplicate step id '{step.id}' (first at steps[{seen[step.id]}])")
        seen.setdefault(step.id, i)
        if stopped_at is not None:
            report(
                where,
                f"unreachable step '{step.id}': the guard at steps[{stopped_at}] always stops the record",
            )
        if step.kind == "extract" and i > 0 and any(s.kind != "extract" for s in spec.steps[:i]):
            report(where, "an extract step must come before the steps that use the record")
        if step.when is not None:
            parsed = _expression(step.when, (*where, "when"), report)
            when_scope = "record" if step.kind == "validate" else step.input
            _check_divisors(spec, step.when, (*where, "when"), report, when_scope)
            if parsed is not None and parsed.is_constant and not parsed.constant_value():
                report((*where, "when"), f"unreachable step '{step.id}': its condition is always false")
        for name in ([step.input] if step.input else []) + list(step.inputs):
            head = name.split(".")[0]
            used.add(head)
            if head != "record" and head not in produced:
                later = [s.output for s in spec.steps[i + 1 :] if s.output]
                options = ["record", *produced]
                hint = (
                    f" — did you mean '{get_close_matches(head, options, n=1)[0]}'?"
                    if get_close_matches(head, options, n=1)
                    else ""
                )
                msg = (
                    "is only produced by a later step"
                    if head in later
                    else "is produced by no earlier map step"
                )
                field = "input" if step.input and step.input.split(".")[0] == head else "inputs"
                report((*where, field), f"input '{head}' {msg}{hint}")
        if step.kind == "map" and step.mapping is not None:
            path = find_mapping_file(step.mapping, file)
            if path is None:
                known_mappings = (
                    known_mappings if known_mappings is not None else mapping_names([file.parent])
                )
                close = get_close_matches(step.mapping, known_mappings, n=1)
                hint = f" — did you mean '{close[0]}'?" if close else ""
                report((*where, "mapping"), f"unknown mapping '{step.mapping}'{hint}")
            if step.output:
                produced[step.output] = i
        if step.kind == "guard":
            for j, rule in enumerate(step.guard_rules()):
                parsed = _expression(rule.if_, (*where, "rules", j, "if"), report)
                _check_divisors(spec, rule.if_, (*where, "rules", j, "if"), report, step.input)
                if (
                    parsed is not None
                    and parsed.is_constant
                    and parsed.constant_value()
                    and step.when is None
                ):
                    stopped_at = i
        if step.kind == "validate":
            for j, vrule in enumerate(step.validation_rules()):
                if _expression(vrule.check, (*where, "rules", j, "check"), report) is not None:
                    _check_divisors(
                        spec,
                        vrule.check,
                        (*where, "rules", j, "check"),
                        report,
                        vrule.input or "a validated document",
                    )
                if vrule.input is not None and vrule.input not in step.inputs:
                    report(
                        (*where, "rules", j, "input"),
                        f"rule input '{vrule.input}' is not one of the step's inputs",
                    )
        if step.kind in ("load", "write-back"):
            has_load = True
    for name, i in produced.items():
        if name not in used:
            report(
                ("steps", i, "output"),
                f"the output '{name}' of step '{spec.steps[i].id}' is never used",
                "warning",
            )
    if not has_load:
        report(("steps",), "the flow has no load or write-back step: it changes nothing", "warning")
