"""The anomaly guard on labelled streams: quality (F1, false holds), ablation per signal, speed.

Streams come from ``tests/ai_data/guard_streams.py`` (deterministic seeds): the ``tuned``
profile (the thresholds' defaults were set looking at it) and the ``heldout`` profile (other
seeds, currencies, B2B share, holiday and price scales; never tuned on). Each stream is scored
in order by :class:`pipelines.ai.guard.Scorer` exactly as ``presta-ax guard score`` does (each
event against the earlier ones only; held events are not learned), with the shop's currencies
given.

Baseline, measured in the same run: the fixed rules the default flows had before the anomaly
guard (hold an order above 20,000, a price <= 0, a stock above 100,000). Speed: events per
second of CPU time in this one process (one core), best of three rounds, for the scorer and for
the fixed rules. Nothing is asserted.

Prints per part ``guard_f1``, ``false_hold_rate`` (held clean events / clean events), recall per
kind, the ablation table (F1 with each signal switched off), and at the end ``guard_f1``,
``false_hold_rate`` (held-out part), ``guard_eps`` and ``guard_f1_ratio`` (vs the fixed rules).

Usage: ``python benchmarks/guard.py [--events 60000] [--quick]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pipelines.ai.guard import SIGNALS, Scorer  # noqa: E402
from pipelines.ai.guard.events import number  # noqa: E402
from tests.ai_data.guard_streams import generate, shop_currencies  # noqa: E402

PARTS = {"tuned": (1, 2), "heldout": (101, 102)}


def fixed_rules(event: dict[str, Any]) -> bool:
    """The pre-anomaly default flow guards, as a baseline."""
    d = event["data"]
    if event["type"] == "order.created":
        return (number(d.get("total_paid")) or 0) > 20000
    if event["type"] == "price.changed":
        return (number(d.get("new_price")) or 1) <= 0
    return (number(d.get("new_quantity")) or 0) > 100000


def quality(holds: list[bool], labels: list[str | None]) -> dict[str, Any]:
    tp = sum(1 for h, lab in zip(holds, labels, strict=True) if h and lab)
    fp = sum(1 for h, lab in zip(holds, labels, strict=True) if h and not lab)
    fn = sum(1 for h, lab in zip(holds, labels, strict=True) if not h and lab)
    clean = sum(1 for lab in labels if not lab)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    kinds: dict[str, list[int]] = {}
    for h, lab in zip(holds, labels, strict=True):
        if lab:
            k = kinds.setdefault(lab, [0, 0])
            k[0] += h
            k[1] += 1
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r,
            "false_hold_rate": fp / clean if clean else 0.0, "kinds": {k: v[0] / v[1] for k, v in kinds.items()}}


def run_scorer(stream: list[Any], currencies: list[str] | None,
               disabled: frozenset[str] = frozenset()) -> list[bool]:
    scorer = Scorer(currencies=currencies, disabled=disabled)
    states: dict[str, Any] = {}
    return [scorer.run(e, states).hold for e, _ in stream]


def eps(fn: Any, stream: list[Any], rounds: int = 3) -> float:
    best = float("inf")
    for _ in range(rounds):
        t0 = time.process_time()
        fn(stream)
        best = min(best, time.process_time() - t0)
    return len(stream) / best if best > 0 else float("inf")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=60000, help="events per stream (two streams per part)")
    ap.add_argument("--quick", action="store_true", help="short streams, for a smoke run")
    args = ap.parse_args()
    n = 8000 if args.quick else args.events
    results: dict[str, Any] = {}
    for part, seeds in PARTS.items():
        streams = [generate(seed, n, part) for seed in seeds]
        currencies = shop_currencies(part)
        labels = [lab for s in streams for _, lab in s]
        holds = [h for s in streams for h in run_scorer(s, currencies)]
        base = [fixed_rules(e) for s in streams for e, _ in s]
        q, qb = quality(holds, labels), quality(base, labels)
        results[part] = (q, qb)
        anomalies = sum(1 for lab in labels if lab)
        print(f"[{part}] {len(labels)} events, {anomalies} anomalies ({anomalies / len(labels):.1%})")
        print(f"  guard_f1: {q['f1']:.3f}  precision {q['precision']:.3f}  recall {q['recall']:.3f}  "
              f"false_hold_rate: {q['false_hold_rate']:.4f}")
        print(f"  fixed rules (baseline): f1 {qb['f1']:.3f}  false_hold_rate {qb['false_hold_rate']:.4f}")
        ql = quality([h for s in streams for h in run_scorer(s, None)], labels)
        print(f"  currencies learned from the stream (no list): f1 {ql['f1']:.3f}  "
              f"false_hold_rate {ql['false_hold_rate']:.4f}")
        print("  recall per kind: " + ", ".join(f"{k} {v:.2f}" for k, v in sorted(q["kinds"].items())))
        print("  ablation (signal switched off -> f1, false_hold_rate):")
        for sig in SIGNALS:
            qa = quality([h for s in streams for h in run_scorer(s, currencies, frozenset({sig}))], labels)
            print(f"    -{sig:<15} f1 {qa['f1']:.3f} ({qa['f1'] - q['f1']:+.3f})  "
                  f"false_hold_rate {qa['false_hold_rate']:.4f}")
    stream = generate(7, n, "tuned")
    cur = shop_currencies("tuned")
    scorer_eps = eps(lambda s: run_scorer(s, cur), stream)
    rules_eps = eps(lambda s: [fixed_rules(e) for e, _ in s], stream)
    q, qb = results["heldout"]
    print(f"scorer: {scorer_eps:,.0f} events/s on one core (fixed rules: {rules_eps:,.0f} events/s)")
    print(f"guard_f1: {q['f1']:.3f}")
    print(f"false_hold_rate: {q['false_hold_rate']:.4f}")
    print(f"guard_eps: {scorer_eps:.0f}")
    print(f"guard_f1_ratio: {q['f1'] / qb['f1'] if qb['f1'] else float('inf'):.2f}")


if __name__ == "__main__":
    main()
