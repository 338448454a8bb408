"""Measuring the suggester on pairs with ground truth (the benchmark and the tests use it; a
user can measure it on their own pairs).

A pair file: ``{"description", "source": schema, "target": schema, "truth": {target: source or
null}}``. :func:`evaluate` returns ``top1`` (share of targets with a true source whose first
candidate is it), ``top3`` (within the first three), ``false_rate`` (share of targets without a
source given a candidate of confidence >= 0.5) and the counts, plus the misses for inspection.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pipelines.ai.suggest.engine import suggest
from pipelines.ai.suggest.schema import parse_schema

__all__ = ["evaluate", "load_pairs"]


def load_pairs(folder: Path) -> list[dict[str, Any]]:
    """Every ``*.json`` pair of ``folder``, sorted by name, with ``name`` set."""
    out = []
    for path in sorted(Path(folder).glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        data["name"] = path.stem
        out.append(data)
    return out


def evaluate(pairs: list[dict[str, Any]], disabled: frozenset[str] | set[str] = frozenset()) -> dict[str, Any]:
    hit1 = hit3 = n_src = false = n_none = 0
    misses: list[str] = []
    for pair in pairs:
        src = parse_schema(pair["source"], "source")
        tgt = parse_schema(pair["target"], "target")
        result = suggest(src, tgt, top=3, disabled=disabled)
        for entry in result["suggestions"]:
            truth = pair["truth"].get(entry["target"])
            cands = entry["candidates"]
            if truth is None:
                n_none += 1
                if cands and cands[0]["confidence"] >= 0.5:
                    false += 1
                    misses.append(f"{pair['name']}: {entry['target']} (no source) <- {cands[0]['source']} "
                                  f"{cands[0]['confidence']}")
                continue
            n_src += 1
            names = [c["source"] for c in cands]
            hit1 += bool(names[:1] == [truth])
            hit3 += truth in names[:3]
            if names[:1] != [truth]:
                got = f"{cands[0]['source']} {cands[0]['confidence']}" if cands else "nothing"
                misses.append(f"{pair['name']}: {entry['target']} <- {got} (truth {truth})")
    return {"top1": hit1 / n_src if n_src else 0.0, "top3": hit3 / n_src if n_src else 0.0,
            "false_rate": false / n_none if n_none else 0.0, "targets": n_src, "no_source_targets": n_none,
            "misses": misses}
