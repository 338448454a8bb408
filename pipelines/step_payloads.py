"""What each step of a real run produced, masked and size-capped, for the journal.

:func:`journal_payloads` turns the ``outputs`` of a :class:`pipelines.executor.FlowOutcome` into
rows the store keeps with the attempt (``runtime.store``, table ``message_payloads``) and the
message explorer shows: the record an extract step read, the document a map step made, the
answer of a load or write-back.

Contract:

* Nothing leaves unmasked: a map step's document is masked with its mapping's ``mask:`` marks,
  every payload with the names :mod:`pipelines.masking` knows as personal or secret, and with
  ``also`` (field names masked to ``"***"`` at any depth: the runtime passes the admin API's
  set, so the journal never holds what the console would hide).
* Each payload is JSON text of at most ``cap`` bytes (64 KiB by default); a longer one keeps
  its first ``cap`` bytes (cut on a character boundary, so no longer valid JSON) with
  ``truncated`` set and ``size`` the full length.
* Steps that produced nothing (validate, guard, skipped, not reached, failed) get no row.
* Never raises for a value it cannot encode: such a value is shown as its ``str``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from pipelines.masking import default_mask_for, mask_value
from pipelines.registry import LoadedFlow

__all__ = ["PAYLOAD_CAP", "journal_payloads", "masked_copy"]

#: bytes of JSON kept per step and attempt
PAYLOAD_CAP = 64 * 1024

_SCALARS = frozenset({str, int, float, bool, type(None)})

_encode = msgspec.json.Encoder(enc_hook=str, decimal_format="string").encode


def masked_copy(value: Any, masks: Mapping[str, str], also: frozenset[str] = frozenset(), prefix: str = "") -> Any:
    """A copy of ``value`` with personal fields masked (see the module docstring); one walk.

    ``masks`` maps dotted paths (list items share their list's path) to a mask kind of
    :mod:`pipelines.masking`; a field named in ``also`` becomes ``"***"`` whatever it holds
    (empty values stay empty: they say the field was not set, which is not personal)."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            name = str(key)
            if name in also:
                out[name] = item if item in (None, "") else "***"
                continue
            # paths only matter to a mapping's marks: an extracted record has none (runs on every message)
            path = (f"{prefix}.{name}" if prefix else name) if masks else ""
            kind = (masks.get(path) if masks else None) or default_mask_for(name)
            if type(item) in _SCALARS:
                out[name] = item if kind is None else mask_value(item, kind).strip("'")
            elif kind is not None and not isinstance(item, (Mapping, list, tuple)):
                out[name] = mask_value(item, kind).strip("'")
            else:
                out[name] = masked_copy(item, masks, also, path)
        return out
    if isinstance(value, (list, tuple)):
        inner = prefix + "[]" if masks else ""
        return [masked_copy(v, masks, also, inner) for v in value]
    return value


def journal_payloads(flow: LoadedFlow, steps: list[dict[str, Any]], outputs: Mapping[str, Any], *,
                     also: frozenset[str] = frozenset(), cap: int = PAYLOAD_CAP) -> list[dict[str, Any]]:
    """One row per step that produced something: ``{"step", "kind", "payload" (JSON text),
    "truncated", "size"}``, in step order. ``steps`` and ``outputs`` are the outcome's."""
    by_id = {s.id: s for s in flow.spec.steps}
    rows: list[dict[str, Any]] = []
    for entry in steps:
        sid = str(entry.get("id"))
        if sid not in outputs:
            continue
        step = by_id.get(sid)
        masks: Mapping[str, str] = {}
        if step is not None and step.kind == "map" and step.mapping:
            masks = flow.compiled(step.mapping).masks
        text = _encode(masked_copy(outputs[sid], masks, also))
        size = len(text)
        truncated = size > cap
        if truncated:
            text = text[:cap]
        rows.append({"step": sid, "kind": entry.get("kind"), "payload": text.decode("utf-8", "ignore"),
                     "truncated": truncated, "size": size})
    return rows
