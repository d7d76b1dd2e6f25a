"""The service tables under store faults found by ``bench/load.py``.

- PostgreSQL: every pooled connection the server dropped used to fail one request each when
  next handed out (``pg_terminate_backend`` of the service: up to the pool's size of 503s).
- SQLite: a write transaction that read first failed at once with "database is locked" when
  another connection had committed in between (the feeds under load, with Kafka workers).
"""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest
from conftest import ADMIN_TOKEN, PG_URL

from services.config import Settings
from services.runtime import open_runtime, startup_lock


def test_reads_survive_the_server_dropping_every_connection(
    pg_schema: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"tl-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("PGAPPNAME", name)  # this runtime's connections, nobody else's
    rt = open_runtime(Settings(data_dir=tmp_path, database_url=f"{PG_URL}?schema={pg_schema}",
                               admin_token=ADMIN_TOKEN))
    try:
        barrier = threading.Barrier(6)

        def hold() -> None:  # several pooled connections in use at once, then idle
            with rt.tables.transaction(commit=False) as tx:
                tx.query("SELECT 1 AS one")
                barrier.wait(timeout=10)

        threads = [threading.Thread(target=hold) for _ in range(5)]
        for t in threads:
            t.start()
        barrier.wait(timeout=10)
        for t in threads:
            t.join(timeout=10)
        with psycopg.connect(PG_URL, autocommit=True, application_name=f"{name}-killer") as conn:
            killed = conn.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND application_name = %s",
                (name,)).fetchone()
        assert killed is not None
        assert killed[0] >= 5
        time.sleep(0.2)
        for _ in range(20):  # each would hit a dead connection without the pool check
            assert rt.tables.query("SELECT 1 AS one") == [{"one": 1}]
        assert set(rt.view_lag().values()) == {0}
    finally:
        rt.close()


def test_sqlite_write_transactions_wait_for_each_other(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token=ADMIN_TOKEN)
    first, second = open_runtime(settings), open_runtime(settings)  # two processes' worth
    try:
        first.tables.execute("CREATE TABLE t (n INTEGER)")
        read = threading.Event()
        errors: list[Exception] = []

        def other_writer() -> None:
            read.wait(timeout=10)
            try:
                second.tables.execute("INSERT INTO t (n) VALUES (%s)", (2,))
            except Exception as exc:
                errors.append(exc)

        writer = threading.Thread(target=other_writer)
        writer.start()
        with first.tables.transaction() as tx:
            tx.query("SELECT count(*) AS n FROM t")  # read first ...
            read.set()
            time.sleep(0.3)  # ... the other connection writes meanwhile ...
            tx.execute("INSERT INTO t (n) VALUES (%s)", (1,))  # ... then write
        writer.join(timeout=30)
        assert errors == []
        assert sorted(r["n"] for r in first.tables.query("SELECT n FROM t")) == [1, 2]
    finally:
        first.close()
        second.close()


def test_startups_on_one_postgres_schema_take_turns(pg_schema: str, tmp_path: Path) -> None:
    """The API and its workers start together: their DDL on one schema used to collide
    ("tuple concurrently updated", a worker dead at start, ~1 start in 6 of three at once)."""
    settings = Settings(data_dir=tmp_path, database_url=f"{PG_URL}?schema={pg_schema}",
                        admin_token=ADMIN_TOKEN)
    open_runtime(settings).close()
    opened = threading.Event()

    def start() -> None:
        open_runtime(settings).close()
        opened.set()

    other = threading.Thread(target=start)
    with startup_lock(settings.store_env()):  # another process is starting
        other.start()
        assert not opened.wait(1.0), "started while another start-up held the schema"
    assert opened.wait(30)
    other.join(timeout=30)
