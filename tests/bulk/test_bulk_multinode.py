"""A bulk run on a 3-node Ray cluster with a PostgreSQL store: chunks run on more than one node
(counted per node), a node removed mid-run does not lose or duplicate a record, and a SQLite
store is refused on such a cluster. The cluster runs in its own process (multinode_run.py):
it must not meet this session's Ray."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.bulk.multinode_run import ITEMS

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]

ROOT = Path(__file__).resolve().parents[2]


def test_three_nodes_one_removed_mid_run(pg_database: str, tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "tests.bulk.multinode_run", pg_database, str(tmp_path)], cwd=ROOT,
                          env=dict(os.environ), capture_output=True, text=True, timeout=240)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line is not None, proc.stderr[-3000:]
    out = json.loads(line[len("RESULT "):])
    assert out["nodes"] == 3 and "PostgreSQL" in out["sqlite_refused"]
    assert out["removed"] and out["removed_mid_run"] and out["alive_after"] == 2
    assert out["status"] == "done" and out["counts"]["failed"] == 0
    assert len(out["chunk_nodes"]) >= 2  # chunks ran on more than one node
    assert out["posts"] == {"products": ITEMS}  # every record created once, the removed node's chunks included
    assert out["products"] == out["distinct"] == ITEMS
