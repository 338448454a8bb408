"""The ingress checks of ``test_ingress_fast_mode.py`` once more, in the Serve mode the session
does not run: a child pytest with its own local Ray (``PRESTA_AX_TEST_SERVE_MODE``, read by
tests/conftest.py). With HAProxy usable the session runs the fast mode and the child the
default one (what users without HAProxy get); when the session itself was forced into the
default mode, the child runs the fast one. Skipped when the other mode is the fast one and no
HAProxy is usable."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.fast_mode import haproxy_binary

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def test_the_ingress_checks_pass_in_the_other_serve_mode() -> None:
    session = os.environ.get("PRESTA_AX_TEST_SERVE_MODE", "fast")
    other = "default" if session == "fast" and haproxy_binary() is not None else "fast"
    if other == "fast" and haproxy_binary() is None:
        pytest.skip("no usable HAProxy: the fast mode cannot run here")
    env = {**os.environ, "PRESTA_AX_TEST_SERVE_MODE": other, "PYTHONUNBUFFERED": "1"}
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          str(ROOT / "tests" / "e2e" / "test_ingress_fast_mode.py")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    tail = run.stdout[-4000:] + run.stderr[-2000:]
    assert run.returncode == 0, tail
    summary = re.search(r"(\d+) passed", run.stdout)
    assert summary is not None and int(summary.group(1)) >= 8, tail  # every check ran, none skipped
    assert "skipped" not in run.stdout.splitlines()[-1], tail
