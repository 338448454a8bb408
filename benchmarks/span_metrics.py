"""What the span-derived metrics cost on the hot path (runtime.metrics.SpanMetrics).

Inside a Ray actor (where ``ray.util.metrics`` really records), one "message" is an attempt span
(CONSUMER, with entity/flow/outcome) and three connector CLIENT spans, as the entity actor makes
them. Baseline: a tracer provider without SpanMetrics; measured: the same with SpanMetrics, once
as the span's owner pays it (queue the span) and once including the flusher's work (counters and
histograms through Ray's metrics API, done by its thread once a second). Prints microseconds per
message and the ratios, interleaving rounds so a busy machine hurts all alike.

    .venv/bin/python benchmarks/span_metrics.py [--quick]
"""

from __future__ import annotations

import argparse
import os
import statistics

os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # a loopback-only Ray (runtime/local_ray.py)

import ray  # noqa: E402


@ray.remote(num_cpus=0)
class Bench:
    def run(self, n: int, rounds: int) -> dict[str, list[float]]:
        import time

        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.trace import SpanKind

        from runtime.metrics import SpanMetrics

        base = TracerProvider()
        with_metrics = TracerProvider()
        with_metrics.add_span_processor(SpanMetrics())

        from runtime import metrics

        metrics._FLUSH_S = 3600.0  # no background flush inside a timed round: the rounds flush explicitly
        def messages(provider: TracerProvider, flush: bool = False) -> float:
            tracer = provider.get_tracer("bench")
            t0 = time.perf_counter()
            for i in range(n):
                with tracer.start_as_current_span("process order order.created", kind=SpanKind.CONSUMER) as s:
                    s.set_attribute("entity", "order")
                    s.set_attribute("flow", "ps_order_to_ax")
                    for op in ("find", "create", "read"):
                        with tracer.start_as_current_span(f"ax SalesOrderService.{op}", kind=SpanKind.CLIENT,
                                                          attributes={"ax.service": "SalesOrderService",
                                                                      "ax.operation": op}):
                            pass
                    s.set_attribute("message.outcome", "done" if i % 10 else "retry")
            if flush:  # the flusher thread's work for these spans, counted in the round
                metrics._flush()
            elapsed = time.perf_counter() - t0
            metrics._flush()  # (untimed unless counted above) the next round starts with nothing queued
            return elapsed / n * 1e6

        out: dict[str, list[float]] = {"baseline": [], "span_metrics": [], "with_flush": []}
        messages(with_metrics, flush=True)  # warm up: the metric objects are made on first use
        for _ in range(rounds):
            out["baseline"].append(messages(base))
            out["span_metrics"].append(messages(with_metrics))
            out["with_flush"].append(messages(with_metrics, flush=True))
        return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and rounds (a smoke run)")
    args = parser.parse_args()
    n, rounds = (500, 3) if args.quick else (5000, 7)
    ray.init("local", num_cpus=1, include_dashboard=False, log_to_driver=False)  # never a running cluster
    try:
        result = ray.get(Bench.remote().run.remote(n, rounds))
    finally:
        ray.shutdown()
    base, hot, total = (statistics.median(result[k]) for k in ("baseline", "span_metrics", "with_flush"))
    print(f"messages per round: {n}, rounds: {rounds} (medians)")
    print(f"baseline (4 spans, no metrics):             {base:8.1f} us/message")
    print(f"SpanMetrics, span owner's path:             {hot:8.1f} us/message  ratio {hot / base:.2f}")
    print(f"SpanMetrics incl. the flusher's Ray calls:  {total:8.1f} us/message  ratio {total / base:.2f}")


if __name__ == "__main__":
    main()
