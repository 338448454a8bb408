"""Lint of a flow's conflict ownership (``owner:`` / ``owners:``, see :class:`pipelines.specs.FlowSpec`).

Every field named in ``owners`` must be a target field of one of the flow's mappings (a typo
would silently leave the field to "the change processed last wins"), and an entry that
contradicts the rule's own ``owner:`` is an error (the rule's owner always wins).
"""

from __future__ import annotations

from difflib import get_close_matches

from pipelines.registry import LoadedFlow
from pipelines.yamlio import format_path

__all__ = ["owner_problems"]


def _targets(flow: LoadedFlow) -> dict[str, list[tuple[str, str]]]:
    """Target field name -> [(mapping, rule owner)] over the flow's mappings (top-level fields)."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, mapping in flow.mappings.items():
        for field, rule in mapping.fields.items():
            out.setdefault(field, []).append((name, rule.owner))
    return out


def owner_problems(flow: LoadedFlow) -> list[tuple[int, str, str]]:
    """``(line, path, message)`` for each problem of the flow's ``owners`` table."""
    targets = _targets(flow)
    problems = []
    for field, owner in flow.spec.owners.items():
        path = ("owners", field)
        line = flow.spec.lines.line_of(path)
        if field not in targets:
            close = get_close_matches(field, list(targets), n=1)
            hint = f" — did you mean '{close[0]}'?" if close else ""
            problems.append((line, format_path(path), f"'{field}' is not a target field of any mapping of the "
                             f"flow ({', '.join(sorted(flow.mappings))}){hint}"))
            continue
        for mapping, rule_owner in targets[field]:
            if rule_owner not in ("both", owner):
                problems.append((line, format_path(path), f"'{field}' is owned by {rule_owner} in mapping "
                                 f"{mapping} (its rule's owner:), which always wins; owners says {owner}"))
    return problems
