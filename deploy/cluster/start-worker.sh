#!/usr/bin/env bash
# Start a Ray worker node joined to the head at RAY_HEAD_IP (set by `ray up` on worker nodes).
# The worker start command of both cluster launcher configs.
set -euo pipefail
. "$(dirname "$0")/env.sh"
"$BIN/ray" stop
"$BIN/ray" start --address="$RAY_HEAD_IP:6379" --object-manager-port=8076 --disable-usage-stats "${node_args[@]}"
