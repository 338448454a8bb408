"""``serve`` and ``demo`` refuse to start next to a running one: taken ports (named with their
holder), a configured store the demo would otherwise wipe, a demo journal still in use. All of
these are decided before Ray or a sandbox starts, so these tests start neither."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from runtime.cli import app
from runtime.demo import DEMO_AX_PORT, DEMO_PS_PORT, demo_store_url
from runtime.dispatch_lease import DISPATCHER_LEASE
from runtime.messages import Message, new_message_id
from runtime.ports import port_holder, port_in_use
from runtime.store import Store

pytestmark = pytest.mark.unit
runner = CliRunner()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port this test process listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"PRESTA_AX_DATA_DIR": str(tmp_path / "data"), "PRESTA_AX_STORE_URL": "", "PRESTA_AX_CONFIG": "",
            "RAY_ADDRESS": "", **extra}


def test_the_port_check_names_the_listening_process(taken_port: int) -> None:
    assert port_in_use("127.0.0.1", taken_port) and port_in_use("0.0.0.0", taken_port)
    holder = port_holder(taken_port)
    assert holder is not None and holder.startswith("python") and holder.endswith(f" (pid {os.getpid()})")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    assert not port_in_use("127.0.0.1", port) and port_holder(port) is None


def test_serve_refuses_a_taken_port_in_one_line_naming_its_holder(taken_port: int, tmp_path: Path) -> None:
    r = runner.invoke(app, ["serve", "--port", str(taken_port)], env=_env(tmp_path))
    assert r.exit_code == 1
    lines = [ln for ln in r.output.splitlines() if ln.strip()]
    assert len(lines) == 1, r.output
    assert lines[0].startswith(f"Port {taken_port} (the bridge's HTTP port) is in use by ")
    assert f"(pid {os.getpid()})" in lines[0] and "--port" in lines[0]
    assert "Ray" not in r.output  # refused before anything started


def test_demo_refuses_a_taken_port_and_keeps_the_demo_journal(taken_port: int, tmp_path: Path) -> None:
    url = demo_store_url(tmp_path / "data")
    store = Store(url)
    mid, _ = store.append(Message(id=new_message_id(), entity="order", key="1", source="prestashop",
                                  event="order.created", payload={"id": 1}, idempotency_key="k1"))
    store.close()
    r = runner.invoke(app, ["demo"], env=_env(tmp_path, PRESTA_AX_PORT=str(taken_port)))
    assert r.exit_code == 1
    assert f"Port {taken_port} (the bridge's HTTP port) is in use by " in r.output
    assert f"(pid {os.getpid()})" in r.output and "Fresh demo" not in r.output
    store = Store(url)
    assert store.get(mid) is not None  # refused before the fresh start wiped anything
    store.close()


def test_demo_never_runs_on_a_configured_store(tmp_path: Path) -> None:
    own = f"sqlite:///{tmp_path / 'mine.db'}"
    r = runner.invoke(app, ["demo"], env=_env(tmp_path, PRESTA_AX_STORE_URL=own))
    assert r.exit_code == 2
    assert "never on yours" in r.output and "store.url" in r.output
    assert not (tmp_path / "mine.db").exists()


def test_demo_does_not_wipe_a_journal_whose_bridge_still_runs(tmp_path: Path) -> None:
    taken = [p for p in (DEMO_PS_PORT, DEMO_AX_PORT) if port_in_use("127.0.0.1", p)]
    if taken:
        pytest.skip(f"demo port(s) {taken} in use on this machine")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        bridge_port = s.getsockname()[1]
    store = Store(demo_store_url(tmp_path / "data"))
    store.acquire_lease(DISPATCHER_LEASE, "running-demo", 30, "the bridge started on host-x by pid 77")
    store.close()
    r = runner.invoke(app, ["demo"], env=_env(tmp_path, PRESTA_AX_PORT=str(bridge_port)))
    assert r.exit_code == 1
    assert "A demo bridge still runs on this data folder" in r.output and "pid 77" in r.output
    store = Store(demo_store_url(tmp_path / "data"))
    assert store.get_lease(DISPATCHER_LEASE).holder == "running-demo"
    store.close()


def test_serve_refuses_a_journal_another_bridge_dispatches_from_before_starting_ray(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    store = Store(url)
    store.acquire_lease(DISPATCHER_LEASE, "running", 30, "the bridge started on host-y by pid 88")
    store.close()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = runner.invoke(app, ["serve", "--port", str(port)], env=_env(tmp_path, PRESTA_AX_STORE_URL=url))
    assert r.exit_code == 1
    assert "Another bridge already dispatches from this journal" in r.output and "pid 88" in r.output
    assert "Starting Ray" not in r.output
