"""Several "hosts" on one machine, made of Linux network namespaces, for the multi-host tests.

Contract of :class:`Hosts` (a context manager; needs root and ``ip netns``):

* ``Hosts(n)`` makes a switch namespace ``paxsw<tag>`` holding a Linux bridge, and ``n`` host
  namespaces ``pax<tag><letter>``, each with its loopback up and one veth interface ``eth0`` whose
  peer is on the bridge in the switch namespace. The addresses are one /24 of 198.18.0.0/15
  (RFC 2544, test networks): host ``i`` has ``198.18.N.(i+1)``, the bridge ``198.18.N.254`` (the
  test client's address). Every address and link of the harness lives inside its namespaces: the
  root (machine's) namespace gets none, no route, and nothing is routed off the machine.
* the test process reaches the hosts as a client on the switch: only inside
  ``with hosts.client():`` (or :func:`in_netns` with ``host.switch``), which moves the current
  thread into the switch namespace and back (network namespaces are per thread), so open a
  connection and use it inside that block. A subprocess acting as a client runs under
  ``ip netns exec <switch>`` (:meth:`Hosts.client_argv`).
* every host has its own scratch folder (``host.root``) and data folder (``host.data``): nothing
  relies on two hosts sharing a file;
* on exit, even after a failure: every process in each namespace is killed (``ip netns pids``),
  the namespaces are deleted (the switch with its bridge and veths too), the scratch folders removed.

:func:`start_postgres` runs a PostgreSQL server inside a host's namespace, listening on that
host's IP (trust auth from 198.18.0.0/15 only). :func:`unavailable` says why the harness cannot
run here (None when it can).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

from tests.pg import _bindir

__all__ = ["Host", "Hosts", "in_netns", "start_postgres", "unavailable", "ROOT"]

ROOT = Path(__file__).resolve().parents[2]
#: the test-network range (RFC 2544) the harness takes its /24 from
NET_PREFIX = "198.18"
_instances = itertools.count()
CLONE_NEWNET = 0x40000000
_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns(CLONE_NEWNET): {os.strerror(err)}")


@contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the block's network calls in the namespace ``name`` (made by ``ip netns add``): only the
    current thread moves, and it moves back when the block ends, even on an error. Sockets opened
    in the block stay in that namespace."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        target = os.open(f"/var/run/netns/{name}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            _setns(target)
        finally:
            os.close(target)
        try:
            yield
        finally:
            _setns(own)
    finally:
        os.close(own)


def unavailable() -> str | None:
    """Why the multi-host harness cannot run here, or None."""
    if os.geteuid() != 0:
        return "the multi-host tests make network namespaces and need root"
    if shutil.which("ip") is None:
        return "`ip` (iproute2) is not installed"
    probe = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if probe.returncode != 0:
        return f"`ip netns` does not work here: {probe.stderr.strip()[:200]}"
    return None


def _sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check)


def _free_subnet() -> int:
    """A third octet N such that 198.18.N.0/24 is on no interface of the root namespace (the
    harness adds none there; this only keeps clear of a real network using that range)."""
    used = _sh("ip", "-4", "-o", "addr", "show").stdout
    for n in [*range(7 + os.getpid() % 200, 250), *range(7, 250)]:
        if f" {NET_PREFIX}.{n}." not in used:
            return n
    raise RuntimeError("no free /24 left in 198.18.0.0/16 on this machine")


class Host:
    """One namespace: its name, IP, scratch folder and data folder."""

    def __init__(self, ns: str, ip: str, root: Path, switch: str = "") -> None:
        self.ns, self.ip, self.root = ns, ip, root
        self.switch = switch  # the switch namespace: ``in_netns(host.switch)`` reaches this host
        self.data = root / "data"
        self.data.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen[bytes]] = []
        self.veth = ""  # its end of the link, on the bridge in the switch namespace

    def __repr__(self) -> str:
        return f"Host({self.ns}, {self.ip})"

    def argv(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *argv]

    def run(self, argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 120,
            check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` inside the namespace and wait; raises with its output when it fails."""
        proc = subprocess.run(self.argv(argv), env=env, cwd=cwd or ROOT, capture_output=True, text=True,
                              timeout=timeout)
        if check and proc.returncode != 0:
            raise RuntimeError(f"{self.ns}: {' '.join(argv[:4])} … exited {proc.returncode}:\n"
                               f"{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
        return proc

    def spawn(self, argv: list[str], log: str, *, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start ``argv`` in the namespace in the background, output to ``root/<log>``."""
        out = open(self.root / log, "ab")  # noqa: SIM115 - the child keeps it open
        proc = subprocess.Popen(self.argv(argv), env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        self.procs.append(proc)
        return proc

    def pids(self) -> list[int]:
        out = _sh("ip", "netns", "pids", self.ns, check=False).stdout
        return [int(p) for p in out.split() if p.strip().isdigit()]

    def kill_all(self) -> int:
        """SIGKILL every process of this namespace (a host's sudden death); returns how many."""
        killed = 0
        for _ in range(5):  # daemons may fork while we kill: look again until none is left
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                    killed += 1
                except ProcessLookupError:
                    pass
            time.sleep(0.2)
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        return killed

    def log(self, name: str, tail: int = 3000) -> str:
        path = self.root / name
        return path.read_text(errors="replace")[-tail:] if path.exists() else ""


class Hosts:
    """``n`` hosts on one bridge (see the module docstring)."""

    def __init__(self, n: int = 3) -> None:
        if not 1 <= n <= 8:
            raise ValueError("Hosts(n): n must be 1 to 8.")
        self.n = n
        # unique per instance: a deleted namespace's links vanish asynchronously in the kernel
        self.tag = f"{os.getpid() % 1000:03d}{next(_instances) % 100:02d}"
        self.switch = f"paxsw{self.tag}"  # the bridge's namespace, where the test client sits
        self.bridge = f"paxbr{self.tag}"
        self._switch_made = False
        self.gateway = ""  # the bridge's address in the switch namespace, once up
        self.hosts: list[Host] = []
        # short: Ray's unix socket paths under each host's scratch must stay below 108 bytes
        self.scratch = Path(tempfile.mkdtemp(prefix="pax-"))
        self.scratch.chmod(0o755)  # PostgreSQL runs as its own user and must reach its folder

    def __enter__(self) -> Hosts:
        try:
            self._up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __getitem__(self, i: int) -> Host:
        return self.hosts[i]

    def client(self) -> AbstractContextManager[None]:
        """``with hosts.client():`` the current thread is a client on the switch (see the module
        docstring): open and use connections to the hosts inside the block."""
        return in_netns(self.switch)

    def client_argv(self, argv: list[str]) -> list[str]:
        """``argv`` run as a client on the switch (for a subprocess that connects to the hosts)."""
        return ["ip", "netns", "exec", self.switch, *argv]

    def _up(self) -> None:
        subnet = _free_subnet()
        self.gateway = f"{NET_PREFIX}.{subnet}.254"
        sw = ["ip", "-n", self.switch]
        _sh("ip", "netns", "add", self.switch)
        self._switch_made = True
        _sh(*sw, "link", "set", "lo", "up")
        _sh(*sw, "link", "add", self.bridge, "type", "bridge")
        _sh(*sw, "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _sh(*sw, "link", "set", self.bridge, "up")
        for i in range(self.n):
            letter = "abcdefgh"[i]
            ns, veth = f"pax{self.tag}{letter}", f"pax{self.tag}{letter}0"
            _sh("ip", "netns", "add", ns)
            host = Host(ns, f"{NET_PREFIX}.{subnet}.{i + 1}", self.scratch / letter, self.switch)
            host.veth = veth
            self.hosts.append(host)
            _sh("ip", "-n", ns, "link", "set", "lo", "up")
            # made in the switch namespace with its peer in the host's: no link in the root namespace
            _sh(*sw, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
            _sh(*sw, "link", "set", veth, "master", self.bridge)
            _sh(*sw, "link", "set", veth, "up")
            _sh("ip", "-n", ns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
            _sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def close(self) -> None:
        """Kill everything, delete the namespaces (the switch's with the bridge and the veths),
        remove the scratch. Never raises."""
        for host in self.hosts:
            try:
                host.kill_all()
            except Exception:  # noqa: BLE001 - teardown goes on whatever happens
                pass
            _sh("ip", "netns", "del", host.ns, check=False)
        if self._switch_made:
            try:  # client subprocesses (``ip netns exec <switch>``) a failed test may have left
                Host(self.switch, self.gateway, self.scratch / "switch").kill_all()
            except Exception:  # noqa: BLE001 - teardown goes on whatever happens
                pass
            _sh("ip", "netns", "del", self.switch, check=False)
        shutil.rmtree(self.scratch, ignore_errors=True)


def start_postgres(host: Host, port: int = 5432) -> str:
    """Start PostgreSQL in ``host``'s namespace on its IP; returns the admin URL (by IP). The
    server dies with the host (:meth:`Host.kill_all`)."""
    bindir = _bindir()
    root = host.root / "pg"
    root.mkdir(parents=True, exist_ok=True)
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    prefix = ["runuser", "-u", "postgres", "--"]
    env = dict(os.environ, LC_ALL="C.UTF-8")
    host.run([*prefix, f"{bindir}/initdb", "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8"], env=env)
    with open(data / "pg_hba.conf", "a") as hba:  # the hosts' network only, never anything routed
        hba.write("host all all 198.18.0.0/15 trust\n")
    opts = f"-c listen_addresses={host.ip} -p {port} -k {root} -c fsync=off -c max_connections=200"
    host.run([*prefix, f"{bindir}/pg_ctl", "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"],
             env=env)
    return f"postgresql://postgres@{host.ip}:{port}/postgres"
