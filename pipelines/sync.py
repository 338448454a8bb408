"""Per-record sync rules of a flow run: echo suppression, skip-unchanged writes, field conflicts.

The runtime passes a :class:`SyncStore` (its store) to :func:`pipelines.executor.run_flow`;
without one, none of this applies (test-runs, dry runs). Hashes are
:func:`pipelines.hashing.fingerprint`s of mapped documents. The state lives in the store's
``sync_state`` row of the record **as the side written names it** (``(entity, key)``, the key
that side's own messages carry: the shop customer id, the AX account), column ``ps_hash`` or
``ax_hash`` (+ the time it was written). Rules (docs/architecture.md, "Echo suppression"):

* **record** — every load / write-back of a mapped document records the hash of what it wrote
  (the document projected on the fields its mapping writes, without ``id`` and ``mask: full``
  fields such as passwords, which are never read back), under the written record's key;
* **skip unchanged** — before a write whose target key is known (in the document: ``id`` for
  PrestaShop, the key field of the flow's mapping that reads that AX record), a document whose
  hash equals the stored hash of that side is not written (the step is ``unchanged``);
* **source content** — a message from side S whose flow also writes to S (a two-way flow: it
  has an extract of S and a load to S of the same resource): once the S record is extracted, its
  projection on the fields the flow writes to S is hashed and becomes the S hash (what S holds,
  ``written=False``: no write time) unless it equals the stored one;
* **by source** — a write whose document does not name its target (a sales order created by
  the shop's order reference, an order history row, a cancellation) and that is not the flow's
  primary write is also recorded under the key of the *source* record it was made for
  (:func:`source_key`: ``<source system>:<message key>``), with that record's version;
* **echo** — a message from side S ends ``skipped_echo`` (nothing is written anywhere) when
  S holds the bridge's own write for this record and either S's record is all the flow writes
  to S (its only write to S is the primary one: AX in ``customer_sync``) — then the message is
  that write coming back and no write of the run is made (step status ``echo``), whatever the
  mapping back would make of it: a round trip through a mapping is not always the identity (a
  lookup's default, a many-to-one table: the shop's ``id_lang`` ``0`` goes to AX as its default
  language and would come back as ``1``), and writing it back would change the side the
  content came from — or every write of the run that applies is skipped as unchanged (the
  targets hold the mapped content already; needed when the flow writes S through other
  records too, e.g. the shop's addresses, whose changes S's record does not show):

  - two-way flows (a primary write to S): the S hash above equals the stored one *and* the
    stored one is of the bridge's own write (it has a write time);
  - other flows (S is written only by write-backs, e.g. the order flow's ``order_histories``
    row): a write of the flow to S for this record (by source) carries a write time and was
    made for an older version of the record than the message's; in such a run, writes that
    name no target are compared by source too. The first message that finds it is the echo: it
    marks the write answered (the hash stays, its write time is cleared), so a repeat is no echo.

  Every write skipped without such a bridge write behind it is simply ``done`` (a repeated
  notification: nothing new);
* **conflicts** — before a write to T of a record the bridge synced before (a T hash exists),
  when the flow can read T's record and T's version (``date_upd``, ``RecVersion``,
  ``ModifiedDateTime``) differs from the version last seen from T, or its content in the fields
  the flow writes differs from the stored T hash (versions of one-second resolution do not
  always move), both sides changed since the last sync: each field of the mapping whose two values differ is logged with the winner. The
  winner is the field's owner (:func:`field_owner`: the rule's ``owner:``, else the flow's
  ``owners:`` entry, else the flow's ``owner:``); a field T owns is then left out of the write
  (T keeps its value); a field nobody owns takes the value of the change being processed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from pipelines.hashing import canonical, fingerprint, same_value
from pipelines.registry import LoadedFlow
from pipelines.specs import FieldRule, FlowSpec, MappingSpec

__all__ = ["SidePlan", "SyncStore", "conflict_entries", "field_owner", "owned_by", "record_version", "side_plans",
           "source_key", "written_shape"]

#: fields an AX write result may name the written record by
_AX_RESULT_KEYS = ("AccountNum", "SalesId", "ItemId", "PackingSlipId", "InvoiceId", "RecId")
_VERSION_FIELDS = {"prestashop": ("date_upd",), "ax": ("RecVersion", "ModifiedDateTime")}


class SyncStore(Protocol):
    """The part of the runtime store the sync rules use (awaitable)."""

    async def get_sync_state(self, entity: str, key: str) -> dict[str, Any] | None: ...

    async def put_sync_state(self, entity: str, key: str, *, source_version: str | None = None,
                             ps_hash: str | None = None, ax_hash: str | None = None,
                             written: bool = True) -> bool: ...

    async def add_conflicts(self, entries: list[dict[str, Any]]) -> int: ...


@dataclass(frozen=True)
class SidePlan:
    """How one load step of a flow writes a side: ``system`` written, the step, the mapping
    producing its document, the ``shape`` hashed, where the target key is in the document, and
    (``primary``) whether it writes the record the flow's extract of that side reads, with that
    extract's ``read_operation``/``read_include`` (echo and conflict checks need it)."""

    system: str
    step: str
    mapping: str
    shape: dict[str, Any]
    key_field: str | None
    primary: bool
    read_operation: str | None = None
    read_include: tuple[str, ...] = ()
    rules: dict[str, FieldRule] = field(default_factory=dict)


def written_shape(spec: MappingSpec) -> dict[str, Any]:
    """The nested field names a mapping writes in its direction (owner filter applied), without
    ``id`` and fully masked fields; child lists as one-item lists of their shape."""

    def level(fields: dict[str, FieldRule], children: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, rule in fields.items():
            if rule.owner not in ("both", spec.source.system) or name == "id" or rule.mask == "full":
                continue
            node = out
            *parents, leaf = name.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = None
        for name, child in children.items():
            node = out
            *parents, leaf = name.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[leaf] = [level(child.fields, child.children)]
        return out

    return level(spec.fields, spec.children)


def side_plans(flow: LoadedFlow) -> dict[str, SidePlan]:
    """The load steps of ``flow`` that write a mapped document, by step id (cached on the flow)."""
    cached = flow.__dict__.get("_side_plans")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    steps = flow.spec.steps
    extracts = {s.system: s for s in steps if s.kind == "extract"}
    producers = {s.output: s.mapping for s in steps if s.kind == "map" and s.output and s.mapping}
    plans: dict[str, SidePlan] = {}
    for s in steps:
        if s.kind not in ("load", "write-back") or s.system is None:
            continue
        mapping_name = producers.get((s.input or "record").split(".")[0])
        if mapping_name is None or mapping_name not in flow.mappings:
            continue
        spec = flow.mappings[mapping_name]
        reader = extracts.get(s.system)
        target = spec.target.resource or spec.target.service
        primary = reader is not None and reader.operation is not None and target == reader.operation.split(".")[0]
        # the key of the written record: PrestaShop's id, or the key of the mapping reading that AX record
        key_field = "id" if s.system == "prestashop" else next(
            (flow.mappings[m].key for m in producers.values()
             if m in flow.mappings and flow.mappings[m].source.system == s.system), None)
        plans[s.id] = SidePlan(s.system, s.id, mapping_name, written_shape(spec), key_field, primary,
                               reader.operation if primary and reader else None,
                               tuple(reader.include) if primary and reader else (), dict(spec.fields))
    flow.__dict__["_side_plans"] = plans
    return plans


def echo_plan(flow: LoadedFlow, source: str) -> SidePlan | None:
    """The primary write of ``flow`` to the side ``source`` (what an echo from it would hold)."""
    return next((p for p in side_plans(flow).values() if p.primary and p.system == source), None)


def record_version(system: str, record: Any) -> str | None:
    """The record's own version as its system states it (``date_upd``, ``RecVersion``...)."""
    if not isinstance(record, Mapping):
        return None
    for name in _VERSION_FIELDS.get(system, ()):
        if record.get(name) not in (None, ""):
            return str(record[name])
    return None


def target_key(plan: SidePlan, document: Any, result: Any = None) -> str | None:
    """The key of the record a write targets: from the document, else from the write's result."""
    for source in (document, result):
        if not isinstance(source, Mapping):
            continue
        names = [plan.key_field] if plan.key_field else []
        names += ["id"] if plan.system == "prestashop" else list(_AX_RESULT_KEYS)
        for name in names:
            value = source.get(name) if name else None
            if value not in (None, ""):
                return str(value)
    return None


def source_key(plan: SidePlan, source: str, key: Any) -> str | None:
    """The key a write is recorded under when its document does not name its target: the
    source record's, ``<source system>:<message key>`` (the system prefix keeps it apart from
    the keys the written side gives its records). None for the flow's primary writes (they name
    their record) and for messages without a key."""
    if plan.primary or key in (None, "") or not source:
        return None
    return f"{source}:{key}"


def state_entity(flow: LoadedFlow, plan: SidePlan) -> str:
    """The ``sync_state`` entity of a write: the flow's entity for the primary record, the flow's
    entity and step for others (an address and a customer may share a number)."""
    return flow.spec.entity if plan.primary else f"{flow.spec.entity}/{plan.step}"


def _path(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def field_owner(rule: FieldRule, name: str, spec: FlowSpec) -> str | None:
    """Who wins field ``name`` in a conflict: the rule's own ``owner``, else the flow's ``owners``
    entry, else the flow's ``owner``; None: nobody (the change processed last wins)."""
    if rule.owner != "both":
        return rule.owner
    return spec.owners.get(name) or spec.owner


def conflict_entries(plan: SidePlan, source: str, full_document: Mapping[str, Any], target_record: Mapping[str, Any],
                     *, entity: str, key: str, flow: str, message_id: str | None,
                     source_version: str | None, spec: FlowSpec | None = None) -> list[dict[str, Any]]:
    """One conflict entry per field of the mapping whose value from ``source`` (``full_document``:
    the mapping run with no owner filter) differs from the target's (``target_record``).
    ``key`` names the record as the side written names it."""
    target = plan.system
    out = []
    for name, rule in plan.rules.items():
        if name == "id" or rule.mask == "full" or name == plan.key_field:
            continue
        mine, theirs = _path(full_document, name), _path(target_record, name)
        if canonical(mine) is None or same_value(mine, theirs):
            continue
        owner = field_owner(rule, name, spec) if spec is not None else (None if rule.owner == "both" else rule.owner)
        if owner == source:
            winner, why = source, f"owner: {source} (the field's owner wins)"
        elif owner == target:
            winner, why = target, f"owner: {target} (the field's owner wins; never written from {source})"
        else:
            winner, why = source, "no owner: the change processed last wins"
        values = {source: mine, target: theirs}
        versions = {source: source_version, target: record_version(target, target_record)}
        out.append({"entity": entity, "key": key, "flow": flow, "message_id": message_id, "field": name,
                    "winner": winner, "rule": why, "ps_value": values.get("prestashop"),
                    "ax_value": values.get("ax"), "ps_version": versions.get("prestashop"),
                    "ax_version": versions.get("ax")})
    return out


def owned_by(spec: FlowSpec, plan: SidePlan, system: str) -> list[str]:
    """The fields of ``plan``'s mapping that ``system`` owns in conflicts (see :func:`field_owner`)."""
    return [n for n, r in plan.rules.items() if field_owner(r, n, spec) == system]


def document_hash(plan: SidePlan, document: Any) -> str:
    """The hash recorded for (and compared with) a write of ``document`` by ``plan``."""
    return fingerprint(document, plan.shape)
