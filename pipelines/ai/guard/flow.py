"""The anomaly check of a flow's ``guard`` step: a flow record becomes a guard event, scored
with the history the runtime supplies.

A guard step may carry ``anomaly:`` (:class:`pipelines.specs.AnomalySpec`): ``kind`` (order,
price, stock), ``fields`` (event field -> path in the step's input, or ``context.<path>``),
``thresholds`` (:class:`~pipelines.ai.guard.scorer.Thresholds`), ``currencies`` and ``action``.

What the runtime supplies in the flow context under ``guard`` (:class:`GuardContext`): a
:class:`GuardHistory` (per-key statistics; pipelines never import the store), the release of
this message by a reviewer (the guard step it names lets the record through, with the
reviewer's edits applied to its input first) and the shop's currencies when configured
elsewhere. Without it (a flow run outside the runtime) the check scores against no history,
which holds only what is evidence in itself (negative stock, lines that cannot add up, a
currency outside ``currencies``). A test-run does not score it at all (``run_guard``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pipelines.ai.guard.scorer import Scorer, Thresholds, Verdict

__all__ = ["DEFAULT_FIELDS", "GuardContext", "GuardHistory", "applies", "apply_edit", "build_event", "check", "learn_released",
           "score_now"]

#: where each kind finds its event fields in a flow record when ``fields`` does not say
DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "order": {"id_customer": "id_customer", "currency": "currency", "total_paid": "total_paid",
              "order_rows": "associations.order_rows", "total_shipping": "total_shipping_tax_incl",
              "total_discounts": "total_discounts_tax_incl", "timestamp": "date_add"},
    "price": {"ItemId": "context.message.key", "new_price": "price", "old_price": "old_price"},
    "stock": {"ItemId": "context.message.key", "new_quantity": "quantity", "old_quantity": "old_quantity"},
}
_TYPES = {"order": "order.created", "price": "price.changed", "stock": "stock.changed"}


class GuardHistory(Protocol):
    """Per-key statistics of the guard (see :meth:`Scorer.keys_for`), kept by the runtime."""

    async def load(self, keys: list[str]) -> dict[str, Any]: ...

    async def save(self, states: Mapping[str, Any]) -> None: ...


@dataclass
class GuardContext:
    """What the runtime gives the guard step for one message (see the module docstring).

    ``release`` is ``{"step": guard step id, "edit": {field path: value}}`` when a reviewer
    released the record; ``find_release`` looks it up instead, and only when a guard step is
    about to hold (most messages were never held: they cost no lookup)."""

    history: GuardHistory | None = None
    release: dict[str, Any] | None = None
    currencies: list[str] | None = None
    find_release: Callable[[], Awaitable[dict[str, Any] | None]] | None = None

    async def released(self, step_id: str) -> dict[str, Any] | None:
        """The release of this message at guard step ``step_id``, or None."""
        if self.release is None and self.find_release is not None:
            finder, self.find_release = self.find_release, None  # looked up once per run
            self.release = await finder()
        return self.release if self.release and self.release.get("step") == step_id else None


def _get(scope: Any, path: str) -> Any:
    value = scope
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def build_event(spec: Any, record: Any, context: Mapping[str, Any]) -> dict[str, Any]:
    """The guard event of ``record`` (the step's input) under ``spec`` (an AnomalySpec)."""
    paths = {**DEFAULT_FIELDS[spec.kind], **spec.fields}
    data: dict[str, Any] = {}
    timestamp = None
    for name, path in paths.items():
        value = _get(context, path[len("context."):]) if path.startswith("context.") else _get(record, path)
        if name == "timestamp":
            timestamp = value
        elif value is not None:
            data[name] = value
    if timestamp is None:
        timestamp = _get(context, "message.received_at")
    message: Mapping[str, Any] = context["message"] if isinstance(context.get("message"), Mapping) else {}
    # an order is one event whatever message carries it (created, updated, a retry): once accepted,
    # its later messages pass and are not counted again; a price or stock change is one message
    event_id = message.get("key") if spec.kind == "order" else message.get("id")
    return {"id": event_id, "type": _TYPES[spec.kind], "timestamp": timestamp, "data": data}


def _scorer(spec: Any, guard: GuardContext | None) -> Scorer:
    currencies = spec.currencies or (guard.currencies if guard else None)
    return Scorer(Thresholds.from_dict(spec.thresholds), currencies=currencies)


def applies(spec: Any, context: Mapping[str, Any]) -> bool:
    """Whether the anomaly check scores this message (its ``events`` filter)."""
    if not spec.events:
        return True
    message = context.get("message")
    return isinstance(message, Mapping) and message.get("event") in spec.events


def score_now(spec: Any, record: Any, context: Mapping[str, Any],
              states: dict[str, Any] | None = None) -> tuple[Verdict, dict[str, Any]]:
    """Score without I/O against ``states`` (empty: no history); returns the verdict and the event."""
    guard = context.get("guard") if isinstance(context.get("guard"), GuardContext) else None
    event = build_event(spec, record, context)
    if not applies(spec, context):
        return Verdict(False, 0.0), event
    return _scorer(spec, guard).score(event, states or {}), event


async def check(spec: Any, record: Any, context: Mapping[str, Any]) -> Verdict:
    """Score ``record`` against the runtime's history; an accepted record is learned at once
    (a held one only counts for burst detection) and the changed statistics are saved."""
    guard = context.get("guard") if isinstance(context.get("guard"), GuardContext) else None
    event = build_event(spec, record, context)
    scorer = _scorer(spec, guard)
    if not applies(spec, context):
        return Verdict(False, 0.0)
    if guard is None or guard.history is None:
        return scorer.score(event, {})
    states = await guard.history.load(scorer.keys_for(event))
    verdict = scorer.score(event, states)
    changed = scorer.learn(event, states, held=verdict.hold)
    if changed:
        await guard.history.save({k: states[k] for k in changed})
    return verdict


async def learn_released(spec: Any, record: Any, context: Mapping[str, Any]) -> None:
    """A reviewer released the record: it is normal after all, so it joins the history."""
    guard = context.get("guard") if isinstance(context.get("guard"), GuardContext) else None
    if guard is None or guard.history is None or not applies(spec, context):
        return
    event = build_event(spec, record, context)
    scorer = _scorer(spec, guard)
    states = await guard.history.load(scorer.keys_for(event))
    changed = scorer.learn(event, states)
    if changed:
        await guard.history.save({k: states[k] for k in changed})


def apply_edit(target: Any, edit: Mapping[str, Any]) -> list[str]:
    """Set each ``dotted.path: value`` of ``edit`` in ``target`` (a dict, changed in place);
    returns the paths set. ``ValueError`` when a path crosses something that is not an object."""
    done = []
    for path, value in edit.items():
        parts = str(path).split(".")
        node = target
        for part in parts[:-1]:
            nxt = node.get(part) if isinstance(node, dict) else None
            if nxt is None and isinstance(node, dict):
                nxt = node[part] = {}
            if not isinstance(nxt, dict):
                raise ValueError(f"The edit '{path}' crosses '{part}', which is not an object.")
            node = nxt
        if not isinstance(node, dict):
            raise ValueError(f"The edit '{path}' does not name a field of an object.")
        node[parts[-1]] = value
        done.append(str(path))
    return done
