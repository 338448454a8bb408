"""One chaos campaign for the chaos tests that judge it (test_campaign.py: the invariants;
test_no_secrets_leak.py: nothing secret or personal in its logs, spans and API answers).

It runs once per session, in a process of its own (``benchmarks/chaos.py``: its own two-node
Ray cluster, which must not meet this session's Ray), with its files kept and its spans exported
to a file, so both tests read the same run and the suite pays for one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: orders of the suite's campaign: the benchmark's ``--quick`` (1,000; about 7 minutes on 2 cores)
ORDERS = int(os.environ.get("PRESTA_AX_CHAOS_ORDERS", "1000"))


@dataclass
class CampaignRun:
    result: dict[str, Any] | None  # None when the campaign wrote no result (see output)
    work: Path
    output: str  # the campaign's stdout and stderr
    returncode: int


@pytest.fixture(scope="session")
def chaos_campaign(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CampaignRun]:
    base = tmp_path_factory.mktemp("chaos")
    work, out = base / "work", base / "result.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "chaos.py"), "--orders", str(ORDERS), "--rate", "5",
           "--seed", "7", "--ax-down", "20", "--drain-timeout", "900", "--workdir", str(work),
           "--trace", str(work / "spans.jsonl"), "--json", str(out)]
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=2400)
    result = json.loads(out.read_text()) if out.exists() else None
    yield CampaignRun(result, work, run.stdout + run.stderr, run.returncode)
    ray_dir = work / "ray-dir"
    if ray_dir.exists():
        shutil.rmtree(ray_dir.read_text().strip(), ignore_errors=True)
