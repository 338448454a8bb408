"""One record of a bulk chunk through its flow: the same steps and mappings as in real time.

:func:`run_record` walks the flow's steps like :func:`pipelines.executor.run_flow`, with two
differences that make bulk cheap: the ``extract`` steps are skipped (the chunk task read the
record in a batch and set the context the extract would have set), and each ``load`` goes
through :meth:`Writer.load`, which decides from the content hash whether to write at all.

Outcome per record: ``created``, ``updated`` (a write happened, or would in a dry run),
``unchanged`` (the stored hash of the target equals the mapped document's: nothing sent),
``dropped`` (a guard dropped it, e.g. not a shop product), ``held`` / ``failed`` (go to the
dead-letter queue with their reason), ``stale`` (a newer real-time value was applied first).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

from connectors.errors import BridgeError
from pipelines.hashing import fingerprint
from pipelines.registry import LoadedFlow
from pipelines.steps import resolve_input, run_guard, run_map, run_validate, step_applies
from pipelines.sync import SidePlan, document_hash, side_plans, state_entity

__all__ = ["Outcome", "Writer", "now_version", "run_record", "write_outcome"]

_COLUMN = {"prestashop": "ps_hash", "ax": "ax_hash"}


class Outcome:
    """How one record ended (see the module docstring); ``error`` for held/failed ones."""

    __slots__ = ("status", "error", "step", "writes")

    def __init__(self, status: str, error: dict[str, Any] | None = None, step: str | None = None,
                 writes: int = 0) -> None:
        self.status, self.error, self.step, self.writes = status, error, step, writes


class Writer(Protocol):
    """What the chunk task gives :func:`run_record` for the loads."""

    async def load(self, flow: LoadedFlow, step: Any, plan: SidePlan | None, document: Any,
                   context: dict[str, Any]) -> tuple[str, Any]:
        """``(status, result)``: status ``created``/``updated``/``unchanged``/``stale``."""
        ...


def write_outcome(plan: SidePlan | None, document: Any, stored: Mapping[str, Any] | None) -> str | None:
    """``unchanged`` when the stored hash of the target equals the document's, else None."""
    if plan is None or not stored:
        return None
    have = stored.get(_COLUMN[plan.system])
    return "unchanged" if have is not None and have == document_hash(plan, document) else None


async def run_record(flow: LoadedFlow, record: Mapping[str, Any], context: dict[str, Any], writer: Writer
                     ) -> Outcome:
    """Run ``flow`` for a record already read (see the module docstring). Never raises a
    :class:`BridgeError`: it becomes a ``failed`` outcome with the error's dict."""
    state: dict[str, Any] = {"record": dict(record)}
    context.setdefault("results", {})
    plans = side_plans(flow)
    result_status = "unchanged"
    wrote = 0
    loads = 0
    for step in flow.spec.steps:
        try:
            if step.kind == "extract" or not step_applies(step, state, context):
                continue
            if step.kind == "map":
                run_map(flow, step, state, context)
            elif step.kind == "validate":
                run_validate(flow, step, state, context)
            elif step.kind == "guard":
                verdict = run_guard(step, state, context)
                if verdict is not None:
                    status = {"hold": "held", "drop": "dropped", "fail": "failed"}[verdict.action]
                    return Outcome(status, {"type": "GuardVerdict", "message": verdict.reason}, step.id, wrote)
            else:
                loads += 1
                document = resolve_input(state, step.input)
                status, result = await writer.load(flow, step, plans.get(step.id), document, context)
                state[step.id] = result
                context["results"][step.id] = result
                if status in ("created", "updated"):
                    wrote += 1
                    # the record's outcome: created if any of its writes created, else updated
                    result_status = "created" if status == "created" or result_status == "created" else "updated"
                elif status == "stale" and result_status == "unchanged":
                    result_status = "stale"
        except BridgeError as exc:
            return Outcome("failed", exc.to_dict(), step.id, wrote)
    if not loads:
        return Outcome("dropped", None, None, wrote)
    return Outcome(result_status, None, None, wrote)


def record_hash(flow: LoadedFlow, plan: SidePlan, document: Any) -> tuple[str, str]:
    """``(sync_state entity, hash)`` of a write: what real-time echo suppression records too."""
    return state_entity(flow, plan), fingerprint(document, plan.shape)


def now_version() -> str:
    """A source version of what is read now, as the real-time AX poller stamps its messages
    (epoch seconds as a number, microseconds): the store orders the two kinds alike."""
    return f"{time.time():.6f}"


def now_iso() -> str:
    """UTC now as ISO text (the version of a figure read now: read later is newer)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()) + f".{int(time.time() * 1e6) % 1_000_000:06d}Z"
