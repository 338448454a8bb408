"""A throw-away PostgreSQL server that a chaos run can stop and start again (the store restart).

``PgServer().start()`` runs initdb in a temp folder and ``pg_ctl start`` on a free port (trust
auth, 127.0.0.1 only, fsync off: a benchmark's server, never a user's); :meth:`PgServer.stop`
ends it the hard way (``-m immediate``: every client connection breaks, as in a crash or a
failover) and :meth:`PgServer.start` brings the same data back on the same port.
:meth:`PgServer.close` stops it and deletes the folder. Needs the PostgreSQL server binaries
(Debian's ``postgresql`` package; .ci/run installs it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile

from tests.pg import _bindir  # the binaries the tests' own server uses

__all__ = ["PgServer"]


class PgServer:
    """One PostgreSQL server in a temp folder; :attr:`url` is the admin URL of its ``postgres`` database."""

    def __init__(self) -> None:
        self._bin = _bindir()
        self.root = tempfile.mkdtemp(prefix="presta-ax-pg-")
        self.data = os.path.join(self.root, "data")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        # the server refuses to run as root: run it as the 'postgres' user then
        self._prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self._prefix:
            shutil.chown(self.root, "postgres", "postgres")
        self._env = dict(os.environ, LC_ALL="C.UTF-8")
        self._run("initdb", "-D", self.data, "-U", "postgres", "-A", "trust", "-E", "UTF8")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self._prefix, f"{self._bin}/{tool}", *args], check=True, capture_output=True, env=self._env)

    def start(self) -> PgServer:
        opts = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.root} -c fsync=off -c max_connections=300"
        self._run("pg_ctl", "-D", self.data, "-o", opts, "-l", os.path.join(self.root, "log"), "-w", "start")
        return self

    def stop(self) -> None:
        """Stop at once (``immediate``): open connections break, the next start recovers from the WAL."""
        self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create database ``name`` (letters, digits, underscores) and return its URL."""
        import psycopg

        if not name.replace("_", "").isalnum():
            raise ValueError(f"database name {name!r}: use letters, digits and underscores only")
        with psycopg.connect(self.url, autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def close(self) -> None:
        subprocess.run([*self._prefix, f"{self._bin}/pg_ctl", "-D", self.data, "-m", "immediate", "stop"],
                       capture_output=True, env=self._env)
        shutil.rmtree(self.root, ignore_errors=True)
