"""Helpers for the erasure tests: FIT uploads, a real fault in a purge step, another store."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import psycopg
from conftest import PG_URL, drop_schema
from fastapi.testclient import TestClient
from psycopg import sql

from services.config import Settings
from services.runtime import Runtime
from services.workers import Workers


def upload_fit(client: TestClient, headers: dict[str, str], athlete_id: str, name: str,
               data: bytes) -> dict[str, object]:
    """Upload one FIT file through the API and wait for the intake's answer."""
    r = client.post(f"/athletes/{athlete_id}/imports/fit", params={"wait": 30},
                    headers=headers, files=[("files", (name, data))])
    assert r.status_code == 202, r.text
    answer: dict[str, object] = r.json()[0]
    return answer


@contextmanager
def failing_deletes(rt: Runtime, table: str) -> Iterator[None]:
    """A trigger in the database refuses every DELETE from ``table`` while inside."""
    if rt.tables.is_postgres:
        schema = rt.tables.schema
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(sql.SQL(
                "CREATE FUNCTION {}.tl_test_refuse() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'injected fault: no delete'; END $$").format(
                sql.Identifier(schema)))
            conn.execute(sql.SQL("CREATE TRIGGER tl_test_refuse BEFORE DELETE ON {}.{} FOR EACH "
                                 "ROW EXECUTE FUNCTION {}.tl_test_refuse()").format(
                sql.Identifier(schema), sql.Identifier(table), sql.Identifier(schema)))
            try:
                yield
            finally:
                conn.execute(sql.SQL("DROP FUNCTION {}.tl_test_refuse() CASCADE").format(
                    sql.Identifier(schema)))
        return
    conn = sqlite3.connect(rt.settings.data_dir / "trainledger.sqlite3", isolation_level=None)
    try:
        conn.execute(f"CREATE TRIGGER tl_test_refuse BEFORE DELETE ON {table} "
                     "BEGIN SELECT RAISE(ABORT, 'injected fault: no delete'); END")
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER tl_test_refuse")
    finally:
        conn.close()


@contextmanager
def another_store(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty store of the same kind as ``settings`` (its PostgreSQL schema dropped after)."""
    if settings.backend == "sqlite":
        yield replace(settings, data_dir=tmp_path / "restored")
        return
    schema = f"tl_test_{uuid.uuid4().hex[:12]}"
    try:
        yield replace(settings, data_dir=tmp_path / "restored",
                      database_url=f"{PG_URL}?schema={schema}")
    finally:
        drop_schema(schema)


def every_file(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path: bytes)."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@contextmanager
def running_intake(rt: Runtime) -> Iterator[None]:
    """The in-process intake worker, which applies uploaded files."""
    workers = Workers(rt, relay=False, views=[], log_feed=False).start()
    try:
        yield
    finally:
        workers.stop()
