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
from pipelines.hashing import fingerprint, project
from pipelines.registry import LoadedFlow
from pipelines.steps import GuardVerdict, resolve_input, run_guard_async, run_map, run_validate, step_applies
from pipelines.sync import (
    SyncStore,
    conflict_entries,
    document_hash,
    echo_plan,
    owned_by,
    record_version,
    side_plans,
    source_key,
    state_entity,
    target_key,
)

__all__ = ["FlowOutcome", "Operations", "run_flow"]


class Operations(Protocol):
    """The system calls of a flow, supplied by the runtime."""

    async def call(
        self, system: str, operation: str, payload: Any, *, mode: str | None, context: Mapping[str, Any]
    ) -> Any: ...


@dataclass
class FlowOutcome:
    """How a flow run ended: ``status`` is ``done``, ``skipped_echo``, ``held``, ``dropped`` or ``failed``;
    ``steps`` lists ``{"id", "kind", "status"}`` per step; ``failed_step`` names the step of
    ``error`` or of the guard verdict. ``outputs`` holds, per step id, what the step produced in
    this run (extract: the record read; map: the mapped document; load / write-back: the target's
    answer), as references to the run's own objects (no copy: it runs on every message); the
    runtime journals them masked (:mod:`pipelines.step_payloads`)."""

    status: str
    steps: list[dict[str, Any]]
    state: dict[str, Any]
    error: BridgeError | None = None
    verdict: GuardVerdict | None = None
    failed_step: str | None = None
    results: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)

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
    sync: SyncStore | None = None,
) -> FlowOutcome:
    """Run every step of ``flow`` for ``message`` (``key``, ``payload``, ``source``, ``event``...).

    ``context`` holds what the runtime knows about the record (cross-references); it is copied,
    extended with ``message`` and ``results``, and visible to expressions as ``context``.
    With ``sync`` (the runtime's store) the per-record rules of :mod:`pipelines.sync` apply:
    hashes recorded, unchanged writes skipped (step status ``unchanged``), conflicts logged, and
    a run for a record that is the bridge's own write coming back ends with status
    ``skipped_echo`` having written nothing (its writes ``unchanged``, or ``echo`` when the
    source record alone decides it; ``results["echo"]`` says since when; the rule is
    :mod:`pipelines.sync`'s "echo").
    """
    ctx: dict[str, Any] = {**(context or {}), "message": dict(message), "results": {}}
    payload = message.get("payload")
    state: dict[str, Any] = {"record": dict(payload) if isinstance(payload, Mapping) else {}}
    steps: list[dict[str, Any]] = []
    rules = _SyncRun(flow, message, sync, operations, ctx) if sync is not None else None
    outputs: dict[str, Any] = {}
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
                state["record"] = outputs[step.id] = dict(record)
                if rules is not None and step.system == message.get("source"):
                    await rules.source_record(state["record"])
            elif step.kind == "map":
                outputs[step.id] = run_map(flow, step, state, ctx)
            elif step.kind == "validate":
                run_validate(flow, step, state, ctx)
            elif step.kind == "guard":
                verdict = await run_guard_async(step, state, ctx)  # rules + anomaly (history)
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
                        outputs=outputs,
                    )
            else:  # load, write-back
                document = resolve_input(state, step.input)
                if rules is not None and rules.source_echo:
                    entry["status"] = "echo"  # the source holds our own write: nothing goes back
                    continue
                if rules is not None:
                    skip, document = await rules.before_write(step, document, state)
                    if skip:
                        entry["status"] = "unchanged"
                        continue
                result = await operations.call(
                    step.system or "", step.operation or "", document, mode=step.mode, context=ctx
                )
                state[step.id] = outputs[step.id] = result
                ctx["results"][step.id] = result
                if rules is not None:
                    await rules.written(step, document, result)
            entry["status"] = "ok"
        except BridgeError as exc:
            entry["status"] = "failed"
            _not_reached(flow, steps)
            return FlowOutcome("failed", steps, state, error=exc, failed_step=step.id, results=ctx["results"],
                               outputs=outputs)
    if rules is not None and rules.source_echo and not rules.wrote:
        ctx["results"]["echo"] = {"written_at": rules.echo_since, "source": message.get("source")}
        return FlowOutcome("skipped_echo", steps, state, results=ctx["results"], outputs=outputs)
    if rules is not None and rules.all_unchanged(steps):
        since = await rules.echo(steps)
        if since is not None:
            ctx["results"]["echo"] = {"written_at": since, "source": message.get("source")}
            return FlowOutcome("skipped_echo", steps, state, results=ctx["results"], outputs=outputs)
    return FlowOutcome("done", steps, state, results=ctx["results"], outputs=outputs)


class _SyncRun:
    """The :mod:`pipelines.sync` rules for one run (see that module for the rules)."""

    def __init__(self, flow: LoadedFlow, message: Mapping[str, Any], store: SyncStore, operations: Operations,
                 ctx: dict[str, Any]) -> None:
        self.flow, self.message, self.store, self.operations, self.ctx = flow, message, store, operations, ctx
        self.plans = side_plans(flow)
        self.source = str(message.get("source") or "")
        #: when the bridge wrote what the source record holds (set when it still holds exactly that)
        self.echo_since: float | None = None
        #: two-way with respect to the source side: the flow reads and writes the source record
        self.two_way = echo_plan(flow, self.source) is not None
        #: the source record is all the flow writes to the source side (no other write to it),
        #: so its content in the fields the flow writes there decides an echo on its own
        self.whole_source = self.two_way and all(p.primary for p in self.plans.values() if p.system == self.source)
        #: one-way flows: the bridge's unanswered writes to the source side for this record, made
        #: for an older version of it -- (state entity, key, column, hash, written at); None: not read yet
        self.echo_rows: list[tuple[str, str, str, str, float]] | None = None
        self.wrote = False
        #: per step, the target's content after a write that left the target's own fields out
        self.after: dict[str, Any] = {}

    async def source_record(self, record: Mapping[str, Any]) -> None:
        """The source side's record is extracted: remember its content in the fields the flow
        writes to that side (the content both sides hold once synced); note an echo."""
        plan = echo_plan(self.flow, self.source)
        key = self.message.get("key")
        if plan is None or key in (None, ""):
            return
        column = _COLUMN[self.source]
        h = fingerprint(record, plan.shape)
        row = await self.store.get_sync_state(self.flow.spec.entity, str(key))
        if row and row.get(column) == h:
            self.echo_since = row.get(f"{column}_at")
            return
        await self.store.put_sync_state(self.flow.spec.entity, str(key), written=False, **{column: h})

    async def before_write(self, step: Any, document: Any, state: dict[str, Any]) -> tuple[bool, Any]:
        """``(skip, document)``: skip when the target holds this content already; when both sides
        changed since the last sync, the conflicts are logged and the fields the target owns are
        left out of the document written."""
        plan = self.plans.get(step.id)
        if plan is None:
            return False, document
        key = target_key(plan, document)
        if key is None and await self._echo_rows():
            # a possible echo: a write that names no target is compared by the record it is for
            key = source_key(plan, self.source, self.message.get("key"))
        if key is None:
            return False, document
        column = _COLUMN[plan.system]
        row = await self.store.get_sync_state(state_entity(self.flow, plan), key)
        stored = row.get(column) if row else None
        if stored is not None and stored == document_hash(plan, document):
            result = {"unchanged": True, "key": key}
            state[step.id] = result
            self.ctx["results"][step.id] = result
            return True, document
        if plan.primary and stored is not None and plan.read_operation and row:
            document = await self._conflicts(plan, step, key, row, state, document)
        return False, document

    async def _conflicts(self, plan: Any, step: Any, key: str, row: Mapping[str, Any], state: dict[str, Any],
                         document: Any) -> Any:
        request = {"key": key, "payload": {}, "include": list(plan.read_include)}
        current = await self.operations.call(plan.system, plan.read_operation, request, mode=None, context=self.ctx)
        if not isinstance(current, Mapping):
            return document
        version = record_version(plan.system, current)
        seen = row.get("source_version")
        # the shop's date_upd orders its changes, so a moved one says the shop changed; AX's
        # RecVersion is random and the journal orders AX messages by read time, so for AX the
        # content (its hash against what the bridge last saw) is the only sign of a change
        moved = plan.system != "ax" and version is not None and seen is not None and version != str(seen)
        if not moved and fingerprint(current, plan.shape) == row.get(_COLUMN[plan.system]):
            return document  # the target did not change since the bridge last saw it: no conflict
        producer = next(s for s in self.flow.spec.steps if s.kind == "map" and s.mapping == plan.mapping)
        source = resolve_input(state, producer.input)
        full = self.flow.compiled_unowned(plan.mapping)(source, self.ctx)
        entries = conflict_entries(plan, self.source, full, current, entity=self.flow.spec.entity, key=key,
                                   flow=self.flow.name, message_id=self.message.get("id"),
                                   source_version=_record_version_of(self.message), spec=self.flow.spec)
        if entries:
            await self.store.add_conflicts(entries)
            self.ctx["results"][f"{step.id}-conflicts"] = {"fields": [e["field"] for e in entries],
                                                           "winners": [e["winner"] for e in entries]}
        kept = owned_by(self.flow.spec, plan, plan.system)  # the target's value wins: not written
        if not kept or not isinstance(document, Mapping):
            return document
        written = _without(document, kept)
        # what the target holds after the write: its own values of the fields it kept, ours elsewhere
        self.after[step.id] = _merged(project(current, plan.shape), written)
        return written

    async def written(self, step: Any, document: Any, result: Any) -> None:
        self.wrote = True
        plan = self.plans.get(step.id)
        if plan is None:
            return
        held: dict[str, Any] = {_COLUMN[plan.system]: document_hash(plan, self.after.get(step.id, document))}
        key = target_key(plan, document, result)
        if key is not None:
            await self.store.put_sync_state(state_entity(self.flow, plan), key, **held)
        by_source = source_key(plan, self.source, self.message.get("key"))
        if target_key(plan, document) is None and by_source is not None and by_source != key:
            # the document did not name its target: found again by the record (and its version) it was made for
            await self.store.put_sync_state(state_entity(self.flow, plan), by_source,
                                            source_version=self.message.get("source_version"), **held)

    async def _echo_rows(self) -> list[tuple[str, str, str, str, float]]:
        """One-way flows (see :mod:`pipelines.sync`, "echo"): the bridge's writes to the source
        side for this record (by source) that carry a write time and were made for an older
        version of the record than the message's: what this message may be the echo of."""
        if self.echo_rows is not None:
            return self.echo_rows
        self.echo_rows = []
        version, key = self.message.get("source_version"), self.message.get("key")
        if self.two_way or version in (None, ""):
            return self.echo_rows
        for plan in self.plans.values():
            by_source = source_key(plan, self.source, key) if plan.system == self.source else None
            if by_source is None:
                continue
            column, entity = _COLUMN[plan.system], state_entity(self.flow, plan)
            row = await self.store.get_sync_state(entity, by_source)
            if not row or not row.get(column) or row.get(f"{column}_at") is None:
                continue
            if row.get("source_version") is None or _newer(str(version), str(row["source_version"])):
                self.echo_rows.append((entity, by_source, column, row[column], row[f"{column}_at"]))
        return self.echo_rows

    @property
    def source_echo(self) -> bool:
        """The source record holds exactly the bridge's own write, and it is all the flow writes
        to that side: the message is that write coming back, whatever the reverse mapping would
        make of it (see :mod:`pipelines.sync`, "echo")."""
        return self.whole_source and self.echo_since is not None

    def all_unchanged(self, steps: list[dict[str, Any]]) -> bool:
        """No write happened, and at least one write was skipped as unchanged."""
        return not self.wrote and any(s.get("status") == "unchanged" for s in steps)

    async def echo(self, steps: list[dict[str, Any]]) -> float | None:
        """When every write was unchanged: the time of the bridge's own write to the source side
        that this message is the echo of, or None (see :mod:`pipelines.sync`, "echo")."""
        if self.two_way:
            return self.echo_since
        found = await self._echo_rows()
        if not found:
            return None
        for entity, row_key, column, stored, _at in found:
            # answered: the hash stays (what the side holds), the write time goes (no echo twice)
            await self.store.put_sync_state(entity, row_key, written=False, **{column: stored})
        return max(at for *_, at in found)


_COLUMN = {"prestashop": "ps_hash", "ax": "ax_hash"}


def _newer(version: str, than: str) -> bool:
    """Whether source version ``version`` is strictly newer than ``than`` (numbers such as AX's
    RecVersion by value, PrestaShop's ``Y-m-d H:i:s`` as text, which sorts by time)."""
    try:
        return float(version) > float(than)
    except ValueError:
        return version > than


def _merged(base: Any, over: Any) -> Any:
    """``over`` laid on ``base`` (nested objects merged, anything else replaced)."""
    if isinstance(base, Mapping) and isinstance(over, Mapping):
        out = dict(base)
        for k, v in over.items():
            out[k] = _merged(base.get(k), v)
        return out
    return over


def _without(document: Mapping[str, Any], fields: list[str]) -> dict[str, Any]:
    """A copy of ``document`` without the (dotted) ``fields``."""
    out = dict(document)
    for name in fields:
        node: Any = out
        *parents, leaf = name.split(".")
        for p in parents:
            child = node.get(p) if isinstance(node, dict) else None
            if not isinstance(child, Mapping):
                node = None
                break
            node[p] = dict(child)
            node = node[p]
        if isinstance(node, dict):
            node.pop(leaf, None)
    return out


def _not_reached(flow: LoadedFlow, steps: list[dict[str, Any]]) -> None:
    for step in flow.spec.steps[len(steps) :]:
        steps.append({"id": step.id, "kind": step.kind, "status": "not_reached"})


def _record_version_of(message: Mapping[str, Any]) -> Any:
    """The version the source system gave the record (AX's ``RecVersion`` a poller puts in the
    payload), else the message's source version (the shop's ``date_upd``): what a conflict entry
    shows an operator, who knows the record's own version, not the bridge's read time."""
    payload = message.get("payload") or {}
    return (payload.get("rec_version") if isinstance(payload, Mapping) else None) or message.get("source_version")
