"""The console's Vitest unit tests (console/src/**/*.test.ts[x]) as one pytest test, so
`make test` runs them. Needs the console's node_modules (`make console` installs them)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

CONSOLE = Path(__file__).resolve().parents[2] / "console"


def test_vitest_unit_tests_of_the_console_pass() -> None:
    npm = shutil.which("npm")
    if npm is None or not (CONSOLE / "node_modules").is_dir():
        if os.environ.get("CI"):
            pytest.fail("npm or console/node_modules is missing: run `make console` (needs Node >= 20)")
        pytest.skip("npm or console/node_modules is missing: run `make console` (needs Node >= 20)")
    run = subprocess.run([npm, "test", "--silent", "--", "--reporter=dot", "--color=false"], cwd=CONSOLE,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "CI": "1"})
    assert run.returncode == 0, f"Vitest failed:\n{run.stdout[-6000:]}\n{run.stderr[-3000:]}"
    assert "passed" in run.stdout, run.stdout[-2000:]  # a run that found no test file fails above
