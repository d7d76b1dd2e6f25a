"""Shared fixtures: every store-backed test runs against SQLite and the real PostgreSQL.

PostgreSQL tests use database ``test`` on 127.0.0.1:5432 (``TRAINLEDGER_TEST_PG`` overrides
the URL), each test in a schema of its own that is dropped afterwards.  When the server is
unreachable they are skipped, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

warnings.filterwarnings("ignore", message=".*httpx2.*")

from fastapi.testclient import TestClient  # noqa: E402

from services.api.app import create_app  # noqa: E402
from services.config import Settings  # noqa: E402
from services.runtime import Runtime, open_runtime  # noqa: E402

PG_URL = os.environ.get("TRAINLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
ADMIN_TOKEN = "tla_test-admin-token"
#: Tests send hundreds of writes a second with one token; the rate limit has tests of its own
#: (tests/integration/test_limits.py), which set it low.
WRITE_BURST = 1_000_000


def _pg_available() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip()


_PG_PROBLEM = _pg_available()


def require_postgres() -> None:
    if _PG_PROBLEM is None:
        return
    message = f"PostgreSQL unreachable at {PG_URL}: {_PG_PROBLEM}"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A fresh PostgreSQL schema, dropped after the test."""
    require_postgres()
    schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    yield schema
    drop_schema(schema)


def drop_schema(schema: str) -> None:
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, tmp_path: Path) -> Settings:
    """Settings for a fresh store of each kind, for one test."""
    if request.param == "sqlite":
        return Settings(data_dir=tmp_path, admin_token=ADMIN_TOKEN, write_burst=WRITE_BURST)
    schema = request.getfixturevalue("pg_schema")
    return Settings(
        data_dir=tmp_path, database_url=f"{PG_URL}?schema={schema}", admin_token=ADMIN_TOKEN,
        write_burst=WRITE_BURST,
    )


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def runtime(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """One store of each kind per test module; tests work on athletes of their own.
    (A fresh PostgreSQL schema per test costs about 0.4 s; use ``settings`` for that.)"""
    data_dir = tmp_path_factory.mktemp("store")
    schema = None
    if request.param == "postgres":
        require_postgres()
        schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    url = f"{PG_URL}?schema={schema}" if schema else None
    rt = open_runtime(Settings(data_dir=data_dir, database_url=url, admin_token=ADMIN_TOKEN,
                               write_burst=WRITE_BURST))
    yield rt
    rt.close()
    if schema:
        drop_schema(schema)


@pytest.fixture(scope="module")
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime), raise_server_exceptions=False) as c:
        yield c


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


ADMIN = bearer(ADMIN_TOKEN)


def new_athlete(client: TestClient, name: str = "Ada", **profile: Any) -> tuple[str, str]:
    """Create an athlete through the API; returns (athlete_id, token)."""
    r = client.post("/athletes", json={"name": name, **profile}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return r.json()["athlete"]["athlete_id"], r.json()["token"]


from kafka_broker import kafka_broker  # noqa: E402,F401  (fixture: a Tansu broker per test)
