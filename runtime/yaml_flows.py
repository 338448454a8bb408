"""Run the declarative YAML flows (``pipelines``) inside the entity actors.

:func:`register_yaml_flows` loads the flows of ``settings.flow_dirs`` plus the shipped defaults
(:class:`pipelines.registry.FlowRegistry`) and registers each flow that has a ``webhook``
trigger in the runtime's :class:`runtime.flows.FlowRegistry` for its ``(entity, event)``, as a
:class:`YamlFlow`; a ``poll`` trigger on AX registers the flow for the event the AX poller
journals for that service (:func:`runtime.pollers.poll_event`, e.g. ``packing_slip.posted``). Python flow modules are registered first; an exact route registered first
wins, so a Python flow for the same event takes precedence.

What a :class:`YamlFlow` run does for one message:

* builds the flow context from the cross-references the store holds (``ax_customer_account``,
  ``ps_customer_id``, ``ps_address_id``, and a fresh ``new_password`` for customers created in
  the shop from AX, which PrestaShop requires on create);
* calls :func:`pipelines.executor.run_flow` with :class:`runtime.operations.SystemOperations`,
  telling it which step each call belongs to (the step id completes the idempotency key);
* ``failed`` raises the step's :class:`BridgeError` unchanged, so the worker retries a transient
  error and dead-letters a permanent one; a guard ``fail`` verdict raises
  :class:`PermanentError` with the rule's reason;
* ``held`` and ``dropped`` guard verdicts finish the message with a detail saying so
  (``{"status": "held", "step": ..., "reason": ...}``), ``done`` with the step list and results.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

import msgspec

from connectors.errors import PermanentError
from pipelines.executor import run_flow
from pipelines.registry import FlowRegistry as YamlRegistry
from pipelines.registry import LoadedFlow
from runtime.flows import FlowRegistry
from runtime.messages import Message
from runtime.operations import SystemOperations
from runtime.pollers import poll_event

__all__ = ["YamlFlow", "flow_context", "register_yaml_flows", "systems_configured"]

_CALLING_KINDS = ("extract", "load", "write-back")


def systems_configured(settings: Any) -> bool:
    """Whether both systems are configured, which is when the YAML flows can run."""
    return settings.systems.prestashop is not None and settings.systems.ax is not None


async def _xref(store: Any, entity: str, **side: str) -> dict[str, Any] | None:
    if store is None:
        return None
    return await store.get_xref(entity, **side)  # type: ignore[no-any-return]


async def flow_context(store: Any, message: Message) -> dict[str, Any]:
    """What the runtime knows about the record, for the flow's expressions (see module docstring)."""
    ctx: dict[str, Any] = {"ax_customer_account": None}
    payload = message.payload or {}
    if message.source == "prestashop":
        ps_customer = message.key if message.entity == "customer" else payload.get("id_customer")
        if ps_customer not in (None, ""):
            ctx["ps_customer_id"] = str(ps_customer)
            found = await _xref(store, "customer", ps_id=str(ps_customer))
            ctx["ax_customer_account"] = found["ax_id"] if found else None
    elif message.source == "ax" and message.entity == "customer":
        ctx["ax_customer_account"] = message.key
        found = await _xref(store, "customer", ax_id=message.key)
        ctx["ps_customer_id"] = found["ps_id"] if found else None
        address = await _xref(store, "address", ax_id=message.key)
        ctx["ps_address_id"] = address["ps_id"] if address else None
        ctx["new_password"] = secrets.token_urlsafe(18)
    return ctx


class _StepCalls:
    """The Operations of one run: passes each call on with the id of the step making it (the
    first step of the flow calling that system and operation that has not called yet)."""

    def __init__(self, operations: SystemOperations, flow: LoadedFlow, ctx: Any = None) -> None:
        self.operations = operations
        self.ctx = ctx
        self.pending = [(s.system, s.operation, s.id) for s in flow.spec.steps if s.kind in _CALLING_KINDS]

    async def call(self, system: str, operation: str, payload: Any, *, mode: str | None,
                   context: Mapping[str, Any]) -> Any:
        step = next((p for p in self.pending if p[0] == system and p[1] == operation), None)
        if step is not None:
            self.pending.remove(step)
        step_id = step[2] if step else None
        if step_id is None or not hasattr(self.ctx, "step"):
            return await self.operations.call(system, operation, payload, mode=mode, context=context, step=step_id)
        # a span per system call (the worker's step span): the connectors' HTTP/SOAP spans and
        # the AX SalesId / shop reference attributes land under it
        with self.ctx.step(step_id, **{"flow.system": system, "flow.operation": operation}):
            return await self.operations.call(system, operation, payload, mode=mode, context=context, step=step_id)


class YamlFlow:
    """A loaded YAML flow as a runtime flow (``name`` + ``run``); see the module docstring."""

    def __init__(self, loaded: LoadedFlow, operations: SystemOperations) -> None:
        self.loaded = loaded
        self.name = loaded.name
        self.operations = operations

    def __repr__(self) -> str:
        return f"YamlFlow({self.name!r}, version={self.loaded.version_id!r})"

    async def run(self, ctx: Any, message: Message) -> dict[str, Any]:
        store = getattr(ctx, "store", None)
        context = await flow_context(store, message)
        record = msgspec.structs.asdict(message)
        outcome = await run_flow(self.loaded, record, _StepCalls(self.operations, self.loaded, ctx), context)
        if outcome.status == "failed":
            if outcome.error is not None:
                raise outcome.error
            reason = outcome.verdict.reason if outcome.verdict is not None else "no reason given"
            raise PermanentError(f"Flow {self.name}, step {outcome.failed_step}: the guard failed the record: "
                                 f"{reason}")
        detail: dict[str, Any] = {"status": outcome.status, "flow_version": self.loaded.version_id,
                                  "steps": [f"{s['id']}:{s['status']}" for s in outcome.steps]}
        if outcome.status in ("held", "dropped"):
            detail["step"] = outcome.failed_step
            detail["reason"] = outcome.verdict.reason if outcome.verdict is not None else None
        else:
            detail["results"] = {k: v for k, v in outcome.results.items() if isinstance(v, Mapping)}
        return detail


def register_yaml_flows(registry: FlowRegistry, settings: Any, store: Any = None,
                        operations: SystemOperations | None = None) -> list[str]:
    """Register every webhook-triggered and AX-poll-triggered YAML flow; returns ``["entity event -> flow", ...]``.

    Raises :class:`connectors.errors.ConfigError` when a flow file or a mapping it names is broken.
    """
    ops = operations or SystemOperations.from_settings(settings, store)
    added = []
    for loaded in YamlRegistry(list(settings.flow_dirs)).flows().values():
        flow = YamlFlow(loaded, ops)
        for trigger in loaded.spec.triggers:
            event = trigger.event if trigger.type == "webhook" else None
            if trigger.type == "poll" and trigger.source == "ax" and trigger.service:
                event = poll_event(trigger.service)  # what the AX poller journals for that service
            if event:
                registry.register(loaded.spec.entity, event, flow)
                added.append(f"{loaded.spec.entity} {event} -> {loaded.name}")
    return added
