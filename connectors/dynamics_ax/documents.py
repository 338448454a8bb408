"""The eight document-service operations on one AX document, with AIF's rules built in.

:class:`DocumentService` wraps one service of the port (``SalesOrderService``...) and offers
``create``, ``read``, ``update``, ``delete``, ``find``, ``find_keys``, ``get_keys`` and
``get_changed_keys`` (plus page iterators). Contracts that AX imposes and callers should not
have to remember:

* writes need an ``idempotency_key``: the MessageId derives from it, so a retried write is
  refused by AX as a duplicate instead of applied twice; an update or delete answered with
  "Duplicate message" has therefore already happened and returns normally, a create raises
  :class:`DuplicateError` so the caller can look the created record up;
* ``update`` reads the document first and sends its ``_DocumentHash`` back (AX refuses an
  update without it); on a hash mismatch (someone changed the record in between) it re-reads
  and retries exactly once, then gives up with the transient error;
* ``read`` splits many keys into batches of ``read_batch_size`` (the 64 KB message limit);
* ``get_changed_keys`` pages with bookmarks and reports ``ChangedDateTimeOutOfRange`` and the
  other "resync fully" statuses in :attr:`KeyPage.status_details`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from zeep.xsd import ComplexType

from connectors.dynamics_ax.models import EntityKey, KeyPage
from connectors.dynamics_ax.query import Criterion, criteria_payload
from connectors.dynamics_ax.soap import AxSoapClient, mark_entities
from connectors.errors import DuplicateError, NotFoundError, PermanentError, TransientError

__all__ = ["DOCUMENT_NS_PREFIX", "DocumentService", "DocumentSpec", "key_list", "parse_keys"]

DOCUMENT_NS_PREFIX = "http://schemas.microsoft.com/dynamics/2008/01/documents/"


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """A document service: external name, document (root element), top entity and its key fields."""

    service: str
    document: str
    root_entity: str
    key_fields: tuple[str, ...]

    @property
    def qname(self) -> str:
        return "{" + DOCUMENT_NS_PREFIX + self.document + "}" + self.document


def key_list(keys: Sequence[EntityKey]) -> dict[str, Any]:
    """An ``EntityKeyList`` value for zeep."""
    return {"EntityKey": [{"KeyData": {"KeyField": [{"Field": f, "Value": v} for f, v in k.fields]}} for k in keys]}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _elements(value: Any, what: str) -> list[Mapping[str, Any]]:
    """``_as_list`` of values that must be elements with children: text or a list there means
    the answer is broken (or forged), a permanent error rather than an AttributeError later."""
    items = _as_list(value)
    if not all(isinstance(i, Mapping) for i in items):
        raise PermanentError(f"AX answered with text where {what} belongs; the answer does not match the "
                             "port's WSDL.", system="ax", code="response_schema")
    return items


def parse_keys(value: Any) -> list[EntityKey]:
    """Entity keys from a plain ``EntityKeyList`` value, or from its list of ``EntityKey`` (zeep
    unwraps a response whose only child is the list), or ``None`` for no keys."""
    keys = []
    entries = value.get("EntityKey") if isinstance(value, Mapping) else value
    for ek in _elements(entries, "an EntityKey"):
        for kd in _elements(ek.get("KeyData"), "KeyData"):
            keys.append(EntityKey(tuple((str(kf.get("Field")), str(kf.get("Value", "")))
                                        for kf in _elements(kd.get("KeyField"), "a KeyField"))))
    return keys


def entities_of(doc: Any, root_entity: str) -> list[Any]:
    """The root entities of a decoded read/find answer (``None``: none)."""
    return _elements((_elements(doc, "a document") or [{}])[0].get(root_entity), f"a {root_entity}")


def page_of(result: Any) -> KeyPage:
    """A key page from a decoded ``getKeys``/``getChangedKeys`` answer (``None``: an empty page)."""
    result = (_elements(result, "an EntityKeyPage") or [{}])[0]
    paging = (_elements(result.get("DocumentPaging"), "DocumentPaging") or [{}])[0]
    details = result.get("PageStatusDetails")
    return KeyPage(keys=parse_keys(result.get("EntityKeyList")), bookmark=paging.get("Bookmark") or None,
                   status=result.get("PageStatus") or "Success",
                   status_details=None if details in (None, "None") else details)


def _utc(value: dt.datetime) -> dt.datetime:
    # AX compares change-tracking times in UTC; a naive time is taken to be UTC already.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


class DocumentService:
    """The operations of one document service. Results are plain dicts of AX element names with
    values as AX wrote them (strings); the views of :mod:`.models` type them."""

    def __init__(self, soap: AxSoapClient, spec: DocumentSpec) -> None:
        self.soap = soap
        self.spec = spec

    # --- create / read / find --------------------------------------------------------------------

    def _document(self, entities: list[Any], extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        doc: dict[str, Any] = dict(extra or {})
        doc[self.spec.root_entity] = entities
        mark_entities(self.soap.element(self.spec.qname).type, doc)
        return doc

    async def create(self, entities: list[dict[str, Any]], *, idempotency_key: str) -> list[EntityKey]:
        """Create the top entities (with their children); returns one key per top entity.

        Raises :class:`DuplicateError` (code ``duplicate_message``) when AX had already processed
        this idempotency key, i.e. an earlier attempt succeeded: the caller looks the record up.
        """
        body: dict[str, Any] = {self.spec.document: self._document(entities)}
        result = await self.soap.call(self.spec.service, "create", idempotency_key=idempotency_key, **body)
        return parse_keys(result)

    async def read(self, keys: Sequence[EntityKey], *, skip_missing: bool = False) -> list[dict[str, Any]]:
        """The top entities for the keys, in batches of ``read_batch_size``.

        AX fails a whole read when one key is unknown (NotFoundError). With ``skip_missing`` a
        failed batch is read again key by key and the unknown keys are left out (bulk reads of
        keys listed a while ago, some of which were deleted since).
        """
        out: list[dict[str, Any]] = []
        size = self.soap.config.read_batch_size
        for i in range(0, len(keys), size):
            batch = keys[i:i + size]
            try:
                out.extend(await self._read_batch(batch))
            except NotFoundError:
                if not skip_missing:
                    raise
                for key in batch:
                    try:
                        out.extend(await self._read_batch([key]))
                    except NotFoundError:
                        continue
        return out

    async def _read_batch(self, keys: Sequence[EntityKey]) -> list[dict[str, Any]]:
        doc = await self.soap.call(self.spec.service, "read", EntityKeyList=key_list(keys))
        return entities_of(doc, self.spec.root_entity)

    async def find(self, criteria: Sequence[Criterion]) -> list[dict[str, Any]]:
        doc = await self.soap.call(self.spec.service, "find", QueryCriteria=criteria_payload(list(criteria)))
        return entities_of(doc, self.spec.root_entity)

    async def find_keys(self, criteria: Sequence[Criterion]) -> list[EntityKey]:
        result = await self.soap.call(self.spec.service, "findKeys", QueryCriteria=criteria_payload(list(criteria)))
        return parse_keys(result)

    # --- update / delete -------------------------------------------------------------------------

    async def update(self, key: EntityKey, changes: Mapping[str, Any] | Callable[[Any], None], *,
                     idempotency_key: str, partial: bool = True) -> None:
        """Update one document, reading it first for its ``_DocumentHash``.

        Partial (default): ``changes`` is a mapping of the top entity's fields to set; child
        entries may carry their own ``action`` (``create``/``update``/``delete``). The top entity
        is sent with ``action="update"``, its key and the hash; absent fields stay unchanged.

        Full: ``changes`` is a function that edits the document as read (a zeep object, so
        polymorphic parts keep their ``xsi:type``); everything is sent back with
        ``action="replace"`` and AX clears absent fields and deletes absent child rows.
        """
        for attempt in (1, 2):
            raw = await self.soap.call(self.spec.service, "read", raw=True, EntityKeyList=key_list([key]))
            entities = _as_list(getattr(raw, self.spec.root_entity, None))
            if not entities:
                raise PermanentError(f"AX {self.spec.service}.read returned no {self.spec.root_entity} for "
                                     f"{key.value}; cannot update it.", system="ax", code="not_found")
            entity = entities[0]
            if partial:
                if callable(changes):
                    raise TypeError("A partial update takes a mapping of fields, not a function.")
                top: Any = {"action": "update", "_DocumentHash": entity["_DocumentHash"]}
                top.update({f: v for f, v in key.fields if f in _field_names(entity)})
                # Schema-mandatory fields go along with their current values: the message must
                # validate, and setting a field to the value it has changes nothing.
                top.update({f: entity[f] for f in _required_fields(entity) if entity[f] is not None})
                top.update(changes)
            else:
                if not callable(changes):
                    raise TypeError("A full update takes a function that edits the document as read.")
                changes(entity)
                entity["action"] = "replace"
                top = entity
            body: dict[str, Any] = {"EntityKeyList": key_list([key]), self.spec.document: self._document([top])}
            # A re-read gives a new hash, i.e. a different message: it gets its own MessageId.
            attempt_key = idempotency_key if attempt == 1 else f"{idempotency_key}#reread"
            try:
                await self.soap.call(self.spec.service, "update", idempotency_key=attempt_key, **body)
                return
            except TransientError as err:
                if err.code != "hash_mismatch" or attempt == 2:
                    raise
            except DuplicateError as err:
                if err.code == "duplicate_message":
                    return  # this very update was applied by an earlier attempt
                raise

    async def delete(self, keys: Sequence[EntityKey], *, idempotency_key: str) -> None:
        """Delete the documents; a duplicate message means an earlier attempt deleted them."""
        try:
            await self.soap.call(self.spec.service, "delete", idempotency_key=idempotency_key,
                                 EntityKeyList=key_list(keys))
        except DuplicateError as err:
            if err.code != "duplicate_message":
                raise

    # --- key pages ---------------------------------------------------------------------------------

    def _page(self, result: Any) -> KeyPage:
        return page_of(result)


    async def get_keys(self, *, page_size: int | None = None, bookmark: str | None = None) -> KeyPage:
        """One page of the keys matching the port's document filter (empty when the port has none)."""
        paging = {"Bookmark": bookmark, "PageSize": page_size or self.soap.config.page_size}
        return self._page(await self.soap.call(self.spec.service, "getKeys", DocumentPaging=paging))

    async def get_changed_keys(self, since: dt.datetime, *, page_size: int | None = None,
                               bookmark: str | None = None) -> KeyPage:
        """One page of keys of documents changed on or after ``since`` (UTC)."""
        paging = {"Bookmark": bookmark, "PageSize": page_size or self.soap.config.page_size}
        return self._page(await self.soap.call(self.spec.service, "getChangedKeys", DocumentPaging=paging,
                                               changedDateTime=_utc(since)))

    async def iter_keys(self, *, page_size: int | None = None) -> AsyncIterator[KeyPage]:
        async for page in self._pages(lambda b: self.get_keys(page_size=page_size, bookmark=b)):
            yield page

    async def iter_changed_keys(self, since: dt.datetime, *, page_size: int | None = None) -> AsyncIterator[KeyPage]:
        """Every page of changed keys; stops after a page without a bookmark or without keys.

        A page whose ``needs_full_resync`` is true ends the iteration: the cursor is unusable.
        """
        async for page in self._pages(lambda b: self.get_changed_keys(since, page_size=page_size, bookmark=b)):
            yield page

    async def _pages(self, fetch: Callable[[str | None], Any]) -> AsyncIterator[KeyPage]:
        bookmark: str | None = None
        seen: set[str] = set()
        while True:
            page: KeyPage = await fetch(bookmark)
            yield page
            if page.needs_full_resync or not page.keys or not page.bookmark:
                return
            if page.bookmark in seen:
                raise PermanentError(f"AX {self.spec.service} returned bookmark {page.bookmark!r} twice while "
                                     "paging; stopping to avoid an endless loop.", system="ax", code="paging")
            seen.add(page.bookmark)
            bookmark = page.bookmark


def _required_fields(entity: Any) -> list[str]:
    xtype = getattr(entity, "_xsd_type", None)
    if xtype is None:
        return []
    return [name for name, el in xtype.elements
            if getattr(el, "min_occurs", 0) >= 1 and not isinstance(getattr(el, "type", None), ComplexType)]


def _field_names(entity: Any) -> set[str]:
    xtype = getattr(entity, "_xsd_type", None)
    if xtype is None:
        return set(entity) if isinstance(entity, Mapping) else set()
    return {name for name, _ in xtype.elements}

