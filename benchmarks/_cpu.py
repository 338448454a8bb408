"""CPU time by role on this machine, from ``/proc`` (Linux): what a benchmark's window cost the
bridge, each sandbox and the benchmark's own driver.

The bridge is every Ray process started under the benchmark's own process (``ray::…``
workers and actors, the raylet, the GCS, Ray's agents) and Serve's HAProxy; the sandboxes and the driver are named by their process ids. CPU
time is summed over live processes, so take both snapshots while everything still runs; a
process that ends in between (a killed worker) loses its share, which only understates.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

__all__ = ["cpu_by_role", "cpu_delta", "cpu_of_kind"]

_TICK = os.sysconf("SC_CLK_TCK")
_BRIDGE_MARKS = ("ray::", "raylet", "gcs_server", "ray/dashboard", "ray/_private", "haproxy", "runtime_env")


def _stat(pid: str) -> tuple[int, float]:
    """(parent pid, CPU seconds so far) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK  # ppid; utime + stime


def cpu_by_role(named: Mapping[str, int], root: int | None = None) -> dict[int, tuple[str, float]]:
    """A snapshot: each live process's role and CPU seconds so far. Roles: ``named`` (by pid),
    ``bridge`` (the Ray and Serve processes started under ``root``, default this process, which
    started the local Ray: other Rays on the machine are not ours) and ``other`` (everything
    else, e.g. other work sharing the cores)."""
    root = os.getpid() if root is None else root
    by_pid = {pid: role for role, pid in named.items()}
    seen: dict[int, tuple[int, float, str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid, cpu = _stat(entry.name)
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, IndexError, ValueError):
            continue  # ended meanwhile
        seen[int(entry.name)] = (ppid, cpu, cmd)

    def under_root(pid: int) -> bool:
        for _ in range(64):
            if pid == root:
                return True
            if pid in by_pid or pid not in seen:
                return False  # a named process's children are its own
            pid = seen[pid][0]
        return False

    out: dict[int, tuple[str, float]] = {}
    for pid, (_, cpu, cmd) in seen.items():
        role = by_pid.get(pid) or ("bridge" if pid != root and under_root(pid) and
                                   any(m in cmd for m in _BRIDGE_MARKS) else "other")
        out[pid] = (role, cpu)
        _NAMES[pid] = _short(cmd)
    return out


_NAMES: dict[int, str] = {}


def _short(cmd: str) -> str:
    """A process's kind: Ray's title (``ray::EntityActor``), else its program's file name."""
    first = cmd.split(" ", 1)[0]
    if first.startswith("ray::"):
        return first.split(".")[0]
    return first.rsplit("/", 1)[-1] + (" " + cmd.split()[1].rsplit("/", 1)[-1] if first.endswith("python") and
                                       len(cmd.split()) > 1 else "")


def cpu_of_kind(before: Mapping[int, tuple[str, float]], after: Mapping[int, tuple[str, float]],
                role: str) -> dict[str, float]:
    """CPU seconds between two snapshots of ``role``'s processes, by kind of process."""
    out: dict[str, float] = {}
    for pid, (r, cpu) in after.items():
        if r == role:
            kind = _NAMES.get(pid, "?")
            out[kind] = out.get(kind, 0.0) + max(0.0, cpu - before.get(pid, (r, 0.0))[1])
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def cpu_delta(before: Mapping[int, tuple[str, float]], after: Mapping[int, tuple[str, float]],
              roles: Iterable[str] = ()) -> dict[str, float]:
    """CPU seconds per role between two snapshots, per process (a process started in between
    counts from zero; one that ended is lost)."""
    out = dict.fromkeys([*roles, "bridge", "other"], 0.0)
    for pid, (role, cpu) in after.items():
        out[role] = out.get(role, 0.0) + max(0.0, cpu - before.get(pid, (role, 0.0))[1])
    return out
