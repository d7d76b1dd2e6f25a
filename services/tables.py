"""Service tables beside the event store, in the same database (SQLite file or PostgreSQL).

Only what does not belong in the append-only log lives here (hashed tokens, and later the
views' rows and positions).  Statements are written with ``%s`` placeholders and work on both.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from eventsourcing.application import Application


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
    def transaction(self) -> Iterator[Any]:
        with self.datastore.transaction(commit=True) as cursor:
            yield cursor

    def execute(self, statement: str, params: Sequence[Any] = ()) -> int:
        with self.transaction() as cursor:
            cursor.execute(self.sql(statement), params)
            raw = getattr(cursor, "sqlite_cursor", cursor)  # the library wraps sqlite3's cursor
            return int(raw.rowcount)

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self.sql(statement), params)
            return [dict(row) for row in cursor.fetchall()]
