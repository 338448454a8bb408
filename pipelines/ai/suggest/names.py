"""Field names across naming styles and languages: words, concepts, similarity.

``"Rechnungsadresse.PLZ"``, ``"billing_address.postcode"`` and ``"BillingZip"`` all become words
(camelCase, snake_case, dots, digits, umlauts and accents handled; German compounds split on the
lexicon's words, with linking ``s``/``n``/``en``), then concept sets through
:mod:`pipelines.ai.suggest.lexicon`. :func:`name_similarity` compares two parsed names: the
weighted overlap of their concepts (leaf segment first, its parents as context) blended with the
character-trigram likeness of the words, so an unknown word still matches its own abbreviation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache

from pipelines.ai.suggest.lexicon import LEXICON, PARENT_RELATED, RELATED, WEIGHT, fold, terms

__all__ = ["ROLES", "ParsedName", "name_similarity", "names_conflict", "normalise", "parse_label", "parse_name", "party",
           "value_concepts", "words"]

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_LINKS = ("", "s", "n", "en", "es", "e")
_VOCAB = [t for t in terms() if len(t) >= 3]
_QUALIFIERS = frozenset({"GROSS", "NET"})
_AMOUNTS = frozenset({"AMOUNT", "TOTAL", "PRICE", "DISCOUNT", "COST", "TAX"})
# articles, prepositions and possessives ("Su referencia", "Uw referentie", "Your ref") say nothing
_STOP = frozenset("de du des la le les d l of the to von der die das den und et and per pour par a au aux en in "
                  "di da del della dei il lo gli el los las con y het een van voor op your our votre notre ihr "
                  "unser su sus vostro nostro uw ons is has pa til for fuer fur med og och av zu im am na ve ile si pe "
                  "cu".split()) | frozenset("cm mm inch lb lbs oz ml cbm m".split())  # units in a name ("length_cm") say no more


def normalise(text: str) -> str:
    """Umlauts spelled out, accents removed (``Straße`` -> ``Strasse``, ``prénom`` -> ``prenom``)."""
    return fold(text)


@lru_cache(maxsize=4096)
def _split_compound(word: str) -> tuple[str, ...]:
    """A long word the lexicon does not know, split into known words (longest first)."""
    if word in LEXICON or len(word) < 6:
        return (word,)
    best: tuple[str, ...] | None = None
    for head in _VOCAB:
        if len(head) < len(word) and word.startswith(head):
            for link in _LINKS:
                rest = word[len(head) + len(link):]
                if (link and not word[len(head):].startswith(link)) or len(rest) < 2:
                    continue
                tail = (rest,) if rest in LEXICON else _split_compound(rest)
                if all(t in LEXICON for t in tail):
                    cand = (head, *tail)
                    if best is None or len(cand) < len(best):
                        best = cand
            if best is not None:
                break
    return best or _head_suffix(word) or (word,)


def _strip_prefix(word: str) -> tuple[str, ...] | None:
    """A table prefix dropped when the rest is all known words (OXID's ``OXORDERNR``, CONTPAQi's
    ``CFOLIO``)."""
    for n in (2, 3, 1):
        rest = word[n:]
        if len(rest) >= 4:
            parts = (rest,) if rest in LEXICON else _split_compound(rest)
            if all(t in LEXICON for t in parts):
                return parts
    return None


def parse_label(label: str) -> ParsedName:
    """A human label (``"Total Incl. VAT"``, ``"Soll/Haben"``): one segment, its dots and
    slashes are punctuation, not nesting; a note in brackets qualifies it (``"Vikt (g)"``)."""
    notes = _note_concepts(label)
    parsed = parse_name(re.sub(r"[.\[\]/]+", " ", _NOTE.sub("", label)))
    return replace(parsed, leaf=parsed.leaf | notes) if notes else parsed


def _head_suffix(word: str) -> tuple[str, ...] | None:
    """German and English compounds put their head last (``Nettopreis``, ``subprice``): an
    unknown word ending in a known word of 4+ letters keeps that head and an unknown modifier."""
    for head in _VOCAB:
        if len(head) >= 4 and len(word) - len(head) >= 2 and word.endswith(head):
            return (word[:-len(head)], head)
    return None


def words(segment: str) -> list[str]:
    """Lower-case words of one name segment, compounds split."""
    out: list[str] = []
    # "Sconto %", "% IVA": a percent sign makes the field a rate
    for part in _CAMEL.findall(normalise(segment).replace("%", " percent ")):
        low = part.lower()
        split = _split_compound(low)
        if part.isupper() and not all(w in LEXICON for w in split):
            # upper-case column names often carry a table prefix (OXID's OXORDERNR, OXPAID)
            split = _strip_prefix(low) or split
        out.extend(split)
    return out


def _concepts(ws: list[str]) -> tuple[frozenset[str], frozenset[str]]:
    """Concepts of the words (joined pairs first: ``code postal`` -> ZIP), and the unknown words."""
    found: set[str] = set()
    unknown: set[str] = set()
    i = 0
    while i < len(ws):
        for n in (3, 2, 1):
            joined = "".join(ws[i:i + n])
            if i + n <= len(ws) and joined in LEXICON:
                found.update(LEXICON[joined])
                i += n
                break
        else:
            w = ws[i]
            if w in ("2", "3") and "STREET" in found:
                # "street_address2", "Adresse 2": the second address line
                found = (found - {"STREET"}) | {"STREET2"}
            stem = w[:-1] if len(w) > 3 and w.endswith("s") else w
            if w == "to" and i == 0:
                # a leading "to" is a range's upper bound (ToQuantity, to_date beside FromQuantity)
                found.add("UNTIL")
            elif stem in LEXICON:
                found.update(LEXICON[stem])
            elif not w.isdigit() and w not in _STOP:
                unknown.add(stem)
            i += 1
    if found & _QUALIFIERS and "TAX" in found and found - _QUALIFIERS - {"TAX", "VAT"}:
        # "incl. tax", "hors taxe": the tax word qualifies an amount, it is not the tax itself
        found -= {"TAX", "VAT"}
    if "COD" in found:
        found.add("GROSS")  # what a carrier collects on delivery is what the buyer pays: the gross total
    if "VAT" in found or "REGISTRATION" in found:
        found -= {"ID", "NUMBER"}  # a VAT id or a register number is one thing, not an id of something
    return frozenset(found), frozenset(unknown)


def value_concepts(values: list[object]) -> frozenset[str]:
    """The concepts that short word values name (a type field's ``person``/``organization``,
    ``company``/``private``): what a yes/no flag fed from them may mean."""
    found: set[str] = set()
    for v in values:
        text = str(v).strip()
        if 0 < len(text) <= 24 and not any(c.isdigit() for c in text):
            found.update(_concepts(words(text))[0])
    return frozenset(found)


@dataclass(frozen=True)
class ParsedName:
    """A dotted field name, parsed: the leaf's and the parents' concepts and words."""

    leaf: frozenset[str]
    leaf_unknown: frozenset[str]
    parent: frozenset[str]
    text: str  # the leaf's words joined, for trigram likeness

    @cached_property
    def party(self) -> frozenset[str]:
        """See :func:`party` (computed once per name: it is asked for every pair)."""
        return party(self)


# a note in brackets after a header ("Price (net)", "Menge [Stk]", "Product Type [Non Editable]",
# "Vikt (g)"): not a path; its known words qualify the leaf, its unknown ones are dropped
_NOTE = re.compile(r"\s+[(\[]([^()\[\]]*[^\W\d_][^()\[\]]*)[)\]]")
# "details"/"info" name a section of a record ("billingDetails", "shipping_info"), a line only alone
# a leaf that only carries its parent's value
_CARRIERS = frozenset({"value", "val"})
_ONE_LETTER = re.compile(r"^[A-Za-z]_[A-Za-z]{2,}")
# a leaf that is a language code or an index keys one of several values of its parent (Gambio's
# ``p_name.de``, ``p_cat.0``): the parent says what the value is
_KEYS = frozenset("de en fr it es nl pt pl sv da nb cs sk fi ro tr hu".split())
_SECTION_WORDS = frozenset({"detail", "details", "info", "infos"})
_PARTIES = frozenset({"INVOICE", "DELIVERY", "CUSTOMER", "PAYMENT", "ADDRESS", "COMPANY", "CARRIER", "TAX"})


def _note_concepts(name: str) -> frozenset[str]:
    found: set[str] = set()
    for m in _NOTE.finditer(name):
        found.update(_concepts(words(m.group(1)))[0])
    return frozenset(found)


_KEY_LEAF = frozenset({"ID", "NUMBER"})
# a parent that is a lookup (a mode, type or method, a carrier, a service): its code is the thing
_LOOKUPS = frozenset({"METHOD", "CARRIER", "SERVICE"})
# a parent that is a measure: its "amount" is the measure, not money
_MEASURES = frozenset({"QUANTITY", "WEIGHT", "HEIGHT", "WIDTH", "DEPTH", "STOCK"})


def _from_parent(leaf: frozenset[str], up: frozenset[str]) -> frozenset[str]:
    """A leaf that only points into its parent carries the parent's meaning: the code of a
    delivery mode or a card type (``deliveryMode.code``) is that mode; the amount of a quantity
    or a weight (``orderLineQuantity.amount``, ``weight.amount``) is the measure; a bare
    qualifier (``cost.withTax``, ``price.net``) qualifies its parent's amount."""
    if not up:
        return leaf
    if leaf <= _KEY_LEAF and up & _LOOKUPS:
        return leaf | up
    if leaf == {"AMOUNT"} and up & _MEASURES:
        return (up - ROLES) or up
    if leaf & _QUALIFIERS and leaf <= _QUALIFIERS | {"TAX", "VAT"}:
        return (leaf - {"TAX", "VAT"}) | up
    return leaf


def _parent_concepts(segment: str) -> frozenset[str]:
    ws = words(segment)
    found = _concepts(ws)[0]
    if "LINE" in found and found & _PARTIES and not any(w not in _SECTION_WORDS and "LINE" in LEXICON.get(w, ())
                                                        for w in ws):
        found -= {"LINE"}
    return found


@lru_cache(maxsize=8192)
def parse_name(name: str) -> ParsedName:
    notes = _note_concepts(name)
    # a dot before a space ends an abbreviation ("Pris eks. mva", "Tel. privat"): not a path
    name = re.sub(r"\.\s+", " ", _NOTE.sub("", name) or name)
    segments = [s for s in re.split(r"[.\[\]/]+", name) if s]
    if len(segments) > 1 and (segments[-1].lower() in _CARRIERS | _KEYS or segments[-1].isdigit()):
        # QuickBooks' CurrencyRef.value: the parent says what the value is
        segments = segments[:-1]
    if segments and _ONE_LETTER.match(segments[-1]):
        segments[-1] = segments[-1][2:]  # a one-letter table prefix: Gambio's "p_id", "p_shortdesc"
    leaf_words = words(segments[-1]) if segments else []
    leaf, unknown = _concepts(leaf_words)
    if len(segments) > 1 and leaf and not unknown:
        leaf = _from_parent(leaf, _parent_concepts(segments[-2]))
    parent: set[str] = set()
    for seg in segments[:-1]:
        parent.update(_parent_concepts(seg))
    return ParsedName(leaf | notes, unknown, frozenset(parent), "".join(leaf_words))


def _weighted_overlap(a: frozenset[str], b: frozenset[str],
                      related: dict[frozenset[str], float] = RELATED) -> float:
    if not a or not b:
        return 0.0
    # the same concept sets meet again and again across a schema pair: computed once each
    return _overlap(a, b, related is PARENT_RELATED)


@lru_cache(maxsize=65536)
def _overlap(a: frozenset[str], b: frozenset[str], parents: bool) -> float:
    related = PARENT_RELATED if parents else RELATED
    inter = sum(WEIGHT.get(c, 1.0) for c in a & b)
    # a concept one side lacks counts partly when the other has a related one (stock ~ quantity)
    for x in a - b:
        best = max((related.get(frozenset((x, y)), 0.0) for y in b - a), default=0.0)
        inter += 0.5 * best * WEIGHT.get(x, 1.0)
    for y in b - a:
        best = max((related.get(frozenset((x, y)), 0.0) for x in a - b), default=0.0)
        inter += 0.5 * best * WEIGHT.get(y, 1.0)
    union = sum(WEIGHT.get(c, 1.0) for c in a | b)
    return min(inter / union, 1.0)


@lru_cache(maxsize=8192)
def _trigrams(text: str) -> frozenset[str]:
    padded = f"  {text} "
    return frozenset(padded[i:i + 3] for i in range(len(padded) - 2))


def _trigram_sim(a: str, b: str) -> float:
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    ta, tb = _trigrams(a), _trigrams(b)
    return len(ta & tb) / len(ta | tb)


#: one side has the first, the other the second: the names contradict each other
_CONFLICTS = (("NET", "GROSS"), ("FIRST", "LAST"), ("COST", "DISCOUNT"), ("STREET", "STREET2"), ("FROM", "UNTIL"),
              ("CREATED", "DUE"), ("MIN", "MAX"), ("DEBIT", "CREDIT"), ("ID", "QUANTITY"), ("ID", "STOCK"),
              # a carrier's service is not the way a payment is made
              ("SERVICE", "PAYMENT"))
# the parties of a document: the billed one and the one delivered to (OpenCart's "payment_*"
# address is the billing address)
_PARTIES_OF = (frozenset({"INVOICE"}), frozenset({"DELIVERY"}))
_ADDRESS_PARTS = frozenset({"ADDRESS", "STREET", "STREET2", "CITY", "ZIP", "COUNTRY", "REGION", "COMPANY", "FIRST",
                            "LAST", "PHONE", "NAME"})
#: a qualifier says whose or which a thing is (the delivery's, the order's); the rest is the thing
ROLES = frozenset({"DELIVERY", "INVOICE", "PAYMENT", "CUSTOMER", "ORDER", "LINE", "SUPPLIER", "DOCUMENT"})


def party(n: ParsedName) -> frozenset[str]:
    """INVOICE, DELIVERY or SENDER when the name (leaf or parents) says whose address or contact
    it is."""
    every = n.leaf | n.parent
    if "SENDER" in every:
        return frozenset({"SENDER"})  # "ship from" is the sender's, whatever else it says
    found = every & {"INVOICE", "DELIVERY"}
    if not found and every & {"PAYMENT", "CUSTOMER"} and n.leaf & _ADDRESS_PARTS and "CUSTOMER" not in n.leaf:
        # OpenCart's "payment_*" address and a document's customer section (wFirma's
        # contractor.*) are the billed party's
        found = frozenset({"INVOICE"})
    return found if len(found) == 1 else frozenset()


def names_conflict(a: ParsedName, b: ParsedName) -> bool:
    """True when the leaves say opposite things: a rate vs an amount (``Sconto %`` vs
    ``total_discount``), net vs gross, first vs last name, cost vs discount."""
    if ("RATE" in a.leaf) != ("RATE" in b.leaf) and (a.leaf | b.leaf) - {"RATE"} & _AMOUNTS:
        return True
    pa, pb = a.party, b.party
    if pa and pb and pa != pb and (a.leaf | b.leaf) & _ADDRESS_PARTS:
        return True  # the billing address is not the delivery address
    return any((x in a.leaf and y in b.leaf and y not in a.leaf and x not in b.leaf)
               or (y in a.leaf and x in b.leaf and x not in a.leaf and y not in b.leaf) for x, y in _CONFLICTS)


@lru_cache(maxsize=65536)
def _other_things(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when, qualifiers (:data:`ROLES`) aside, the two leaves name unrelated things."""
    ha, hb = a - ROLES, b - ROLES
    return bool(ha and hb and not ha & hb
                and not any(RELATED.get(frozenset((x, y)), 0.0) >= 0.5 for x in ha for y in hb))


def name_similarity(a: ParsedName, b: ParsedName) -> float:
    """0..1: how alike two names are (see the module docstring)."""
    concepts = _weighted_overlap(a.leaf | a.leaf_unknown, b.leaf | b.leaf_unknown)
    if concepts and _other_things(a.leaf, b.leaf):
        # only a qualifier in common ("deliveryComment" vs "shipping_address_1"): not the same thing
        concepts *= 0.5
    # letters speak for words the lexicon does not know; two known words are their concepts
    # (the "id" of a category and the "id" of a product are spelled alike)
    chars = _trigram_sim(a.text, b.text) if a.leaf_unknown or b.leaf_unknown or not a.leaf or not b.leaf else 0.0
    leaf = max(concepts, 0.85 * chars) if concepts < 1.0 else 1.0
    if a.parent and b.parent:
        # context: billing.city vs shipping.city differ by their parents only
        return 0.8 * leaf + 0.2 * _weighted_overlap(a.parent, b.parent, PARENT_RELATED)
    # one side says in its leaf what the other says with a parent (BillingCity vs billing.city)
    whole = _weighted_overlap(a.leaf | a.parent | a.leaf_unknown, b.leaf | b.parent | b.leaf_unknown)
    return max(leaf, 0.7 * leaf + 0.3 * whole)
