"""Run a whole flow for one message, with the system calls supplied by the caller.

The runtime (an entity actor) calls :func:`run_flow` with an :class:`Operations` object that
performs ``extract``, ``load`` and ``write-back`` calls through the connectors; the pipelines
never import a connector client or Ray. The system-free steps run as in a test-run
(:mod:`pipelines.steps`).

Contract:

* ``extract`` steps call ``operations.call(system, operation, {"key": ..., "payload": ...,
  "include": [...]}, mode=None, context=...)`` and the result becomes ``record``; a flow
  without an extract step maps the message payload itself.
* ``load`` / ``write-back`` steps call ``operations.call(system, operation, document,
  mode=step.mode, context=...)``; the result is kept in the state under the step id and in
  ``context["results"][step id]``, so later steps and expressions can use ids the target
  returned (e.g. ``context.results.load-order``).
* Any :class:`connectors.errors.BridgeError` stops the flow and is returned in the outcome with
  the step that raised it; the caller decides (retry, dead-letter, resolve) from its class.
  Other exceptions from ``operations`` propagate: they are bugs, not outcomes.
* A guard verdict stops the flow with status ``held``, ``dropped`` or ``failed``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from connectors.errors import BridgeError, ValidationError
from pipelines.registry import LoadedFlow
from pipelines.steps import GuardVerdict, resolve_input, run_guard, run_map, run_validate, step_applies

__all__ = ["FlowOutcome", "Operations", "run_flow"]


class Operations(Protocol):
    """The system calls of a flow, supplied by the runtime."""

    async def call(
        self, system: str, operation: str, payload: Any, *, mode: str | None, context: Mapping[str, Any]
    ) -> Any: ...


@dataclass
class FlowOutcome:
    """How a flow run ended: ``status`` is ``done``, ``held``, ``dropped`` or ``failed``;
    ``steps`` lists ``{"id", "kind", "status"}`` per step; ``failed_step`` names the step of
    ``error`` or of the guard verdict."""

    status: str
    steps: list[dict[str, Any]]
    state: dict[str, Any]
    error: BridgeError | None = None
    verdict: GuardVerdict | None = None
    failed_step: str | None = None
    results: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "steps": self.steps}
        if self.error is not None:
            out["error"] = self.error.to_dict()
        if self.verdict is not None:
            out["verdict"] = self.verdict.to_dict()
        if self.failed_step is not None:
            out["failed_step"] = self.failed_step
        return out


async def run_flow(
    flow: LoadedFlow,
    message: Mapping[str, Any],
    operations: Operations,
    context: Mapping[str, Any] | None = None,
) -> FlowOutcome:
    """Run every step of ``flow`` for ``message`` (``key``, ``payload``, ``source``, ``event``...).

    ``context`` holds what the runtime knows about the record (cross-references); it is copied,
    extended with ``message`` and ``results``, and visible to expressions as ``context``.
    """
    ctx: dict[str, Any] = {**(context or {}), "message": dict(message), "results": {}}
    payload = message.get("payload")
    state: dict[str, Any] = {"record": dict(payload) if isinstance(payload, Mapping) else {}}
    steps: list[dict[str, Any]] = []
    for step in flow.spec.steps:
        entry: dict[str, Any] = {"id": step.id, "kind": step.kind}
        steps.append(entry)
        try:
            if not step_applies(step, state, ctx):
                entry["status"] = "skipped"
                continue
            if step.kind == "extract":
                request = {"key": message.get("key"), "payload": payload, "include": list(step.include)}
                record = await operations.call(
                    step.system or "", step.operation or "", request, mode=None, context=ctx
                )
                if not isinstance(record, Mapping):
                    raise ValidationError(
                        f"Flow {flow.name}, step {step.id}: {step.system} {step.operation} returned no record "
                        f"for key {message.get('key')!r}."
                    )
                state["record"] = dict(record)
            elif step.kind == "map":
                run_map(flow, step, state, ctx)
            elif step.kind == "validate":
                run_validate(flow, step, state, ctx)
            elif step.kind == "guard":
                verdict = run_guard(step, state, ctx)
                if verdict is not None:
                    entry["status"] = {"hold": "held", "drop": "dropped", "fail": "failed"}[verdict.action]
                    _not_reached(flow, steps)
                    return FlowOutcome(
                        entry["status"],
                        steps,
                        state,
                        verdict=verdict,
                        failed_step=step.id,
                        results=ctx["results"],
                    )
            else:  # load, write-back
                document = resolve_input(state, step.input)
                result = await operations.call(
                    step.system or "", step.operation or "", document, mode=step.mode, context=ctx
                )
                state[step.id] = result
                ctx["results"][step.id] = result
            entry["status"] = "ok"
        except BridgeError as exc:
            entry["status"] = "failed"
            _not_reached(flow, steps)
            return FlowOutcome("failed", steps, state, error=exc, failed_step=step.id, results=ctx["results"])
    return FlowOutcome("done", steps, state, results=ctx["results"])


def _not_reached(flow: LoadedFlow, steps: list[dict[str, Any]]) -> None:
    for step in flow.spec.steps[len(steps) :]:
        steps.append({"id": step.id, "kind": step.kind, "status": "not_reached"})
