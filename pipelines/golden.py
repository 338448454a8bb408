"""Mapping test cases as data: ``<mapping>/<case>.input.json`` next to ``.expected.json``.

An input file is the source record, or ``{"record": ..., "context": ..., "params": ...}``
(``params`` override the mapping's parameters for this case). :func:`run_case` maps it and
validates the result against the target, returning what an expected file holds:

* ``{"output": {...}}`` — the mapped document (decimals as text), valid for the target;
* ``{"output": {...}, "problems": [{"field", "rule"}, ...]}`` — mapped, but the target would
  refuse it (each broken rule);
* ``{"error": {"type": "MappingError", "code": ..., "field": ...}}`` — the mapping itself failed.

:func:`compare` says how an actual result differs from an expected one (empty when equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.errors import ConfigError, MappingError
from pipelines.compiler import compile_mapping
from pipelines.registry import find_mapping_file
from pipelines.specs import load_mapping
from pipelines.testrun import jsonable, split_sample
from pipelines.validation import mapping_target, validate_document

__all__ = ["compare", "run_case"]


def run_case(mapping: str, case_input: dict[str, Any], search: list[Path] | None = None) -> dict[str, Any]:
    """Run one case of ``mapping`` (a mapping name); see the module docstring."""
    path = find_mapping_file(mapping, None, search)
    if path is None:
        raise ConfigError(f"No mapping named '{mapping}' was found for the golden case.")
    spec = load_mapping(path)
    cm = compile_mapping(spec, case_input.get("params") if "record" in case_input else None)
    record, context = split_sample(case_input)
    try:
        doc = cm(record, context)
    except MappingError as exc:
        return {
            "error": {
                "type": type(exc).__name__,
                "code": exc.code,
                "field": getattr(exc, "field", None),
                "message": exc.message,
            }
        }
    out: dict[str, Any] = {"output": jsonable(doc)}
    schema, extra = mapping_target(spec)
    if schema is not None:
        problems = validate_document(doc, schema, masks=cm.masks, extra=extra)
        if problems:
            out["problems"] = [{"field": p.field, "rule": p.rule, "message": p.message} for p in problems]
    return out


def compare(actual: dict[str, Any], expected: dict[str, Any]) -> list[str]:
    """Differences between an actual and an expected result. Error messages and problem
    messages are compared only when the expected file spells them (so wording can evolve
    while field, rule and error type stay pinned)."""
    diffs: list[str] = []
    if "error" in expected or "error" in actual:
        exp, act = expected.get("error"), actual.get("error")
        if exp is None or act is None:
            return [
                f"expected {'an error' if exp else 'an output'}, got {'an error: ' + str(act) if act else 'an output'}"
            ]
        for key, value in exp.items():
            if key == "message_contains":
                if value not in act.get("message", ""):
                    diffs.append(f"error message {act.get('message')!r} does not contain {value!r}")
            elif act.get(key) != value:
                diffs.append(f"error {key}: expected {value!r}, got {act.get(key)!r}")
        return diffs
    if actual.get("output") != expected.get("output"):
        diffs += _diff("output", actual.get("output"), expected.get("output"))
    exp_p = [(p["field"], p["rule"]) for p in expected.get("problems", [])]
    act_p = [(p["field"], p["rule"]) for p in actual.get("problems", [])]
    if exp_p != act_p:
        diffs.append(f"problems: expected {exp_p}, got {act_p}")
    for e, a in zip(expected.get("problems", []), actual.get("problems", []), strict=False):
        if "message" in e and e["message"] != a.get("message"):
            diffs.append(
                f"problem message for {e['field']}: expected {e['message']!r}, got {a.get('message')!r}"
            )
    return diffs


def _diff(path: str, actual: Any, expected: Any) -> list[str]:
    if isinstance(actual, dict) and isinstance(expected, dict):
        out = []
        for key in sorted(set(actual) | set(expected)):
            if actual.get(key, "<missing>") != expected.get(key, "<missing>"):
                out += _diff(f"{path}.{key}", actual.get(key, "<missing>"), expected.get(key, "<missing>"))
        return out
    if isinstance(actual, list) and isinstance(expected, list) and len(actual) == len(expected):
        out = []
        for i, (a, e) in enumerate(zip(actual, expected, strict=True)):
            out += _diff(f"{path}[{i}]", a, e)
        return out
    return [f"{path}: expected {expected!r}, got {actual!r}"]
