"""Mapping suggestions: for each target field, the source fields that most likely feed it.

:func:`suggest` reads each side's fields in their schema's context (:mod:`.context`: the entity,
siblings, labels, the level), then scores every (target, source) pair on the signals of
:data:`SIGNALS` -- name and label likeness across naming styles and languages (:mod:`.names`,
where billing and delivery parties contradict each other), value profiles of the samples
and the values both sides share, seen through their representation (:mod:`.profiles`: a Unix
time and its date, cents and the amount), declared types, the record level (header vs line) --
then assigns sources to targets one-to-one across the whole schema (:mod:`.assign`), twice: the
second pass rewards pairs whose parents the first pass already aligned (``billing.*`` with
``Rechnungsadresse.*``).

Output: ``{"suggestions": [{"target", "candidates": [{"source", "confidence", "reason"}]}]}``,
one entry per target in the target's order, candidates best first. A target whose best pair
scores below the no-source threshold is left unassigned: all its candidates stay below 0.5
confidence, and so do those of a target document's own number (``Ordernummer`` of an order:
the target system numbers its documents itself). ``disabled`` switches signals off (the
benchmark's ablation). Deterministic; no I/O.
"""

from __future__ import annotations

import math
from typing import Any

from pipelines.ai.suggest.assign import assign
from pipelines.ai.suggest.context import Side
from pipelines.ai.suggest.names import ROLES, name_similarity, names_conflict
from pipelines.ai.suggest.profiles import profile_similarity, shared_values, type_similarity
from pipelines.ai.suggest.schema import Schema

__all__ = ["SIGNALS", "suggest"]

SIGNALS = ("names", "labels", "profiles", "values", "types", "structure", "assignment")
_W_TEXT, _W_PROFILE = 0.62, 0.28
_TYPE_PENALTY = 0.1
#: the same values on both sides (in canonical form: a Unix time and its ISO date, cents and
#: their amount) add up to this much to a pair's score
_W_SHARED = 0.2
_CONFLICT_PENALTY = 0.8
#: a pair scoring below this is no match (the target is left without a confident source)
NO_SOURCE = 0.42
_STEEP = 14.0
_BARE = frozenset({"ID", "NUMBER"})
_KEYS = frozenset({"ID", "NUMBER", "SKU", "REFERENCE"})
_MONEY = frozenset({"AMOUNT", "TOTAL", "PRICE", "COST", "DISCOUNT", "BALANCE", "RATE"})
_KEY_CLASH = 0.6
_W_FLAG = 0.3
_OWN_FACTOR = 0.75
_REF_TEXT = 0.7
_OWN_TEXT = 0.5
_OWN_NUMBER = "the target's own document number: usually assigned by the target system, not mapped"


def _pair(t: Side, i: int, s: Side, j: int, on: set[str]) -> tuple[float, list[str]]:
    why: list[str] = []
    total = weight = 0.0
    text = 0.0
    if "names" in on:
        text = name_similarity(t.names[i], s.names[j])
        if text >= 0.5:
            why.append(f"name '{s.fields[j].name}' ~ '{t.fields[i].name}'")
        if t.reference[i] and s.own_number[j] and text < _REF_TEXT:
            # the source document's own number is what the target keeps as its reference (its
            # number, which people see, before its internal id)
            text = _REF_TEXT if "NUMBER" in s.names[j].leaf else _REF_TEXT - 0.05
            why.append("the source document's own number, kept as the target's reference")
        elif t.own_number[i] and s.own_number[j] and text < _OWN_TEXT:
            # when a target document's number is mapped at all, it is the source document's own
            # (ABRA's "kod" into iDoklad's DocumentNumber); its confidence stays below 0.5
            text = _OWN_TEXT
            why.append("the source document's own number")
    if "labels" in on and (t.labels[i] is not None or s.labels[j] is not None):
        combos = [(t.labels[i], s.names[j]), (t.names[i], s.labels[j]), (t.labels[i], s.labels[j])]
        best = max((name_similarity(a, b) for a, b in combos if a is not None and b is not None), default=0.0)
        if best > text:
            text = best
            if best >= 0.5:
                why.append("labels agree")
    if "names" in on or "labels" in on:
        total += _W_TEXT * text
        weight += _W_TEXT
    if "profiles" in on:
        ps = profile_similarity(t.profiles[i], s.profiles[j])
        if ps is not None:
            total += _W_PROFILE * ps
            weight += _W_PROFILE
            if ps >= 0.6:
                kind = max(s.profiles[j].kinds, key=s.profiles[j].kinds.__getitem__)
                why.append(f"sample values alike ({kind.replace('_', ' ')})")
    score = total / weight if weight else 0.0
    if "profiles" in on:
        score *= _key_clash(t, i, s, j, why)
    if "values" in on:
        sv, k = shared_values(t.profiles[i], s.profiles[j])
        if sv:
            score += _W_SHARED * sv  # not capped: two sources with the same values keep their order
            why.append("same sample values" if k == 1 else f"same values scaled by {k}" if k
                       else "the values of one are inside the other's")
        if t.profiles[i].kinds.get("bool", 0.0) >= 0.5 and (t.names[i].leaf - ROLES) & s.value_concepts[j]:
            # a yes/no flag (IsPrivatePerson, isCompany) fed from a type field whose values name it
            score += _W_FLAG
            why.append("its values name what the flag says")
    if "names" in on and names_conflict(t.names[i], s.names[j]):
        # the names contradict (a rate vs an amount, net vs gross): alike values do not outweigh that
        score *= _CONFLICT_PENALTY
    if "types" in on:
        # declared types only veto: exports declare "string" for everything, so agreement says
        # little (it measured slightly harmful as a positive signal), a clash (date vs decimal) a lot
        ts = type_similarity(t.fields[i].type, s.fields[j].type)
        if ts is not None and ts < 1.0:
            score *= 1.0 - _TYPE_PENALTY * (1.0 - ts)
            if ts < 0.3:
                why.append(f"types differ ({s.fields[j].type} vs {t.fields[i].type})")
    if "structure" in on and t.line_level and s.line_level and t.levels[i] != s.levels[j]:
        score *= 0.6  # a header field is not fed from an order line, nor the reverse
    return score, why


def _key_clash(t: Side, i: int, s: Side, j: int, why: list[str]) -> float:
    """A factor below 1 when an identifier would be fed from amounts with decimals (a VAT code
    from the tax amount), or the reverse."""
    tp, sp = t.profiles[i], s.profiles[j]
    if tp.n < 2 or sp.n < 2:
        return 1.0
    tk, sk = bool(t.names[i].leaf & _KEYS), bool(s.names[j].leaf & _KEYS)
    if (tk and not t.names[i].leaf & _MONEY and sp.fraction >= 0.5) or \
            (sk and not s.names[j].leaf & _MONEY and tp.fraction >= 0.5):
        # (ids written with digits on one side and letters on the other were tried as a clash
        # too: the evaluation's integrators map such customer ids as often as not)
        why.append("an identifier is not an amount with decimals")
        return _KEY_CLASH
    return 1.0


def _confidence(score: float) -> float:
    return 1.0 / (1.0 + math.exp(-_STEEP * (score - NO_SOURCE)))


def suggest(source: Schema, target: Schema, top: int = 3,
            disabled: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    """The suggestions (see the module docstring)."""
    on = {s for s in SIGNALS if s not in disabled}
    t, s = Side(target), Side(source)
    nt, ns = len(t.fields), len(s.fields)
    scores: list[list[float]] = []
    reasons: list[list[list[str]]] = []
    for i in range(nt):
        row, why_row = [], []
        for j in range(ns):
            sc, why = _pair(t, i, s, j, on)
            row.append(sc)
            why_row.append(why)
        if t.own_number[i]:
            # weaker in the assignment too: the source it looks like (the source's order id)
            # usually feeds another target (the reference), which should get it
            row = [sc * _OWN_FACTOR for sc in row]
        scores.append(row)
        reasons.append(why_row)
    chosen = _assign(scores, nt, ns) if "assignment" in on else [max(range(ns), key=r.__getitem__, default=-1)
                                                                  if r and max(r) >= NO_SOURCE else -1
                                                                  for r in scores]
    if "assignment" in on and "structure" in on:
        bonus = _parent_bonus(t, s, scores, chosen)
        if bonus:
            for (i, j), b in bonus.items():
                scores[i][j] += b
                reasons[i][j].append("its siblings map between the same parents")
            chosen = _assign(scores, nt, ns)
    out = []
    for i, f in enumerate(target.fields):
        order = sorted(range(ns), key=lambda j: -scores[i][j])[:max(top, 1) + 1]
        j0 = chosen[i]
        if j0 >= 0:
            order = [j0] + [j for j in order if j != j0]
        cands = []
        for rank, j in enumerate(order[:top]):
            conf = _confidence(scores[i][j])
            if j0 < 0 or rank > 0:
                conf = min(conf, 0.49) if j0 < 0 else min(conf * 0.8, 0.49 if j in chosen else 0.9)
            why = reasons[i][j] or ["weak likeness only"]
            if t.own_number[i]:
                conf = min(conf, 0.49)
                why = [*why, _OWN_NUMBER] if rank == 0 else why
            cands.append({"source": source.fields[j].name, "confidence": round(conf, 3), "reason": "; ".join(why)})
        out.append({"target": f.name, "candidates": cands})
    return {"suggestions": out}


def _assign(scores: list[list[float]], nt: int, ns: int) -> list[int]:
    """One-to-one with a "no source" column per target worth :data:`NO_SOURCE`."""
    if nt == 0:
        return []
    padded = [row + [NO_SOURCE if k == i else -1.0 for k in range(nt)] for i, row in enumerate(scores)]
    got = assign(padded)
    return [j if j < ns and scores[i][j] >= NO_SOURCE else -1 for i, j in enumerate(got)]


def _parent_bonus(t: Side, s: Side, scores: list[list[float]], chosen: list[int]) -> dict[tuple[int, int], float]:
    """A small bonus for pairs whose parents the first pass aligned (most siblings agree)."""
    votes: dict[tuple[str, str], int] = {}
    size: dict[str, int] = {}
    for i, j in enumerate(chosen):
        if t.parents[i]:
            size[t.parents[i]] = size.get(t.parents[i], 0) + 1
        if j >= 0 and t.parents[i] and s.parents[j]:
            key = (t.parents[i], s.parents[j])
            votes[key] = votes.get(key, 0) + 1
    out: dict[tuple[int, int], float] = {}
    for i in range(len(scores)):
        tp = t.parents[i]
        if not tp:
            continue
        for j, sp in enumerate(s.parents):
            v = votes.get((tp, sp), 0)
            if v >= 2 and scores[i][j] > 0.35:
                out[(i, j)] = 0.12 * v / size[tp]
    return out
