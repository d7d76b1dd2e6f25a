"""Service tables beside the event store, in the same database (SQLite file or PostgreSQL).

Only what does not belong in the append-only log lives here (hashed tokens, the views' rows
and positions).  Statements are written with ``%s`` placeholders and work on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application


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


class ServiceTables:
    def __init__(self, app: Application[Any]) -> None:
        self.datastore: Any = app.recorder.datastore  # type: ignore[attr-defined]
        self.is_postgres = type(self.datastore).__name__ == "PostgresDatastore"
        self.schema = self.datastore.schema if self.is_postgres else ""

    def name(self, table: str) -> str:
        """Qualified table name (PostgreSQL tables go in the configured schema)."""
        return f'"{self.schema}".{table}' if self.is_postgres else table

    def sql(self, statement: str) -> str:
        return statement if self.is_postgres else statement.replace("%s", "?")

    @contextmanager
    def transaction(self, commit: bool = True) -> Iterator[Tx]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Tx(self, cursor)

    def exists(self, table: str) -> bool:
        if self.is_postgres:
            rows = self.query("SELECT to_regclass(%s) AS t", (self.name(table),))
            return rows[0]["t"] is not None
        return bool(self.query("SELECT name FROM sqlite_master WHERE type = 'table' "
                               "AND name = %s", (table,)))

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self.transaction() as tx:
            return tx.execute(statement, params)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.transaction(commit=False) as tx:
            return tx.query(statement, params)
