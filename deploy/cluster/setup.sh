#!/usr/bin/env bash
# Install Presta-AX Bridge from its checkout into a venv on this node. The one setup command of
# both cluster launcher configs (cluster.yaml, deploy/cluster/local.yaml): `ray up` runs it on
# every node, after file_mounts copied the checkout to ~/presta-ax-bridge.
#   PRESTA_AX_SRC           the checkout (default: ~/presta-ax-bridge)
#   PRESTA_AX_OFFLINE_SITE  a site-packages folder that already holds the dependencies (a node
#                           without a package index): linked into the venv, only the project is
#                           installed from the checkout. The Python version must be the same.
#   PRESTA_AX_WHEELS        with it: a folder of wheels holding the build requirements
#                           (pyproject.toml [build-system]: setuptools>=77, wheel)
# Idempotent: a second run reuses the venv.
set -euo pipefail
SRC="${PRESTA_AX_SRC:-$HOME/presta-ax-bridge}"
VENV="$SRC/.venv"
PY="${PYTHON:-python3}"
if [ -n "${PRESTA_AX_OFFLINE_SITE:-}" ]; then
  [ -x "$VENV/bin/python" ] || "$PY" -m venv --without-pip "$VENV"
  site=$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$PRESTA_AX_OFFLINE_SITE" > "$site/presta-ax-offline.pth"
  "$VENV/bin/python" -m pip install -q --no-index --find-links "${PRESTA_AX_WHEELS:?set with PRESTA_AX_OFFLINE_SITE}" \
    --no-deps -e "$SRC"
  # the linked dependencies' commands are not in this venv: write their launchers (as pip would)
  for cmd in "ray:ray.scripts.scripts:main" "serve:ray.serve.scripts:cli"; do
    name=${cmd%%:*} target=${cmd#*:}
    printf '#!%s\nimport sys\nfrom %s import %s\nsys.exit(%s())\n' "$VENV/bin/python" "${target%:*}" \
      "${target##*:}" "${target##*:}" > "$VENV/bin/$name"
    chmod +x "$VENV/bin/$name"
  done
else
  [ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q -e "$SRC"
fi
"$VENV/bin/presta-ax" --help > /dev/null
# `ray exec CONFIG 'presta-ax ...'` and `ray down` (its `ray stop`) run in a login shell that reads
# ~/.bashrc: put the venv's commands on its PATH, once
line="export PATH=\"$VENV/bin:\$PATH\"  # presta-ax-bridge"
touch "$HOME/.bashrc"
grep -qxF "$line" "$HOME/.bashrc" || echo "$line" >> "$HOME/.bashrc"
echo "presta-ax installed in $VENV"
