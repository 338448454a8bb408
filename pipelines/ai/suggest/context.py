"""One side of a mapping (the source or the target schema), each field's name read in context.

A field name alone is often ambiguous; its schema settles it. :class:`Side` holds, per field,
the parsed name (:mod:`.names`) after these readings, the parsed label, the value profile
(:mod:`.profiles`), the parent path, the level (header or line) and two document roles:

- the entity: a bare ``id`` of a customer schema is the customer id; ``Order Total`` of an order
  is its total;
- siblings: ``Name`` beside ``Vorname`` is the last name, ``Amount`` beside ``AmountIncludingVAT``
  the net amount; a bare ``address`` among city and postcode fields is the street line; a line's
  only text (``DettaglioLinee.Descrizione``, ``SalesLine.Description``) is the item's name, which is
  what feeds it in practice (a line description beside a line name stays a description); the
  ``title`` of an item or a line is its name, not a salutation;
- labels: a label that says more than the name stands for it (``code`` labelled ``NIF/CIF`` is a
  tax id), one that says less (``InvoiceCountryCode`` labelled ``Land``) adds nothing;
- values: a ``rate`` of 250.00 is a price (a billing rate), not a percentage; a bare party word
  holding codes or integers (``firma``: ``code:NOVAK``) is the party's id;
- the sender: a shipping word under a sender's address is the dispatch (``Versandort`` of
  ``shipFromAddress``), not the delivery party;
- a carrier's shipment (the entity is a shipment, parcel or tracking record, or fields describe a
  sender or a parcel): its recipient (``receiver``, ``destinataire``) is the delivery party, and a
  header ``product`` or ``service`` is the carrier's service, fed from a shop's shipping method;
- a product list: a ``family`` with no first name beside it is the product family, a category;
- level: a field is at line level when a parent is a line (``SalesLine.*``) or its own name starts
  with a line word in a flat export (``orderItemType``, ``LineTotal``);
- the target document's own number (``Ordernummer`` of an order) and references to another
  system's document (``Uw referentie``).
"""

from __future__ import annotations

from dataclasses import replace

from pipelines.ai.suggest.names import ParsedName, parse_label, parse_name, value_concepts, words
from pipelines.ai.suggest.profiles import Profile, profile
from pipelines.ai.suggest.schema import Schema

__all__ = ["Side"]

_LINE = frozenset({"LINE"})
_BARE = frozenset({"ID", "NUMBER"})
_NAME = frozenset({"NAME"})
_AMOUNT = frozenset({"AMOUNT"})
_TOTAL = frozenset({"TOTAL"})
_DOCUMENTS = frozenset({"ORDER", "INVOICE", "DOCUMENT"})
_REFERENCE = frozenset({"REFERENCE", "NUMBER", "ID", "DOCUMENT", "ORDER", "INVOICE"})
_STREETS = frozenset({"STREET", "STREET2"})
# the first word(s) of a flat column that put it on an order line ("orderItemType", "LineTotal",
# "Positionsnummer"); "item" alone does not: "ItemId" of an item list is its header
_LINE_HEADS = frozenset("orderitem orderitems lineitem lineitems line lines orderline orderlines position pos row "
                        "zeile ligne riga linea regel rivi satir linie pozycja polozka radek".split())
# a rate with these is a percentage whatever its values (a tax rate, an exchange rate)
_TRUE_RATES = frozenset({"TAX", "VAT", "DISCOUNT", "EXCHANGE"})


_PARTY_WORDS = frozenset({"CUSTOMER", "COMPANY", "SUPPLIER", "CARRIER"})
_REF_OR_SKU = frozenset({"REFERENCE", "SKU"})


def _keyed(p: Profile) -> bool:
    """Most values are codes, integers or opaque tokens (keys of records, not names)."""
    return p.n >= 2 and p.kinds.get("code", 0.0) + p.kinds.get("int", 0.0) + p.kinds.get("token", 0.0) >= 0.6


def _senders(n: ParsedName) -> ParsedName:
    if "DELIVERY" in n.leaf and "SENDER" in n.leaf | n.parent:
        return replace(n, leaf=n.leaf - {"DELIVERY"})
    return n


def _level(name: str, parsed: ParsedName) -> str:
    if parsed.parent & _LINE:
        return "line"
    ws = words(name.rsplit(".", 1)[-1])
    if ws and (ws[0] in _LINE_HEADS or "".join(ws[:2]) in _LINE_HEADS) and not parsed.leaf & _STREETS:
        return "line"
    return "header"


def _with_entity(name: ParsedName, entity: frozenset[str]) -> ParsedName:
    if not entity or not name.leaf:
        return name
    rest = name.leaf - entity
    if rest and not rest <= _BARE and rest != name.leaf:
        # "Order Total" of an order is its total: the entity's own word adds nothing
        return replace(name, leaf=rest)
    if name.parent or name.leaf_unknown or not name.leaf <= _BARE:
        return name
    return replace(name, leaf=name.leaf | (entity - _LINE))


def _with_parent(label: ParsedName, name: ParsedName) -> ParsedName:
    return replace(label, parent=name.parent) if name.parent and not label.parent else label


def _contrast(names: list[ParsedName | None], parents: list[str]) -> list[ParsedName | None]:
    """A bare word read against its siblings: "name" next to a last name is the first name
    (nome/cognome, Nombre/Apellidos), next to a first name the last name (Vorname/Name); an
    amount next to its gross twin is net (NAV's ``Amount`` beside ``AmountIncludingVAT``)."""
    out = list(names)
    for i, n in enumerate(names):
        if n is None or n.leaf_unknown or not n.leaf:
            continue
        sib = [m.leaf for k, m in enumerate(names) if m is not None and k != i and parents[k] == parents[i]]
        for bare, (x, y) in ((_NAME, ("FIRST", "LAST")), (_AMOUNT, ("NET", "GROSS")), (_TOTAL, ("NET", "GROSS"))):
            if n.leaf != bare:
                continue
            has_x = any(x in leaf and y not in leaf and leaf >= bare for leaf in sib)
            has_y = any(y in leaf and x not in leaf and (leaf >= bare or bare == _NAME) for leaf in sib)
            if has_x != has_y:
                out[i] = replace(n, leaf=n.leaf | {y if has_x else x})
    return out


def _in_context(names: list[ParsedName], parents: list[str], levels: list[str],
                profiles: list[Profile], items: bool) -> list[ParsedName]:
    """The sibling and value readings of the module docstring (address line, line text, rate);
    ``items``: the schema is a product list (a "title" there is a name, not a salutation)."""
    out = list(names)
    by_parent: dict[str, list[int]] = {}
    for i, p in enumerate(parents):
        by_parent.setdefault(p, []).append(i)
    for i, n in enumerate(names):
        if n.leaf == {"GENDER", "NAME"} and (items or levels[i] == "line"):
            n = out[i] = replace(n, leaf=_NAME)
        sib = [names[k].leaf for k in by_parent[parents[i]] if k != i]
        if n.leaf == {"ADDRESS"} and ("ADDRESS" in n.parent or any(leaf & {"CITY", "ZIP"} for leaf in sib)):
            out[i] = replace(n, leaf=n.leaf | {"STREET"})
        elif (levels[i] == "line" and n.leaf - {"LINE", "SKU"} == {"DESCRIPTION"}
              and not any("NAME" in leaf for leaf in sib)):
            out[i] = replace(n, leaf=(n.leaf - {"DESCRIPTION"}) | {"NAME"})
        elif items and n.leaf == {"LAST"} and not any("FIRST" in m.leaf for m in names):
            # a "family" of a product list without any first name is the product family: a category
            out[i] = replace(n, leaf=frozenset({"CATEGORY"}))
        elif n.leaf and n.leaf <= _PARTY_WORDS and _keyed(profiles[i]):
            # a bare party word holding codes or numbers ("firma": code:NOVAK, "customer": 1042)
            # points at the party's record: it is the party's id, not its name
            out[i] = replace(n, leaf=n.leaf | {"ID"})
        elif "RATE" in n.leaf and not n.leaf & _TRUE_RATES and profiles[i].numbers \
                and max(abs(x) for x in profiles[i].numbers) > 100:
            out[i] = replace(n, leaf=(n.leaf - {"RATE"}) | {"PRICE"})
    return out


_SHIPMENTS = frozenset({"DELIVERY", "TRACKING", "PARCEL"})
_PRODUCTS = frozenset({"SKU", "SERVICE"})
_CARRIER_SERVICE = frozenset({"SERVICE", "METHOD"})


def _shipment(entity: frozenset[str], names: list[ParsedName]) -> bool:
    """A carrier's booking or label: the entity is a shipment or parcel, or fields describe a
    sender or a parcel (Colissimo's ``letter.parcel.*``)."""
    return bool(entity & _SHIPMENTS) or any(
        {"SENDER", "PARCEL"} & (n.leaf | n.parent) for n in names)


def _as_shipment(n: ParsedName, level: str) -> ParsedName:
    """A field of a shipment schema: its recipient is the delivery party; a bare ``reference`` is
    the order's (not an item's); a header ``product`` or
    ``service`` (Bring's ``product.id``, Colissimo's ``productCode``, InPost's ``service``) is the
    carrier's service, which a shop's shipping method feeds."""
    if "RECIPIENT" in n.leaf | n.parent:
        n = replace(n, leaf=(n.leaf - {"RECIPIENT"}) | ({"DELIVERY"} if "RECIPIENT" in n.leaf else set()),
                    parent=(n.parent - {"RECIPIENT"}) | ({"DELIVERY"} if "RECIPIENT" in n.parent else set()))
    if level == "header" and n.leaf == _REF_OR_SKU and not n.parent:
        # a shipment's bare "reference" is the shipper's reference to its order, not an item's
        return replace(n, leaf=frozenset({"REFERENCE"}))
    rest = n.leaf - _BARE
    if level == "header" and not n.leaf_unknown and (
            (rest and rest <= _PRODUCTS) or (not rest and n.parent & _PRODUCTS and not n.parent & _LINE)):
        n = replace(n, leaf=(n.leaf & _BARE) | _CARRIER_SERVICE)
    return n


def _read_label(label: str | None, name: ParsedName, raw: ParsedName) -> tuple[ParsedName | None, ParsedName]:
    """(the label in the name's context, the name as the label reads it)."""
    if not label:
        return None, name
    lb = _with_parent(parse_label(label), name)
    if raw.leaf and raw.leaf <= _BARE and lb.leaf - _BARE and not raw.parent:
        # "code" labelled "NIF/CIF": the bare name only says it is an identifier
        return lb, replace(name, leaf=lb.leaf, leaf_unknown=lb.leaf_unknown)
    return lb, name


class Side:
    """A schema's fields read in context (see the module docstring); lists indexed like
    ``schema.fields``."""

    def __init__(self, schema: Schema) -> None:
        self.fields = schema.fields
        entity = parse_name(schema.entity).leaf
        raw = [parse_name(f.name) for f in schema.fields]
        # a bare "id" or "number" at the root names the entity itself: a customer's id is a customer id
        names = [_with_entity(n, entity) for n in raw]
        # a label names the leaf; the field's parents still give its context (SnelStart's
        # "Voornaam" under Relatie is the customer's first name, not the delivery contact's)
        read = [_read_label(f.label, n, r) for f, n, r in zip(schema.fields, names, raw, strict=True)]
        labels: list[ParsedName | None] = [lb for lb, _ in read]
        names = [n for _, n in read]
        self.parents = [f.name.rsplit(".", 1)[0] if "." in f.name else "" for f in schema.fields]
        names = [n for n in _contrast(list(names), self.parents) if n is not None]
        self.labels = _contrast(labels, self.parents)
        # a label that says more than the name ("Sconto %" for "sconto") is what the name means
        names = [replace(n, leaf=lb.leaf) if lb is not None and lb.leaf > n.leaf else n
                 for n, lb in zip(names, self.labels, strict=True)]
        # under a sender's address a shipping word is the dispatch ("Versandort" of shipFromAddress):
        # the sender's, not the delivery party's
        names = [_senders(n) for n in names]
        self.labels = [None if lb is None else _senders(lb) for lb in self.labels]
        self.profiles: list[Profile] = [profile(list(f.samples)) for f in schema.fields]
        self.levels = [_level(f.name, r) for f, r in zip(schema.fields, raw, strict=True)]
        if _shipment(entity, names):
            names = [_as_shipment(n, lv) for n, lv in zip(names, self.levels, strict=True)]
            self.labels = [None if lb is None else _as_shipment(lb, lv)
                           for lb, lv in zip(self.labels, self.levels, strict=True)]
        self.names = _in_context(names, self.parents, self.levels, self.profiles, bool(entity & {"SKU"}))
        # a label that says less than the name ("InvoiceCountryCode" labelled "Land") adds nothing
        self.labels = [None if lb is not None and lb.leaf < n.leaf and not lb.leaf_unknown else lb
                       for n, lb in zip(self.names, self.labels, strict=True)]
        self.line_level = any(lv == "line" for lv in self.levels)
        # what the words among a field's values name (for yes/no flags fed from a type field)
        self.value_concepts = [value_concepts(list(f.samples)) if not p.kinds.get("bool") else frozenset()
                               for f, p in zip(schema.fields, self.profiles, strict=True)]
        # a document's own number or id (Ordernummer of an order, numero of a pedido): the
        # system that holds the document numbers it itself, so a source field rarely feeds it
        doc = entity & _DOCUMENTS
        self.own_number = [bool(doc) and bool(n.leaf & _BARE) and not n.leaf_unknown
                           and n.leaf <= _BARE | entity | {"DOCUMENT"} and n.parent <= entity
                           for n in self.names]
        # a reference to another system's document (Uw referentie, ReferenceExterne, SuReferencia)
        # (not QuickBooks' CustomerRef.value: a dotted "Ref" points at a record of the target)
        self.reference = [bool(n.leaf & {"REFERENCE"}) and "." not in f.name and not n.leaf_unknown
                          and n.leaf <= _REFERENCE for n, f in zip(self.names, self.fields, strict=True)]

