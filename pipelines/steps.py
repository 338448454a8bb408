"""The system-free steps of a flow: map, validate, guard, and step conditions.

These run without Ray and without touching any system, so the runtime, the test-run and the
visual designer share them. A run keeps a *state*: ``{"record": <extracted record>, <map
output name>: <document>, ...}``; a step's ``input`` names a state entry, optionally with a
dotted path below it (``record.customer``).

* :func:`run_map` returns the mapped document or raises MappingError;
* :func:`run_validate` raises RecordValidationError listing every problem of every input;
* :func:`run_guard` returns the first matching rule's verdict (or ``None`` to pass), what a
  test-run shows; :func:`run_guard_async` adds the anomaly check against the runtime's history
  and the reviewer's release (a flow run).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from connectors.errors import ConfigError, MappingError
from pipelines.compiler import compile_expression
from pipelines.registry import LoadedFlow
from pipelines.specs import Step
from pipelines.validation import FieldProblem, RecordValidationError, mapping_target, validate_document

__all__ = ["GuardVerdict", "resolve_input", "run_guard", "run_guard_async", "run_map", "run_validate",
           "step_applies"]

_EXPR_CACHE: dict[str, Any] = {}
#: state entry holding, per map output, the label of the record it was mapped from
LABELS = "__labels__"


def _expr(text: str) -> Any:
    f = _EXPR_CACHE.get(text)
    if f is None:
        f = compile_expression(text)
        _EXPR_CACHE[text] = f
    return f


def _evaluate(text: str, scope: Any, context: Mapping[str, Any], where: str) -> Any:
    """The value of a step expression; a MappingError from it (a null operand, a division by
    zero...) says which step and rule it comes from."""
    try:
        return _expr(text)(scope if isinstance(scope, Mapping) else {}, context)
    except MappingError as exc:
        raise MappingError(f"{where}: {exc.message}", code=exc.code) from None


def resolve_input(state: Mapping[str, Any], name: str | None) -> Any:
    """The value a step reads: ``record`` by default, or ``<entry>[.path]``."""
    head, _, rest = (name or "record").partition(".")
    if head not in state:
        raise ConfigError(
            f"The step input '{name}' names nothing produced so far (known: {', '.join(state)})."
        )
    value = state[head]
    for part in rest.split(".") if rest else []:
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def step_applies(step: Step, state: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    """Whether the step runs: its input exists (a skipped map step produced nothing) and its
    ``when`` holds on that input (always, without ``when``)."""
    if step.kind not in ("extract", "validate") and (step.input or "record").split(".")[0] not in state:
        return False
    if step.when is None:
        return True
    scope = resolve_input(state, step.input) if step.kind != "validate" else state.get("record")
    return bool(_evaluate(step.when, scope, context, f"Step '{step.id}', when"))


def run_map(
    flow: LoadedFlow, step: Step, state: dict[str, Any], context: Mapping[str, Any]
) -> dict[str, Any]:
    """Map the step's input with its mapping; stores and returns the document."""
    assert step.mapping is not None and step.output is not None
    source = resolve_input(state, step.input)
    if not isinstance(source, Mapping):
        raise MappingError(
            f"Mapping {step.mapping} needs an object as input, but '{step.input or 'record'}' is missing."
        )
    cm = flow.compiled(step.mapping)
    doc = cm(source, context)
    state[step.output] = doc
    # remember how to name the record in later errors (validate reports on the map input)
    state.setdefault(LABELS, {})[step.output] = cm.label(source)
    return doc


def _is_update(flow: LoadedFlow, output: str) -> bool:
    # a document only ever sent as a partial update (PATCH) need not carry required fields
    modes = {s.mode for s in flow.spec.steps if s.kind == "load" and (s.input or "").split(".")[0] == output}
    return bool(modes) and modes <= {"update"}


def _producer(flow: LoadedFlow, output: str) -> str | None:
    for s in flow.spec.steps:
        if s.kind == "map" and s.output == output:
            return s.mapping
    return None


def run_validate(flow: LoadedFlow, step: Step, state: Mapping[str, Any], context: Mapping[str, Any]) -> None:
    """Validate each input against the target of the mapping that produced it, then the rules."""
    problems: list[FieldProblem] = []
    labels: list[str] = []  # the record each problem is about, in the order of `problems`
    record = state.get("record")
    for name in step.inputs:
        if name not in state:
            continue  # its map step was skipped by `when`: nothing to send, nothing to check
        doc = state[name]
        mapping_name = _producer(flow, name)
        if mapping_name is None:
            raise ConfigError(f"The validate step '{step.id}' checks '{name}', which no map step produces.")
        cm = flow.compiled(mapping_name)
        schema, extra = mapping_target(cm.spec)
        label = state.get(LABELS, {}).get(name) or cm.label(record if isinstance(record, Mapping) else {})
        before = len(problems)
        if schema is not None and isinstance(doc, Mapping):
            require = not _is_update(flow, name)
            problems += [
                FieldProblem(f"{name}.{p.field}", p.rule, f"{name}.{p.message}")
                for p in validate_document(doc, schema, masks=cm.masks, extra=extra, require=require)
            ]
        for j, rule in enumerate(step.validation_rules()):
            if rule.input is not None and rule.input != name:
                continue
            if not _evaluate(rule.check, doc, context, f"Step '{step.id}', rule {j + 1}"):
                field = f"{name}.{rule.field}" if rule.field else name
                problems.append(FieldProblem(field, "rule", f"{field}: {rule.message}"))
        labels += [label] * (len(problems) - before)
    if problems:
        who = labels[0] if labels else "the record"
        more = f" (and {len(problems) - 1} more problem(s))" if len(problems) > 1 else ""
        raise RecordValidationError(
            f"Flow {flow.name}, step {step.id}: the target would refuse {who}: {problems[0].message}{more}.",
            problems,
        )


@dataclass(frozen=True)
class GuardVerdict:
    """A guard rule matched: ``action`` (hold, drop, fail) and the rule's ``reason``; ``rule`` is
    the rule's index, or ``-1`` for the step's anomaly check, which also gives its ``score`` and
    the ``signal`` that spoke (see :mod:`pipelines.ai.guard`)."""

    action: str
    reason: str
    rule: int
    score: float | None = None
    signal: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "reason": self.reason, "rule": self.rule}
        if self.score is not None:
            out.update(score=round(self.score, 4), signal=self.signal)
        return out


def _rules_verdict(step: Step, scope: Any, context: Mapping[str, Any]) -> GuardVerdict | None:
    for i, rule in enumerate(step.guard_rules()):
        if _evaluate(rule.if_, scope, context, f"Step '{step.id}', rule {i + 1}"):
            return GuardVerdict(rule.action, rule.reason, i)
    return None


def _anomaly_verdict(step: Step, verdict: Any) -> GuardVerdict | None:
    if not verdict.hold or step.anomaly is None:
        return None
    reason = verdict.reason[:1].upper() + verdict.reason[1:]
    reason += "" if reason.endswith(("?", ".")) else "."
    return GuardVerdict(step.anomaly.action, reason, -1, verdict.score, verdict.signal)


def run_guard(step: Step, state: Mapping[str, Any], context: Mapping[str, Any]) -> GuardVerdict | None:
    """The verdict of the first rule whose condition holds, or ``None`` (the record passes).
    The step's anomaly check is not scored here: it judges a record against the bridge's
    history, which a test-run does not have (a sample would be judged on nothing)."""
    return _rules_verdict(step, resolve_input(state, step.input), context)


async def run_guard_async(step: Step, state: Mapping[str, Any], context: Mapping[str, Any]) -> GuardVerdict | None:
    """:func:`run_guard` as a flow run does it, with the runtime's guard context
    (:class:`pipelines.ai.guard.flow.GuardContext` under ``context["guard"]``): the rules, then
    the anomaly check against the history (learning what passes). A record this step would hold
    that a reviewer released passes instead: the reviewer's edits are applied to the step's
    input and the record joins the anomaly history as normal.
    """
    from pipelines.ai.guard.flow import GuardContext, apply_edit, check, learn_released

    scope = resolve_input(state, step.input)
    verdict = _rules_verdict(step, scope, context)
    if verdict is None and step.anomaly is not None:
        verdict = _anomaly_verdict(step, await check(step.anomaly, scope, context))
    guard = context.get("guard")
    if verdict is None or verdict.action != "hold" or not isinstance(guard, GuardContext):
        return verdict
    release = await guard.released(step.id)
    if release is None:
        return verdict
    if release.get("edit") and isinstance(scope, dict):
        apply_edit(scope, release["edit"])
    if step.anomaly is not None:
        await learn_released(step.anomaly, scope, context)
    return None
