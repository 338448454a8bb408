"""What the webhook body checks cost (runtime.app.webhooks.decode_envelope: msgspec decode, then
the nesting bound and the repeated-key pass) against the plain msgspec decode of the same body,
measured in the same run: a typical order webhook (~1.7 KB), a big one (~60 KB, 100 order rows)
and a hostile one (nested 100,000 deep, refused). Prints microseconds per body and the ratio.

    python benchmarks/webhook_checks.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from runtime.app.webhooks import BodyProblem, _decode, decode_envelope  # noqa: E402


def _order(rows: int) -> bytes:
    data = {"resource": "orders", "id": 123, "reference": "XKBKNABJK", "id_customer": "5", "current_state": "2",
            "date_upd": "2026-11-26 10:00:00", "total_paid": "61.800000", "payment": "Check",
            "associations": {"order_rows": [
                {"id": str(i), "product_id": "1", "product_attribute_id": "0", "product_quantity": "2",
                 "product_name": "Hummingbird printed t-shirt", "product_reference": "demo_1",
                 "product_price": "23.900000", "unit_price_tax_incl": "28.680000"} for i in range(rows)]}}
    return json.dumps({"type": "order.created", "timestamp": "2026-01-01T10:00:00Z", "data": data}).encode()


def _per_call_us(fn, body: bytes, n: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(5):  # best of five: the machine is shared
        start = time.perf_counter()
        for _ in range(n):
            try:
                fn(body)
            except (BodyProblem, RecursionError, ValueError):
                pass
        best = min(best, (time.perf_counter() - start) / n * 1e6)
    return best


def main() -> None:
    quick = "--quick" in sys.argv
    cases = {"typical order (5 rows)": (_order(5), 20_000), "big order (100 rows)": (_order(100), 1_000),
             "nested 100k deep": (b'{"type":"order.created","data":{"id":1,"x":' + b"[" * 100_000 + b"]" * 100_000
                                  + b"}}", 50)}
    print(f"{'body':<26}{'bytes':>9}{'msgspec only us':>18}{'with checks us':>17}{'ratio':>8}")
    for name, (body, n) in cases.items():
        n = max(1, n // 10) if quick else n
        base = _per_call_us(_decode.decode, body, n)
        checked = _per_call_us(decode_envelope, body, n)
        print(f"{name:<26}{len(body):>9}{base:>18.1f}{checked:>17.1f}{checked / base:>8.2f}")


if __name__ == "__main__":
    main()
