"""Is a TCP port free, and if not, what holds it: the check ``serve`` and ``demo`` make first.

A second ``presta-ax demo`` or ``serve`` on a machine where one runs must refuse before it starts
anything (Ray, the sandboxes, the journal), with a line that names the port and its holder, instead
of failing later in a log file. :func:`port_problems` does the check; :func:`port_holder` finds the
listening process on Linux through ``/proc`` (no extra dependency), and says "another program"
where it cannot (another OS, another user's process, a container boundary).

The check binds the port the way the servers do (``SO_REUSEADDR``), so a port left in TIME_WAIT
by a server that just stopped counts as free, and one that something listens on does not. It is a
check, not a reservation: a program may still take the port between the check and the start.
"""

from __future__ import annotations

import errno
import os
import socket
from pathlib import Path

__all__ = ["free_port", "port_holder", "port_in_use", "port_problems"]

_LISTEN = "0A"  # TCP state LISTEN in /proc/net/tcp


def port_in_use(host: str, port: int) -> bool:
    """True when binding ``host:port`` fails because the address is in use."""
    try:
        infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror:
        return False  # an unknown host fails later with its own message
    family, kind, proto, _, addr = infos[0]
    with socket.socket(family, kind, proto) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port free on ``host`` now (the OS picks it; free until someone binds it)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def _listening_inodes(port: int, proc: Path) -> set[str]:
    inodes = set()
    for table in ("tcp", "tcp6"):
        try:
            lines = (proc / "net" / table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 9 and fields[3] == _LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def _program(pid_dir: Path) -> str:
    """A short name for a process: the script or module a Python runs, else the program name.
    Only names, never arguments: a command line may carry secrets."""
    try:
        argv = [a for a in (pid_dir / "cmdline").read_bytes().decode(errors="replace").split("\0") if a]
    except OSError:
        argv = []
    if not argv:
        try:
            return (pid_dir / "comm").read_text().strip() or "a process"
        except OSError:
            return "a process"
    name = os.path.basename(argv[0].split()[0])
    if name.startswith("python") and len(argv) > 1:
        if argv[1] == "-m" and len(argv) > 2:
            return f"{name} -m {argv[2]}"
        if not argv[1].startswith("-"):
            return os.path.basename(argv[1])
    return name


def port_holder(port: int, proc: Path = Path("/proc")) -> str | None:
    """``"<program> (pid N)"`` of the process listening on TCP ``port``, or None if unknown."""
    inodes = _listening_inodes(port, proc)
    if not inodes:
        return None
    wanted = {f"socket:[{i}]" for i in inodes}
    try:
        pids = [p for p in proc.iterdir() if p.name.isdigit()]
    except OSError:
        return None
    for pid_dir in pids:
        try:
            fds = list((pid_dir / "fd").iterdir())
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                if os.readlink(fd) in wanted:
                    return f"{_program(pid_dir)} (pid {pid_dir.name})"
            except OSError:
                continue
    return None


def port_problems(wanted: list[tuple[str, int, str, str]]) -> list[str]:
    """Check ``(host, port, what, advice)`` entries; return one line per port in use, e.g.
    ``Port 8000 (the bridge's HTTP port) is in use by raylet (pid 42): <advice>``."""
    problems = []
    for host, port, what, advice in wanted:
        if port_in_use(host, port):
            holder = port_holder(port) or "another program"
            problems.append(f"Port {port} ({what}) is in use by {holder}: {advice}")
    return problems
