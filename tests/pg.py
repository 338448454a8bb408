"""A throw-away PostgreSQL server for the tests: initdb in a temp folder, pg_ctl start, trust auth
on 127.0.0.1 and a free port. Set PRESTA_AX_TEST_PG_URL to use an existing server instead."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["postgres_server"]


def _bindir() -> str:
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    if not candidates:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) are not installed: "
                           "install Debian's 'postgresql' package (the CI script does).")
    return os.path.dirname(candidates[0])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def postgres_server() -> Iterator[str]:
    """Yield an admin URL ``postgresql://postgres@127.0.0.1:PORT/postgres``; stop and delete after."""
    if os.environ.get("PRESTA_AX_TEST_PG_URL"):
        yield os.environ["PRESTA_AX_TEST_PG_URL"]
        return
    bindir = _bindir()
    root = tempfile.mkdtemp(prefix="presta-ax-pg-")
    data = os.path.join(root, "data")
    port = _free_port()
    prefix: list[str] = []
    if os.geteuid() == 0:  # the server refuses to run as root: run it as the 'postgres' user
        shutil.chown(root, "postgres", "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    env = dict(os.environ, LC_ALL="C.UTF-8")
    subprocess.run([*prefix, f"{bindir}/initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8"],
                   check=True, capture_output=True, env=env)
    opts = f"-c listen_addresses=127.0.0.1 -p {port} -k {root} -c fsync=off -c max_connections=200"
    subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-o", opts, "-l", os.path.join(root, "log"), "-w", "start"],
                   check=True, capture_output=True, env=env)
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"], capture_output=True, env=env)
        shutil.rmtree(root, ignore_errors=True)
