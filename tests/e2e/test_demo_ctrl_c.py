"""``presta-ax demo`` as a newcomer runs it, in a subprocess: both sandboxes, a local Ray with the
bridge, the traffic generator and the summary line. Its traffic reaches AX (the summary says so),
and Ctrl-C stops everything within 10 s, leaving no process behind - no sandbox, no raylet, no
gcs_server, no ``ray::`` worker of that demo's Ray session.

Other Ray instances run on this machine, so the scan is limited to the processes this test
started: every one of them (the CLI, its sandboxes, Ray's daemons and workers) inherits the
demo's environment, in which ``PRESTA_AX_DATA_DIR`` names this test's own scratch folder.
The 10 s bound is the issue's requirement, measured from the signal to the last process gone;
it is generous for what the stop does (about 2 s on a quiet machine)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
SUMMARY = re.compile(r"^summary \d\d:\d\d:\d\d orders (\d+) received, (\d+) in AX, \d+ shipped, \d+ invoiced \| "
                     r"synced: \d+ customers, \d+ stock, \d+ prices \| messages: \d+ pending, \d+ retrying, "
                     r"\d+ dead \| \d+ echoes skipped \| \d+ conflicts$")


def _free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def _marked(marker: bytes) -> dict[int, str]:
    """pid -> command line of every live process whose environment holds ``marker``."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            if marker not in environ:
                continue
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile, or not ours to read
            continue
        out[int(entry)] = cmdline.strip()
    return out


def _ray_kind(cmdline: str) -> str | None:
    for kind in ("gcs_server", "raylet", "ray::"):
        if kind in cmdline:
            return kind
    return None


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc")
def test_ctrl_c_stops_the_demo_within_10_s_and_leaves_no_ray_process(tmp_path: Path) -> None:
    data = tmp_path / "data"
    marker = f"PRESTA_AX_DATA_DIR={data}".encode()
    bridge, shop, ax = _free_ports(3)
    env = {**os.environ, "PRESTA_AX_DATA_DIR": str(data), "PRESTA_AX_STORE_URL": "", "PRESTA_AX_CONFIG": "",
           "RAY_ADDRESS": "", "RAY_AUTH_MODE": "disabled", "PYTHONUNBUFFERED": "1"}
    env.pop("PRESTA_AX_PORT", None)
    # its own session and process group, as a terminal gives a foreground job: Ctrl-C reaches the group
    proc = subprocess.Popen(
        [sys.executable, "-m", "runtime.cli", "demo", "--port", str(bridge), "--shop-port", str(shop),
         "--ax-port", str(ax), "--rate", "2", "--summary-every", "2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(ln.decode(errors="replace").rstrip("\n")
                                                          for ln in proc.stdout), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        deadline = time.monotonic() + 240
        summaries: list[re.Match[str]] = []
        while time.monotonic() < deadline and proc.poll() is None:
            summaries = [m for m in map(SUMMARY.match, list(lines)) if m]
            if summaries and int(summaries[-1].group(2)) > 0:
                break  # the traffic's orders are in AX
            time.sleep(0.5)
        output = "\n".join(lines)
        assert proc.poll() is None, output
        assert summaries, output
        assert int(summaries[-1].group(1)) >= int(summaries[-1].group(2)) > 0, output

        running = _marked(marker)
        kinds = {_ray_kind(c) for c in running.values()}
        assert {"gcs_server", "raylet", "ray::"} <= kinds, running  # the scan sees this demo's Ray

        sent = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        left = _marked(marker)
        while left and time.monotonic() - sent < 10:
            time.sleep(0.2)
            left = _marked(marker)
        stopped_in = time.monotonic() - sent
        assert proc.poll() is not None, "\n".join(lines[-20:])
        assert left == {}, left
        assert stopped_in <= 10, stopped_in
        assert "Stopped; every acknowledged message is in the journal." in lines, "\n".join(lines[-20:])
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _marked(marker):  # only the processes this test started
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        proc.wait(timeout=10)
