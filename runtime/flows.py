"""The flow registry: which flow handles which ``(entity, event)``.

A flow, as the runtime sees it, is an object with a ``name`` and an async ``run(ctx, message)``.
Declarative YAML flows (``pipelines``) and Python flows both register here. A flow module is any
importable module with a ``register(registry)`` function; the runtime loads the modules named in
the configuration's ``flows`` list in every process that runs flows (each entity actor), so
registration never needs to cross a process boundary.

A flow may define ``version_of(message) -> str | None`` to give the record's source version
(default: ``message.source_version``); the worker uses it to drop updates older than the newest
one already applied.
"""

from __future__ import annotations

import fnmatch
import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from connectors.errors import ConfigError, PermanentError
from runtime.flow_group import FlowGroup
from runtime.messages import Message

__all__ = ["Flow", "FlowRegistry", "FunctionFlow", "NoFlowError"]


class Flow(Protocol):
    name: str

    async def run(self, ctx: Any, message: Message) -> Any: ...


class NoFlowError(PermanentError):
    """No flow is registered for a message's entity and event.

    ``echo`` is True when the event is, by all the runtime can tell, the shop's echo of the
    bridge's own write-back: an ``<entity>.updated`` event from PrestaShop about an entity that a
    flow does handle (so the bridge writes to that record: e.g. the order state it sets after
    creating the AX sales order), while no flow handles its updates.

    The message (:meth:`explain`) depends on what the worker does with such a message
    (``limits.unhandled_events``) and offers only actions that work there: a finished (skipped)
    message cannot be replayed, a dead one can.
    """

    def __init__(self, entity: str, event: str, *, echo: bool = False, unhandled: str = "dead",
                 message_id: str | None = None) -> None:
        self.entity = entity
        self.event = event
        self.echo = echo
        super().__init__(self.explain(unhandled, message_id))

    def explain(self, unhandled: str, message_id: str | None = None) -> str:
        """The sentence for the message's timeline: ``unhandled`` is ``skip`` (the message was
        finished without effect) or ``dead`` (it is in the dead-letter queue)."""
        what = f"{self.entity} {self.event}"
        mid = message_id or "<message id>"
        if unhandled == "skip":
            if self.echo:
                return (f"The shop's echo of our own write-back: flows handle {self.entity} events, but no deployed "
                        f"flow handles {what}; it was finished without effect. Nothing to do.")
            return (f"No deployed flow handles {what}; it was finished without effect. To act on such events, "
                    f"deploy a flow for {self.event} and have the source send the event again; with "
                    "limits.unhandled_events: dead they go to the dead-letter queue instead, and can be "
                    "replayed once a flow is deployed.")
        if self.echo:
            return (f"The shop's echo of our own write-back: flows handle {self.entity} events, but no deployed "
                    f"flow handles {what} (limits.unhandled_events: dead). Discard it (presta-ax dlq discard "
                    f"{mid}), or deploy a flow for {self.event} and replay it (presta-ax dlq replay {mid}).")
        return (f"No deployed flow handles {what} (limits.unhandled_events: dead). Deploy a flow for "
                f"{self.event}, then replay the message (presta-ax dlq replay {mid}), or discard it "
                f"(presta-ax dlq discard {mid}).")


@dataclass
class FunctionFlow:
    """Adapts an ``async def handler(ctx, message)`` into a flow."""

    name: str
    handler: Callable[[Any, Message], Awaitable[Any]]
    version: Callable[[Message], str | None] | None = None

    async def run(self, ctx: Any, message: Message) -> Any:
        return await self.handler(ctx, message)

    def version_of(self, message: Message) -> str | None:
        return self.version(message) if self.version else message.source_version


class FlowRegistry:
    """Maps ``(entity, event pattern)`` to a flow. Patterns may use ``*`` (``order.*``)."""

    def __init__(self) -> None:
        self._routes: list[tuple[str, str, Any]] = []
        self._refresher: Callable[[], Awaitable[bool]] | None = None

    def set_refresher(self, refresh: Callable[[], Awaitable[bool]]) -> None:
        """Install what :meth:`refresh` awaits (the runtime's deployed-version check)."""
        self._refresher = refresh

    async def refresh(self) -> bool:
        """Bring the routes up to date (e.g. with a new deploy) before a message is resolved;
        cheap when nothing changed. True when the routes changed."""
        return await self._refresher() if self._refresher is not None else False

    def register(self, entity: str, event: str, flow: Any) -> None:
        if not hasattr(flow, "run") or not hasattr(flow, "name"):
            raise TypeError("A flow needs a 'name' and an async 'run(ctx, message)'.")
        self._routes.append((entity, event, flow))

    def handler(self, entity: str, event: str, name: str | None = None,
                version: Callable[[Message], str | None] | None = None) -> Callable[..., Any]:
        """Decorator form: ``@registry.handler("order", "order.*")`` on an ``async def``."""
        def wrap(fn: Callable[[Any, Message], Awaitable[Any]]) -> Callable[[Any, Message], Awaitable[Any]]:
            self.register(entity, event, FunctionFlow(name or fn.__name__, fn, version))
            return fn
        return wrap

    def resolve(self, entity: str, event: str) -> Any:
        """The flow for a message; the most specific (exact before wildcard, first registered wins).
        When the first exact route is a declarative flow and other declarative flows subscribe the
        same event, they all run: a :class:`runtime.flow_group.FlowGroup` of them, in order."""
        exact = [f for e, ev, f in self._routes if e == entity and ev == event]
        if exact:
            declarative = [f for f in exact if hasattr(f, "loaded")]
            if len(declarative) > 1 and exact[0] is declarative[0]:
                return FlowGroup(declarative)
            return exact[0]
        for e, ev, f in self._routes:
            if e == entity and fnmatch.fnmatchcase(event, ev):
                return f
        raise NoFlowError(entity, event, echo=self._looks_like_echo(entity, event))

    def _looks_like_echo(self, entity: str, event: str) -> bool:
        """An update of an entity some flow handles: the bridge writes to such records, and
        PrestaShop announces the bridge's own writes as ``<entity>.updated`` (see NoFlowError)."""
        return event == f"{entity}.updated" and any(e == entity for e, _, _ in self._routes)

    def routes(self) -> list[dict[str, str]]:
        return [{"entity": e, "event": ev, "flow": f.name} for e, ev, f in self._routes]

    @classmethod
    def from_modules(cls, modules: Iterable[str]) -> FlowRegistry:
        """Import each module and call its ``register(registry)``; errors name the module."""
        reg = cls()
        problems = []
        for name in modules:
            try:
                mod = importlib.import_module(name)
            except ImportError as exc:
                problems.append(f"flows: cannot import flow module '{name}': {exc}")
                continue
            fn = getattr(mod, "register", None)
            if not callable(fn):
                problems.append(f"flows: module '{name}' has no register(registry) function")
                continue
            fn(reg)
        if problems:
            raise ConfigError("Some flow modules could not be loaded:\n  " + "\n  ".join(problems), problems)
        return reg
