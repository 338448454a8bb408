#!/usr/bin/env bash
# Start Ray's head on this node, then the bridge (`presta-ax serve --address auto`) in the
# background when its configuration file exists (PRESTA_AX_CONFIG, default
# ~/presta-ax-bridge/integration.yaml; its output in ~/presta-ax-serve.log). The head start
# command of both cluster launcher configs. Re-running it restarts both.
set -euo pipefail
. "$(dirname "$0")/env.sh"
"$BIN/ray" stop
"$BIN/ray" start --head --port=6379 --object-manager-port=8076 --dashboard-host=0.0.0.0 \
  --autoscaling-config="$HOME/ray_bootstrap_config.yaml" --disable-usage-stats "${head_args[@]}" "${node_args[@]}"
config="${PRESTA_AX_CONFIG:-$SRC/integration.yaml}"
pidfile="$HOME/presta-ax-serve.pid"
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  kill "$(cat "$pidfile")" && sleep 2
fi
if [ -f "$config" ]; then
  setsid nohup "$BIN/presta-ax" serve --config "$config" --address auto \
    > "$HOME/presta-ax-serve.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  echo "presta-ax serve started (log: ~/presta-ax-serve.log)"
else
  echo "no $config: start the bridge with: $BIN/presta-ax serve --config FILE --address auto"
fi
