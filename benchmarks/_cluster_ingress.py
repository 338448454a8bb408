"""Helper of benchmarks/cluster.py, run as a Ray driver inside the head host: redeploy the bridge's
Serve app (the product's own ingress class and settings) with N replicas, each asking for one unit
of the custom resource RESOURCE (``bench_ing``: one unit per host, so N replicas on N hosts;
``presta_ax_head``: the head only), then exit (the app stays: Serve is detached).

``python benchmarks/_cluster_ingress.py CONFIG REPLICAS RESOURCE``
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import ray  # noqa: E402
from ray import serve  # noqa: E402

from runtime.config import load_settings  # noqa: E402
from runtime.serve_app import BridgeIngress  # noqa: E402
from runtime.server import APP_NAME, admin_token  # noqa: E402
from runtime.wire import to_wire  # noqa: E402


def main(config: str, replicas: int, resource: str) -> None:
    settings = load_settings(config)
    ray.init(address="auto", namespace=settings.namespace, log_to_driver=False)
    app = BridgeIngress.options(  # type: ignore[attr-defined]
        num_replicas=replicas,
        ray_actor_options={"num_cpus": settings.server.replica_cpus, "resources": {resource: 1}},
        logging_config={"enable_access_log": False},
    ).bind(to_wire(settings), admin_token(settings)[0])
    serve.run(app, name=APP_NAME, route_prefix="/", blocking=False)
    print(f"DEPLOYED {replicas}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), sys.argv[3])
