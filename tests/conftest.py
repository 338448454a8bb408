"""Shared fixtures: a real PostgreSQL server per session, a fresh store URL per test on each backend."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# test flow modules (tests/...) must import in Ray workers too, which inherit this environment
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# a local Ray for tests must not leave an auth token behind that changes later `ray start` runs
os.environ.setdefault("RAY_AUTH_MODE", "disabled")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    from tests.pg import postgres_server

    with postgres_server() as url:
        yield url


def _fresh_pg_database(admin_url: str) -> str:
    import psycopg

    name = "t_" + uuid.uuid4().hex[:12]
    with psycopg.connect(admin_url, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return admin_url.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty store, once per backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'journal.db'}"
    return _fresh_pg_database(request.getfixturevalue("pg_admin_url"))


@pytest.fixture
def pg_database(pg_admin_url: str) -> str:
    return _fresh_pg_database(pg_admin_url)
