"""The eight AIF document operations over the sandbox's stores.

Contract: :func:`run` takes the schema-valid body wrapper of one request and returns the
response wrapper element, or raises :class:`AxFault`. Semantics follow the reference:
create returns one EntityKey per top-level record; read/update/delete of an unknown key
fail with "No valid document identified from the entity key."; update needs the
``_DocumentHash`` of a prior read (or RecId+RecVersion on every record), replaces the
document when the top record has no ``action`` (or ``replace``) and patches it with
``action="update"``; a ``SalesLine`` whose ``RemainSalesPhysical`` is set to 0 is cancelled
(AX's "Deliver remainder" cancel, :mod:`.cancel`), refused once the order is delivered;
find/findKeys evaluate QueryCriteria; getKeys/getChangedKeys page with opaque bookmarks and
report ``ChangedDateTimeOutOfRange`` for cursors older than the change-tracking retention.
"""

from __future__ import annotations

import base64
import fnmatch
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from lxml import etree

from ..wsdl import NS, ServiceSpec, wrapper_name
from . import cancel, rules
from .config import SandboxConfig
from .entity import Entity, document_hash, parse_document, render_document, walk
from .faults import AxFault
from .merge import merge
from .model import Company, DocStore, World, norm_key
from .schemas import DocumentIndex

__all__ = ["Call", "run"]

NOT_FOUND = "No valid document identified from the entity key."
HASH_MISMATCH = ("The document hash does not match the hash in the XML. The document may have been changed "
                 "since last read")
_EKL, _EK, _QC, _PG, _KP = (f"{{{NS[k]}}}" for k in ("ekl", "ek", "qc", "paging", "keypage"))


class Call:
    """Everything one operation needs."""

    def __init__(self, world: World, company: Company, config: SandboxConfig, spec: ServiceSpec,
                 index: DocumentIndex) -> None:
        self.world, self.company, self.config, self.spec, self.index = world, company, config, spec, index
        self.store: DocStore = company.store(spec.name)


def _keys_from(ekl: etree._Element | None, spec: ServiceSpec) -> list[tuple[str, ...]]:
    keys = []
    for ek in [] if ekl is None else ekl.iter(_EK + "EntityKey"):
        fields = {kf.findtext(_EK + "Field", "").strip().lower(): kf.findtext(_EK + "Value", "")
                  for kf in ek.iter(_EK + "KeyField")}
        if any(f.lower() not in fields for f in spec.key_fields):
            raise AxFault([NOT_FOUND])
        keys.append(tuple(fields[f.lower()] for f in spec.key_fields))
    return keys


def _key_list(parent: etree._Element, spec: ServiceSpec, keys: list[tuple[str, ...]]) -> None:
    ekl = etree.SubElement(parent, _EKL + "EntityKeyList", nsmap={None: NS["ekl"]})
    for key in keys:
        ek = etree.SubElement(ekl, _EK + "EntityKey", nsmap={None: NS["ek"]})
        data = etree.SubElement(ek, _EK + "KeyData")
        for name, value in zip(spec.key_fields, key, strict=True):
            kf = etree.SubElement(data, _EK + "KeyField")
            etree.SubElement(kf, _EK + "Field").text = name
            etree.SubElement(kf, _EK + "Value").text = value


def _document_of(call: Call, wrapper: etree._Element) -> tuple[list[Entity], etree._Element]:
    doc_el = wrapper.find(f"{{{call.index.namespace}}}{call.spec.document}")
    if doc_el is None:
        raise AxFault([f"The request does not contain a {call.spec.document} document."])  # [I]
    return parse_document(doc_el, call.index)[1], doc_el


def _lookup(call: Call, key: tuple[str, ...]) -> Entity:
    found = call.store.get(key)
    if found is None:
        raise AxFault([NOT_FOUND])
    return found


def op_create(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    entities, _ = _document_of(call, wrapper)
    rule = rules.CREATE_RULES[call.spec.name]
    keys = [call.world.put(call.store, rule(call.world, call.company, top)) for top in entities]
    _key_list(out, call.spec, keys)


def op_read(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    entities = [_lookup(call, key) for key in _keys_from(wrapper.find(_EKL + "EntityKeyList"), call.spec)]
    render_document(out, call.spec.document, call.index, entities, call.company.id)


def _check_concurrency(current: Entity, sent: Entity) -> None:
    sent_hash = sent.get("_DocumentHash").strip()
    if sent_hash:
        if sent_hash.lower() != document_hash(current):
            raise AxFault([HASH_MISMATCH])
        return
    known = {e.rec_id: e for e in walk(current)}
    records = list(walk(sent))
    if not all(e.get("RecId") and e.get("RecVersion") for e in records if e.action != "create"):
        raise AxFault(["The document hash or the RecId and RecVersion of every record must be sent to update "
                       "a document. Read the document first."])  # [I]
    for e in records:
        if e.action == "create" or not e.get("RecId"):
            continue
        cur = known.get(int(e.get("RecId") or 0))
        if cur is None or str(cur.rec_version) != e.get("RecVersion"):
            raise AxFault([f"Cannot edit a record in {e.source}. An update conflict occurred due to another user "
                           "process deleting the record or changing one or more fields in the record."],
                          xpp_type=11)


def op_update(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    keys = _keys_from(wrapper.find(_EKL + "EntityKeyList"), call.spec)
    entities, doc_el = _document_of(call, wrapper)
    if len(keys) != len(entities):
        raise AxFault([f"The number of entity keys ({len(keys)}) does not match the number of "
                       f"{call.index.root_entity} records ({len(entities)}) in the document."])  # [I]
    clear_nil = (doc_el.findtext(f"{{{call.index.namespace}}}ClearNilFieldsOnUpdate") or "").strip() == "true"
    for key, sent in zip(keys, entities, strict=True):
        current = _lookup(call, key)
        _check_concurrency(current, sent)
        # lines whose "Deliver remainder" the message sets to 0: the way AX cancels (cancel.py)
        canceling = (cancel.remainder_requests(current, sent, f"/{call.spec.document}")
                     if call.spec.name == "SalesOrderService" else [])
        rules.before_update(call.world, call.company, call.spec.name, current, canceling)
        snapshot = current.clone()  # after the release of reservations, so a rollback re-reserves
        for name in call.spec.key_fields:  # primary key fields never change (a different value is refused)
            if name in current.fields and not sent.get(name).strip():
                sent.fields[name] = current.fields[name]
        try:
            merge(call.world, current, sent, call.index, partial=sent.action == "update", clear_nil=clear_nil,
                  xpath=f"/{call.spec.document}")
            rules.after_update(call.world, call.company, call.spec.name, current, canceling)
        except AxFault:
            # AX runs the update in one transaction: put the document (and its reservations) back
            call.store.docs[norm_key(key)] = snapshot
            rules.after_update(call.world, call.company, call.spec.name, snapshot)
            raise
        call.world.stamp(current)
        call.world.bump(current)
        call.world.touch(call.store, current)


def op_delete(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    for key in _keys_from(wrapper.find(_EKL + "EntityKeyList"), call.spec):
        current = _lookup(call, key)
        rules.before_delete(call.world, call.company, call.spec.name, current)
        call.world.remove(call.store, call.store.key_of(current))


def _criteria(call: Call, wrapper: etree._Element) -> list[tuple[str, str, str, str, str]]:
    out = []
    for ce in wrapper.iter(_QC + "CriteriaElement"):
        ds, name = ce.findtext(_QC + "DataSourceName", "").strip(), ce.findtext(_QC + "FieldName", "").strip()
        types = call.index.sources.get(ds)
        if types is None:
            raise AxFault([f"Data source {ds} is not part of the query of document {call.spec.document}."])  # [I]
        if name not in ("RecId", "RecVersion") and not any(name in call.index.types[t].field_map for t in types):
            raise AxFault([f"Field {name} does not exist in data source {ds}."])  # [I]
        out.append((ds, name, ce.findtext(_QC + "Operator", ""), ce.findtext(_QC + "Value1", ""),
                    ce.findtext(_QC + "Value2", "") or ""))
    return out


def _compare(value: str, op: str, v1: str, v2: str) -> bool:
    try:
        a, b1 = Decimal(value or "0"), Decimal(v1)
        b2 = Decimal(v2) if v2 else b1
        numeric = True
    except InvalidOperation:
        numeric = False
    if not numeric:  # SQL collation: case-insensitive; '*' and '?' are wildcards in AX ranges
        a, b1, b2 = value.lower(), v1.lower(), v2.lower()  # type: ignore[assignment]
        if op in ("Equal", "NotEqual") and ("*" in v1 or "?" in v1):
            hit = fnmatch.fnmatchcase(value.lower(), v1.lower())
            return hit if op == "Equal" else not hit
    return {
        "Equal": a == b1, "NotEqual": a != b1, "Greater": a > b1, "GreaterOrEqual": a >= b1,
        "Less": a < b1, "LessOrEqual": a <= b1, "Range": b1 <= a <= b2,
    }[op]


def _matches(doc: Entity, criteria: list[tuple[str, str, str, str, str]], mode: str) -> bool:
    def hit(c: tuple[str, str, str, str, str]) -> bool:
        ds, name, op, v1, v2 = c
        for e in walk(doc):
            if e.source != ds:
                continue
            value = str(e.rec_id) if name == "RecId" else e.get(name)
            if _compare(value, op, v1, v2):
                return True
        return False

    if mode == "or":
        return any(hit(c) for c in criteria)
    groups: dict[tuple[str, str], list[tuple[str, str, str, str, str]]] = {}
    for c in criteria:
        groups.setdefault((c[0], c[1]), []).append(c)
    return all(any(hit(c) for c in group) for group in groups.values())


def _found(call: Call, wrapper: etree._Element) -> list[Entity]:
    criteria = _criteria(call, wrapper)
    docs = sorted(call.store.docs.items())
    return [doc for _, doc in docs if _matches(doc, criteria, call.config.criteria_mode)]


def op_find(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    render_document(out, call.spec.document, call.index, _found(call, wrapper), call.company.id)


def op_find_keys(call: Call, wrapper: etree._Element, out: etree._Element) -> None:
    _key_list(out, call.spec, [call.store.key_of(d) for d in _found(call, wrapper)])


def _bookmark(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _unbookmark(text: str, kind: str) -> list[str]:
    try:
        parts = base64.urlsafe_b64decode(text.encode()).decode().split("\x1f")
    except (ValueError, UnicodeDecodeError):
        parts = []
    if not parts or parts[0] != kind:
        raise AxFault([f"The bookmark '{text[:40]}' is not valid for this operation."])  # [I]
    return parts[1:]


def _page(call: Call, wrapper: etree._Element, out: etree._Element, changed: bool) -> None:
    paging = wrapper.find(_PG + "DocumentPaging")
    bookmark = (paging.findtext(_PG + "Bookmark") if paging is not None else None) or ""
    size_text = (paging.findtext(_PG + "PageSize") if paging is not None else None) or ""
    size = int(size_text) if size_text.strip() else 0
    size = size if size > 0 else call.config.default_page_size
    status, details = "Success", "None"
    if changed:
        since_text = (wrapper.findtext(f"{{{NS['services']}}}changedDateTime") or "").strip()
        if not since_text:
            raise AxFault(["The changed date and time must be specified."])  # [I]
        try:
            since = datetime.fromisoformat(since_text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise AxFault([f"The changed date and time '{since_text}' is not a valid date and time."]) from exc
        # utcdatetime: a value without offset is UTC
        since_ts = (since if since.tzinfo else since.replace(tzinfo=UTC)).timestamp()
        rows = sorted((pos, nk) for nk, pos in call.store.changes.items() if pos[0] >= since_ts and nk in call.store.docs)
        if since_ts < call.world.now() - call.config.change_retention_seconds:
            rows, status, details = [], "Failure", "ChangedDateTimeOutOfRange"  # [I] status on this detail
        if bookmark:
            ts, seq = _unbookmark(bookmark, "c")
            rows = [r for r in rows if r[0] > (float(ts), int(seq))]
        page = rows[:size]
        keys = [call.store.key_of(call.store.docs[nk]) for _, nk in page]
        next_mark = _bookmark(f"c\x1f{page[-1][0][0]!r}\x1f{page[-1][0][1]}") if len(rows) > size else None
    else:
        ordered = sorted(call.store.docs)
        if bookmark:
            last = tuple(_unbookmark(bookmark, "k"))
            ordered = [k for k in ordered if k > last]
        page_keys = ordered[:size]
        keys = [call.store.key_of(call.store.docs[k]) for k in page_keys]
        next_mark = _bookmark("\x1f".join(("k", *page_keys[-1]))) if len(ordered) > size else None
    kp = etree.SubElement(out, _KP + "EntityKeyPage", nsmap={None: NS["keypage"]})
    dp = etree.SubElement(kp, _PG + "DocumentPaging", nsmap={None: NS["paging"]})
    if next_mark:
        etree.SubElement(dp, _PG + "Bookmark").text = next_mark
    etree.SubElement(dp, _PG + "PageSize").text = str(size)
    _key_list(kp, call.spec, keys)
    etree.SubElement(kp, _KP + "PageStatus").text = status
    etree.SubElement(kp, _KP + "PageStatusDetails").text = details


OPERATIONS = {
    "create": op_create, "read": op_read, "update": op_update, "delete": op_delete, "find": op_find,
    "findKeys": op_find_keys,
    "getKeys": lambda c, w, o: _page(c, w, o, False),
    "getChangedKeys": lambda c, w, o: _page(c, w, o, True),
}


def run(call: Call, operation: str, wrapper: etree._Element) -> etree._Element:
    """Execute ``operation``; returns the ``{Service}{Op}Response`` element."""
    out = etree.Element(f"{{{NS['services']}}}{wrapper_name(call.spec.name, operation, 'Response')}",
                        nsmap={None: NS["services"]})
    OPERATIONS[operation](call, wrapper, out)
    return out

