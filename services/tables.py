"""Service tables beside the event store, in the same database (SQLite file or PostgreSQL).

Only what does not belong in the append-only log lives here (hashed tokens, the views' rows
and positions).  Statements are written with ``%s`` placeholders and work on both.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, Protocol

from eventsourcing.application import Application
from eventsourcing.persistence import InterfaceError, OperationalError

from services.shared_transaction import install

READ_ATTEMPTS = 3  # PostgreSQL: a read on a connection the server dropped is tried again
WRITE_LOCK = "tl_write_lock"  # SQLite: an empty table a write transaction first "updates"


class Reader(Protocol):
    """What reads need: the service tables, or one open transaction (a consistent view)."""

    def name(self, table: str) -> str: ...

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]: ...


class Tx:
    """One open transaction: execute and query with ``%s`` placeholders."""

    def __init__(self, db: ServiceTables, cursor: Any) -> None:
        self.db = db
        self.cursor = cursor

    def name(self, table: str) -> str:
        return self.db.name(table)

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        self.cursor.execute(self.db.sql(statement), params)
        raw = getattr(self.cursor, "sqlite_cursor", self.cursor)  # the library wraps sqlite3's
        return int(raw.rowcount)

    def executemany(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self.cursor.executemany(self.db.sql(statement), rows)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        self.cursor.execute(self.db.sql(statement), params)
        return [dict(row) for row in self.cursor.fetchall()]

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """A nested transaction: what the block did is undone if it raises (and re-raised),
        while the outer transaction stays usable (on PostgreSQL, too)."""
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")


class ServiceTables:
    def __init__(self, app: Application[Any]) -> None:
        self.datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
        self.is_postgres = type(self.datastore).__name__ == "PostgresDatastore"
        self.schema = self.datastore.schema if self.is_postgres else ""
        self.shared = install(self.datastore)
        if not self.is_postgres:
            with self.datastore.transaction(commit=True) as cursor:
                cursor.execute(f"CREATE TABLE IF NOT EXISTS {WRITE_LOCK} (id INTEGER PRIMARY KEY)")

    def shared_transaction(self) -> AbstractContextManager[None]:
        """Open this thread's shared transaction (:mod:`services.shared_transaction`), with
        SQLite's write lock taken first, as every write transaction here does."""
        return self.shared.open("" if self.is_postgres else
                                f"UPDATE {WRITE_LOCK} SET id = id WHERE 0")

    def name(self, table: str) -> str:
        """Qualified table name (PostgreSQL tables go in the configured schema)."""
        return f'"{self.schema}".{table}' if self.is_postgres else table

    def sql(self, statement: str) -> str:
        return statement if self.is_postgres else statement.replace("%s", "?")

    def columns(self, table: str) -> set[str]:
        """The names of a table's columns (unqualified ``table``), to upgrade older stores."""
        if self.is_postgres:
            return {r["column_name"] for r in self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = %s "
                "AND table_name = %s", (self.schema, table))}
        return {r["name"] for r in self.query(f"PRAGMA table_info({table})")}

    def transaction(self, commit: bool = True) -> AbstractContextManager[Tx]:
        return self._transaction(commit, write_lock=commit)

    @contextmanager
    def _transaction(self, commit: bool, write_lock: bool) -> Iterator[Tx]:
        try:
            with self.datastore.transaction(commit=commit) as cursor:
                if write_lock and not self.is_postgres:
                    # Take SQLite's write lock now, waiting for it (the lock timeout) if
                    # another connection holds it.  A transaction that read first and wrote
                    # after another connection had committed failed at once with "database
                    # is locked" (WAL: its snapshot is stale, the busy handler is not called):
                    # under load the projection feeds kept failing, and the Kafka ones then
                    # rejoined their consumer group each time (bench/load.py, sqlite + kafka).
                    cursor.execute(f"UPDATE {WRITE_LOCK} SET id = id WHERE 0")
                yield Tx(self, cursor)
        except (InterfaceError, OperationalError):
            self.discard_broken_connections()
            raise

    def discard_broken_connections(self) -> None:
        """After a statement failed on a connection: check every idle pooled connection at
        once (an empty query each; broken ones are replaced in the background).  Without it,
        each connection the server had dropped (restart, failover, ``pg_terminate_backend``,
        a proxy's idle timeout) failed a request of its own when next handed out: a single
        drop cost up to the pool's size of 503s (bench/load.py --fault pg-drop)."""
        if self.is_postgres:
            with suppress(Exception):
                self.datastore.pool.check()

    def exists(self, table: str) -> bool:
        if self.is_postgres:
            rows = self.query("SELECT to_regclass(%s) AS t", (self.name(table),))
            return rows[0]["t"] is not None
        return bool(self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name = %s", (table,)))

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        # one statement: a write takes the lock itself, waiting for it (and a PRAGMA such
        # as wal_checkpoint must not run under a write lock of its own connection)
        with self._transaction(True, write_lock=False) as tx:
            return tx.execute(statement, params)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """One read; on PostgreSQL tried again (after the pool was checked) if the
        connection failed, as the event-sourcing library does with its own reads."""
        for attempt in range(1, READ_ATTEMPTS + 1):
            try:
                with self.transaction(commit=False) as tx:
                    return tx.query(statement, params)
            except (InterfaceError, OperationalError):
                if not self.is_postgres or attempt == READ_ATTEMPTS:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")
