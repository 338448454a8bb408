"""Test-run a flow on a sample record without touching any system.

``run_flow_test(flow, sample)`` runs the flow's ``map``, ``validate`` and ``guard`` steps in
order and reports each step: its output (map), problems (validate), verdict (guard), or
``skipped`` for the steps that would call a system (``extract``, ``load``, ``write-back``).
The sample stands for what the extract step would have produced. It is either the record
itself, or ``{"record": {...}, "context": {...}, "message": {...}}`` where ``context`` holds
facts the runtime would supply (e.g. ``ax_customer_account`` from cross-references) and
``message`` the triggering message (``source``, ``event``...), seen as ``context.message``.

The result is JSON-safe (decimals as text) and, by default, masks sensitive fields, because
the console and the CLI show it. It never raises for a problem of the *record* (a missing field
that arithmetic needs, a division by zero: the step is ``failed`` with the error); a problem
of the *flow* (file not found, invalid spec) raises ConfigError.

Every default flow ships a sample next to it, ``pipelines/flows/samples/<flow>.json`` (a
realistic record with made-up people); :func:`sample_path` finds the sample of a flow in the
``samples/`` folder beside its file, and :func:`load_sample` reads one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

from connectors.errors import BridgeError, ConfigError
from pipelines.registry import LoadedFlow, load_flow_bundle
from pipelines.specs import FlowSpec
from pipelines.steps import run_guard, run_map, run_validate, step_applies

__all__ = ["jsonable", "load_sample", "run_flow_test", "sample_path", "split_sample"]


def jsonable(value: Any) -> Any:
    """Decimals as plain text, tuples as lists; everything else as it is."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def sample_path(flow: LoadedFlow | FlowSpec) -> Path | None:
    """The sample shipped with ``flow`` (``samples/<flow>.json`` beside the flow file), or None."""
    spec = flow.spec if isinstance(flow, LoadedFlow) else flow
    if not spec.file or spec.file == "<memory>":
        return None
    path = Path(spec.file).parent / "samples" / f"{spec.flow}.json"
    return path if path.is_file() else None


def load_sample(path: Path) -> dict[str, Any]:
    """A sample read from a JSON file; raises ConfigError saying why it cannot be used."""
    try:
        sample = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"The sample {path} cannot be read as JSON: {exc}.") from None
    if not isinstance(sample, dict):
        raise ConfigError(
            f"The sample {path} must be a JSON object: the record, or {{record, context, message}}."
        )
    return sample


def split_sample(sample: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(record, context) from a sample; the message, if any, goes into ``context['message']``."""
    if "record" in sample and isinstance(sample["record"], Mapping):
        context = dict(sample.get("context") or {})
        if "message" in sample:
            context["message"] = sample["message"]
        return dict(sample["record"]), context
    return dict(sample), {}


def run_flow_test(
    flow_path_or_spec: str | Path | FlowSpec | LoadedFlow,
    sample: Mapping[str, Any],
    *,
    search: list[Path] | None = None,
    masked: bool = True,
) -> dict[str, Any]:
    """Run the system-free steps of a flow on ``sample``; see the module docstring.

    Returns ``{"flow", "version_id", "ok", "outcome", "steps": [{"id", "kind", "status", ...}]}``
    where status is ``ok``, ``skipped``, ``failed``, ``held``, ``dropped`` or ``not_reached``.
    """
    if isinstance(flow_path_or_spec, LoadedFlow):
        flow = flow_path_or_spec
    elif isinstance(flow_path_or_spec, FlowSpec):
        flow = load_flow_bundle(flow_path_or_spec, search)
    else:
        flow = load_flow_bundle(Path(flow_path_or_spec), search)
    record, context = split_sample(sample)
    state: dict[str, Any] = {"record": record}
    steps: list[dict[str, Any]] = []
    outcome = "passed"
    stopped = False
    for step in flow.spec.steps:
        entry: dict[str, Any] = {"id": step.id, "kind": step.kind}
        steps.append(entry)
        if stopped:
            entry["status"] = "not_reached"
            continue
        try:
            if not step_applies(step, state, context):
                reason = f"its condition is false: {step.when}" if step.when else "its input was not produced"
                entry.update(status="skipped", reason=reason)
                continue
            if step.kind in ("extract", "load", "write-back"):
                entry.update(
                    status="skipped",
                    reason=f"calls {step.system} ({step.operation}); a test-run touches no system",
                )
                if step.kind == "extract":
                    entry["output"] = _show(flow, None, record, masked)
                elif step.input:
                    entry["would_send"] = step.input
                continue
            if step.kind == "map":
                doc = run_map(flow, step, state, context)
                entry.update(status="ok", output=_show(flow, step.mapping, doc, masked), mapping=step.mapping)
            elif step.kind == "validate":
                run_validate(flow, step, state, context)
                entry.update(status="ok", checked=[n for n in step.inputs if n in state])
            elif step.kind == "guard":
                verdict = run_guard(step, state, context)
                if verdict is None:
                    entry.update(status="ok")
                else:
                    entry.update(
                        status={"hold": "held", "drop": "dropped", "fail": "failed"}[verdict.action],
                        verdict=verdict.to_dict(),
                    )
                    outcome = entry["status"]
                    stopped = True
        except BridgeError as exc:
            entry.update(status="failed", error=exc.to_dict())
            outcome = "failed"
            stopped = True
    return {
        "flow": flow.name,
        "version_id": flow.version_id,
        "ok": outcome == "passed",
        "outcome": outcome,
        "steps": steps,
    }


def _show(flow: LoadedFlow, mapping: str | None, doc: Any, masked: bool) -> Any:
    if masked and mapping is not None:
        doc = flow.compiled(mapping).mask(doc)
    elif masked:
        from pipelines.masking import mask_record

        doc = mask_record(doc, {})
    return jsonable(doc)
