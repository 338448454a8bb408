"""Run the declarative YAML flows (``pipelines``) inside the entity actors.

:func:`register_yaml_flows` loads the flows of ``settings.flow_dirs`` plus the shipped defaults
(:class:`pipelines.registry.FlowRegistry`) and registers each flow that has a ``webhook``
trigger in the runtime's :class:`runtime.flows.FlowRegistry` for its ``(entity, event)``, as a
:class:`YamlFlow`; a ``poll`` trigger on AX registers the flow for the event the AX poller
journals for that service (:func:`runtime.pollers.poll_event`, e.g. ``packing_slip.posted``). Python flow modules are registered first; an exact route registered first
wins, so a Python flow for the same event takes precedence.

**Which version runs.** The entity actors run the *deployed* version of each flow
(:class:`DeployedFlows`): the content recorded by ``presta-ax flow deploy`` (the flow and its
mappings, :meth:`pipelines.registry.LoadedFlow.record`), rebuilt from the store. A flow of the
folders that was never deployed runs the folder's version, recorded as deployed at the actor's
start. A new deploy reaches running actors within ``ttl_s`` (1 s), without a restart; a file
edited on disk runs only once deployed.

What a :class:`YamlFlow` run does for one message:

* builds the flow context from the cross-references the store holds (``ax_customer_account``,
  ``ps_customer_id``, ``ps_address_id``, and a fresh ``new_password`` for customers created in
  the shop from AX, which PrestaShop requires on create);
* calls :func:`pipelines.executor.run_flow` with :class:`pipelines.operations.SystemOperations`,
  telling it which step each call belongs to (the step id completes the idempotency key);
* ``failed`` raises the step's :class:`BridgeError` unchanged, so the worker retries a transient
  error and dead-letters a permanent one; a guard ``fail`` verdict raises
  :class:`PermanentError` with the rule's reason;
* the run gets the store as :mod:`pipelines.sync`'s state (hashes, echoes, conflicts): a run
  whose every write was skipped because the record is the bridge's own write coming back
  returns ``{"status": "skipped_echo", "reason": ...}``, which the worker finishes as
  ``skipped_echo``;
* every detail names the ``flow_version`` that ran;
* ``held`` and ``dropped`` guard verdicts finish the message with a detail saying so
  (``{"status": "held", "step": ..., "reason": ...}``), ``done`` with the step list and results.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from collections.abc import Mapping
from typing import Any

import msgspec

from connectors.errors import ConfigError, PermanentError
from connectors.prestashop.read_memo import read_memo
from pipelines.executor import run_flow
from pipelines.masking import PERSONAL_FIELDS
from pipelines.operations import SystemOperations
from pipelines.registry import FlowRegistry as YamlRegistry
from pipelines.registry import LoadedFlow, loaded_from_record
from pipelines.step_payloads import journal_payloads
from runtime.flows import FlowRegistry
from runtime.messages import Message
from runtime.pollers import poll_event
from runtime.review_flow import guard_context, held_detail
from runtime.store import Store

__all__ = ["DeployedFlows", "YamlFlow", "deployed_flows", "flow_context", "register_yaml_flows",
           "systems_configured"]

log = logging.getLogger("presta_ax.flows")

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
        context["guard"] = await guard_context(store, message, self.name)  # anomaly history, a release
        record = msgspec.structs.asdict(message)
        # one run reads a shop object once until it writes (connectors/prestashop/read_memo.py)
        with read_memo():
            outcome = await run_flow(self.loaded, record, _StepCalls(self.operations, self.loaded, ctx), context,
                                     sync=store)
        # what each step produced, masked and capped: journaled with the attempt (the store takes
        # "step_payloads" out of the detail, or out of the error the worker records)
        payloads = journal_payloads(self.loaded, outcome.steps, outcome.outputs, also=PERSONAL_FIELDS)
        if outcome.status == "failed":
            if outcome.error is not None:
                outcome.error.step_payloads = payloads  # type: ignore[attr-defined]
                raise outcome.error
            reason = outcome.verdict.reason if outcome.verdict is not None else "no reason given"
            raise PermanentError(f"Flow {self.name}, step {outcome.failed_step}: the guard failed the record: "
                                 f"{reason}")
        detail: dict[str, Any] = {"status": outcome.status, "flow_version": self.loaded.version_id,
                                  "steps": [f"{s['id']}:{s['status']}" for s in outcome.steps]}
        if outcome.status == "skipped_echo":
            echo = outcome.results.get("echo") or {}
            side = "the shop" if echo.get("source") == "prestashop" else "AX"
            at = echo.get("written_at")
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(at)) if at else "an earlier run"
            detail["reason"] = (f"{side.capitalize() if side == 'the shop' else side}'s echo of our own write-back: "
                                f"the mapped content equals what the bridge wrote at {when}; nothing was written.")
            detail["echo_of"] = at
        elif outcome.status in ("held", "dropped"):
            detail["step"] = outcome.failed_step
            detail["reason"] = outcome.verdict.reason if outcome.verdict is not None else None
            if outcome.status == "held":
                detail.update(held_detail(outcome, self.loaded))  # for the review queue
        else:
            detail["results"] = {k: v for k, v in outcome.results.items() if isinstance(v, Mapping)}
        if payloads:
            detail["step_payloads"] = payloads
        return detail


def _routes_of(loaded: LoadedFlow) -> list[str]:
    events = []
    for trigger in loaded.spec.triggers:
        event = trigger.event if trigger.type == "webhook" else None
        if trigger.type == "poll" and trigger.source == "ax" and trigger.service:
            event = poll_event(trigger.service)  # what the AX poller journals for that service
        if event:
            events.append(event)
    return events


def register_yaml_flows(registry: FlowRegistry, settings: Any, store: Any = None,
                        operations: SystemOperations | None = None,
                        flows: Mapping[str, LoadedFlow] | None = None) -> list[str]:
    """Register every webhook-triggered and AX-poll-triggered YAML flow; returns ``["entity event -> flow", ...]``.

    ``flows`` are the flows to run (default: the flow folders' versions; the entity actors pass
    the deployed versions, see :class:`DeployedFlows`). Raises
    :class:`connectors.errors.ConfigError` when a flow file or a mapping it names is broken.
    """
    ops = operations or SystemOperations.from_settings(settings, store)
    added = []
    chosen = flows if flows is not None else YamlRegistry(list(settings.flow_dirs)).flows()
    for loaded in chosen.values():
        flow = YamlFlow(loaded, ops)
        for event in _routes_of(loaded):
            registry.register(loaded.spec.entity, event, flow)
            added.append(f"{loaded.spec.entity} {event} -> {loaded.name}")
    return added


def deployed_flows(store: Store, settings: Any,
                   cache: Mapping[str, LoadedFlow] | None = None) -> tuple[tuple[int, float], dict[str, LoadedFlow]]:
    """The flows to run: the version of each flow deployed now (``presta-ax flow deploy``), and,
    for a flow of the folders never deployed, the folder's version, recorded as deployed on the
    spot so that every run has a version. ``cache`` holds flows already built, by version id.

    Runs on the sync store (call it off the event loop). A deployed version that cannot be rebuilt
    (recorded before versions carried their content) falls back to the folder's flow of that
    name, with a warning in the log. Returns the deployments' stamp taken before reading them
    (:meth:`Store.flow_versions_stamp`: a deploy made meanwhile changes it again) and the flows.
    """
    on_disk = YamlRegistry(list(settings.flow_dirs)).flows()
    for name, loaded in on_disk.items():
        store.record_flow_version_if_none(name, loaded.version_id, json.dumps(loaded.record()))
    stamp = store.flow_versions_stamp()
    by_version = {f.version_id: f for f in (cache or {}).values()}
    out: dict[str, LoadedFlow] = {}
    for name, row in store.deployed_flows().items():
        if row["version"] in by_version:
            out[name] = by_version[row["version"]]
            continue
        try:
            out[name] = loaded_from_record(json.loads(row["content"]))
        except (ConfigError, ValueError) as exc:
            if name not in on_disk:
                log.warning("flow %s: the deployed version cannot run (%s) and no folder has it", name, exc)
                continue
            log.warning("flow %s: running the folder's version %s (%s)", name, on_disk[name].version_id, exc)
            out[name] = on_disk[name]
    return stamp, out


class DeployedFlows:
    """Keeps a runtime :class:`FlowRegistry` on the deployed flow versions (the refresher the
    entity actor installs with :meth:`FlowRegistry.set_refresher`).

    :meth:`refresh` is awaited by the worker before each message: at most every ``ttl_s`` it
    asks the store for :meth:`Store.flow_versions_stamp` (one small query, no Ray call); only
    when a deploy changed the stamp does it rebuild the YAML routes from the deployed versions
    (unchanged versions keep their compiled mappings). Python flow modules keep their routes
    (they come first). A failed refresh keeps the routes in force and tries again after ``ttl_s``.
    """

    def __init__(self, registry: FlowRegistry, settings: Any, store: Any, operations: SystemOperations | None = None,
                 ttl_s: float = 1.0) -> None:
        self.registry = registry
        self.settings = settings
        self.store = store
        self.operations = operations or SystemOperations.from_settings(settings, store)
        self.ttl_s = ttl_s
        self.flows: dict[str, LoadedFlow] = {}
        self._base = len(registry._routes)  # routes of the Python flow modules, registered before
        self._stamp: tuple[int, float] | None = None
        self._checked = 0.0

    def load(self) -> list[str]:
        """Build the routes now (synchronous: the actor's constructor calls it)."""
        self._stamp, self.flows = deployed_flows(getattr(self.store, "sync", self.store), self.settings, self.flows)
        self._checked = time.monotonic()
        return self._install()

    def _install(self) -> list[str]:
        routes = self.registry._routes
        del routes[self._base:]
        return register_yaml_flows(self.registry, self.settings, self.store, self.operations, self.flows)

    async def refresh(self) -> bool:
        """Pick up a new deploy if the TTL has passed; True when the routes were rebuilt."""
        now = time.monotonic()
        if now - self._checked < self.ttl_s:
            return False
        self._checked = now  # before awaiting: concurrent messages do not all ask
        try:
            stamp = await self.store.flow_versions_stamp()
            if stamp == self._stamp:
                return False
            loop = asyncio.get_running_loop()
            stamp, flows = await loop.run_in_executor(None, deployed_flows, getattr(self.store, "sync", self.store),
                                                      self.settings, self.flows)
        except Exception as exc:  # noqa: BLE001 - a broken deploy must not stop the running flows
            log.error("could not load the deployed flow versions, keeping the ones in force: %s", exc)
            return False
        self.flows, self._stamp = flows, stamp
        self._install()
        return True
