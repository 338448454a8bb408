"""Several declarative flows subscribed to one event: all of them run, one after the other.

:meth:`runtime.flows.FlowRegistry.resolve` returns a :class:`FlowGroup` when more than one
declarative flow (a flow with a ``loaded`` flow spec, :class:`runtime.yaml_flows.YamlFlow`)
subscribes exactly the same ``(entity, event)`` and no Python flow comes first: e.g.
``order.updated`` runs ``ps_order_to_ax`` (an order change, or the shop's echo of our own
write-back) and ``ps_order_cancel_to_ax`` (a move to Canceled), each deciding with its own guard.

Contract of :meth:`FlowGroup.run`:

* the flows run in registration order, each with the same message; an exception of one stops
  the group and propagates unchanged (the worker retries or dead-letters the message, and a
  retry runs every flow again: flows are idempotent);
* the detail is ``{"status", "flows": {name: detail}, ...}``: ``skipped_echo`` when at least one
  flow recognised the bridge's own write coming back and every other one dropped the record or
  said ``skipped_echo`` too (nothing was written anywhere; ``reason``/``echo_of`` are the echo's),
  the common status when all agree, else ``done``;
* ``name`` joins the flow names with ``+``, ``version_id`` their versions (``name=version``).
"""

from __future__ import annotations

from typing import Any

from runtime.messages import Message

__all__ = ["FlowGroup"]

_QUIET = ("skipped_echo", "dropped")


class FlowGroup:
    """The flows of one event, run in order (see the module docstring)."""

    def __init__(self, flows: list[Any]) -> None:
        self.flows = list(flows)
        self.name = "+".join(f.name for f in self.flows)

    def __repr__(self) -> str:
        return f"FlowGroup({self.name!r})"

    @property
    def version_id(self) -> str | None:
        versions = [(f.name, getattr(getattr(f, "loaded", None), "version_id", None)) for f in self.flows]
        return ";".join(f"{n}={v}" for n, v in versions if v) or None

    async def run(self, ctx: Any, message: Message) -> dict[str, Any]:
        details: dict[str, Any] = {}
        payloads: list[dict[str, Any]] = []  # each member's step payloads, named "<flow>:<step>"
        for flow in self.flows:
            result = await flow.run(ctx, message)
            details[flow.name] = result if isinstance(result, dict) else {"status": "done", "result": result}
            payloads += [{**p, "step": f"{flow.name}:{p['step']}"} for p in details[flow.name].pop("step_payloads", ())]
        statuses = [str(d.get("status") or "done") for d in details.values()]
        echo = next((d for d in details.values() if d.get("status") == "skipped_echo"), None)
        out: dict[str, Any] = {"flows": details}
        if echo is not None and all(s in _QUIET for s in statuses):
            out.update(status="skipped_echo", reason=echo.get("reason"), echo_of=echo.get("echo_of"))
        elif len(set(statuses)) == 1:
            out["status"] = statuses[0]
        else:
            out["status"] = "done"
        if self.version_id:
            out["flow_version"] = self.version_id
        if payloads:
            out["step_payloads"] = payloads
        return out
