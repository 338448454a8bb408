# Sourced by start-head.sh and start-worker.sh: the environment every Ray process of a node needs,
# set before `ray start` (Ray's processes inherit it when the node starts; docs/cluster.md).
# Serve's fast mode (HAProxy ingress, ~14x the default mode's throughput, docs/performance.md) on
# every node; the two timeouts are the bridge's defaults (Ray's own: 3600 s and none). Firewall
# HAProxy's extra ports (stats 8404, exporter 9101): they listen on every interface. Secrets are
# not set here: give them to the nodes' environment (PRESTA_AX_WEBHOOK_SECRETS, ...) or a file.
SRC="${PRESTA_AX_SRC:-$HOME/presta-ax-bridge}"
BIN="$SRC/.venv/bin"
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-presta-ax-bridge}"
export RAY_SERVE_ENABLE_HA_PROXY="${RAY_SERVE_ENABLE_HA_PROXY:-1}"
export RAY_SERVE_THROUGHPUT_OPTIMIZED="${RAY_SERVE_THROUGHPUT_OPTIMIZED:-1}"
export RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S="${RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S:-60}"
export RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S="${RAY_SERVE_HAPROXY_TIMEOUT_SERVER_S:-300}"
# `ray start`'s own default (no token) made explicit, so that a token file left on a node by a local
# `ray.init()` does not switch one node alone to token auth; keep the Ray ports inside the cluster's
# network (security group / firewall), or set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN on every node
export RAY_AUTH_MODE="${RAY_AUTH_MODE:-disabled}"
ulimit -n 65536 2>/dev/null || true
# optional flags: this node's IP, CPUs and custom resources (JSON, e.g. {"presta_ax_worker": 1000};
# a cloud cluster.yaml gives them per node type instead)
node_args=()
[ -n "${RAY_NODE_IP:-}" ] && node_args+=("--node-ip-address=$RAY_NODE_IP")
[ -n "${RAY_NUM_CPUS:-}" ] && node_args+=("--num-cpus=$RAY_NUM_CPUS")
[ -n "${PRESTA_AX_NODE_RESOURCES:-}" ] && node_args+=("--resources=$PRESTA_AX_NODE_RESOURCES")
[ -n "${RAY_OBJECT_STORE_BYTES:-}" ] && node_args+=("--object-store-memory=$RAY_OBJECT_STORE_BYTES")
# the head's dashboard (on by default: `serve deploy` and `ray job` need it); off saves a CPU-hungry
# start on small nodes
head_args=("--include-dashboard=${RAY_INCLUDE_DASHBOARD:-true}")
true
