"""Lint checks of what a mapping rule refers to: source paths (against the source field tables,
with did-you-mean suggestions), parameters and time zones, and divisions by a field that may
be missing. Used by :mod:`pipelines.lint_mapping` and :mod:`pipelines.lint`.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from difflib import get_close_matches
from zoneinfo import ZoneInfo

from pipelines.expressions import ParsedExpression, field_path
from pipelines.specs import MappingSpec
from pipelines.targets import EntitySchema, FieldInfo

__all__ = ["Report", "divisions_by_field", "missing_divisor_warning", "zone_problem"]

_DIVISIONS = (ast.Div, ast.FloorDiv, ast.Mod)
# functions that give null for a null argument: dividing by `num(x)` is dividing by `x`
_NULL_PRESERVING = frozenset({"num", "decimal", "int", "round", "abs"})

Report = Callable[[tuple[str | int, ...], str, str], None]  # (yaml path, message, severity)


def _suggest(name: str, names: Iterable[str]) -> str:
    close = get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f" — did you mean '{close[0]}'?" if close else ""


class _Scope:
    """What bare names, ``parent.`` and ``root.`` resolve against inside a (child) mapping."""

    def __init__(self, schema: EntitySchema | None, parent: _Scope | None, root: EntitySchema | None) -> None:
        self.schema = schema
        self.parent = parent
        self.root = root


def _check_source_path(
    scope: _Scope,
    root: str,
    path: tuple[str | int, ...],
    where: tuple[str | int, ...],
    spec: MappingSpec,
    report: Report,
) -> FieldInfo | None:
    """Report an unknown source path; return the source field it names, when known."""
    if root == "params":
        key = path[0] if path else None
        if isinstance(key, str) and key not in spec.params:
            report(where, f"unknown parameter 'params.{key}'{_suggest(key, spec.params)}", "error")
        return None
    if root in ("context", "line_number", "out"):
        return None  # supplied by the runtime, or target fields mapped above
    schema = (
        scope.schema
        if root == "src"
        else (scope.root if root == "root" else (scope.parent.schema if scope.parent else None))
    )
    if schema is None or not path:
        return None
    node: EntitySchema = schema
    for i, key in enumerate(path):
        if isinstance(key, int):
            continue
        if key in node.fields:
            if i < len(path) - 1 and not node.fields[key].lang:
                rest = ".".join(str(p) for p in path[i + 1 :])
                report(where, f"source field '{key}' of {node.name} is a value and has no '{rest}'", "error")
                return None
            return node.fields[key]
        sub = node.child(key)
        if sub is None:
            if not node.open:
                shown = ".".join(str(p) for p in path[: i + 1])
                report(
                    where,
                    f"unknown source field '{shown}' in {node.name}{_suggest(key, node.names())}",
                    "error",
                )
            return None
        node = sub
    return None


def zone_problem(value: str, spec: MappingSpec) -> str | None:
    """Why a ``from_tz``/``to_tz`` setting cannot be used (unknown parameter or time zone), or
    None. ``params.x`` is resolved against the mapping's parameters, as the compiler does."""
    name = value
    if value.startswith("params."):
        key = value[7:]
        if key not in spec.params:
            return f"unknown parameter '{value}'{_suggest(key, spec.params)}"
        name = str(spec.params[key])
    if name.upper() == "UTC":
        return None
    try:
        ZoneInfo(name)
    except (ValueError, KeyError):  # ZoneInfoNotFoundError is a KeyError
        return f"unknown time zone {name!r} (use an IANA name such as 'Europe/Paris', or 'UTC')"
    return None


def divisions_by_field(parsed: ParsedExpression) -> list[tuple[str, str, tuple[str | int, ...]]]:
    """``(division as written, root, path)`` for each division or modulo whose divisor reads a
    field (directly or through ``num``/``decimal``/``int``/``round``/``abs``). A divisor such as
    ``max(x, 1)`` or ``coalesce(x, 1)`` is never null and is not listed."""
    found: list[tuple[str, str, tuple[str | int, ...]]] = []
    for node in ast.walk(parsed.tree):
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, _DIVISIONS)):
            continue
        divisor = node.right
        while (
            isinstance(divisor, ast.Call)
            and isinstance(divisor.func, ast.Name)
            and divisor.func.id in _NULL_PRESERVING
            and divisor.args
        ):
            divisor = divisor.args[0]
        ref = field_path(divisor)
        if ref is not None and ref[0] not in ("params", "line_number"):
            found.append((ast.unparse(node), *ref))
    return found


def missing_divisor_warning(
    division: str, root: str, path: tuple[str | int, ...], schema: EntitySchema | None, where: str
) -> str | None:
    """The warning for dividing by ``root.path`` when that field may be missing, or None when
    ``schema`` (what the path is read from, ``where`` names it) says it is always present
    (a required field). Context facts and fields of unknown records may always be missing."""
    shown = ".".join(str(p) for p in ((root, *path) if root != "src" else path))
    if root == "context":
        why = "context facts are present only when the runtime supplies them"
    else:
        found = schema.resolve(path) if schema is not None and path else None
        if isinstance(found, FieldInfo):
            if found.required:
                return None
            why = f"it is not a required field of {where}"
        else:
            why = f"the fields of {where} are not known here"
    return (
        f"{division!r} divides by '{shown}', which may be missing ({why}): a record without it "
        f"fails with '{shown} is null'; test it first ({shown} != null and ...) or give a "
        f"default (coalesce({shown}, 1))"
    )
