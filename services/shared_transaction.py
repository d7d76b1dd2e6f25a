"""One transaction for many writes of one thread: group commit.

:func:`install` routes the event store's datastore (SQLite or PostgreSQL, shared by the
application and :class:`~services.tables.ServiceTables`) through a :class:`SharedTransaction`.
Outside :meth:`SharedTransaction.open` nothing changes.  Inside it, every transaction the
opening thread starts (the library's event inserts and reads, the service tables') runs in
one open transaction, each write as a savepoint (reads share it as it is): what a block did
is undone if it raises, its neighbours' work stays, and nothing is durable, nor seen by
other connections, until the shared transaction commits (one commit, one fsync).  Other
threads keep their own connections and see only what is committed.  Work done beside the
transaction (a file written by another thread) can be waited for before it commits
(:meth:`SharedTransaction.before_commit`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from typing import Any

import psycopg
from eventsourcing import persistence
from eventsourcing.sqlite import SQLiteCursor

# a driver's exception -> the library's, as its own transactions translate them
_ERRORS = ("InterfaceError", "DataError", "OperationalError", "IntegrityError",
           "InternalError", "ProgrammingError", "NotSupportedError", "DatabaseError")


def _translated(exc: BaseException) -> BaseException:
    if not isinstance(exc, sqlite3.Error | psycopg.Error):
        return exc
    for name in _ERRORS:
        if isinstance(exc, getattr(sqlite3 if isinstance(exc, sqlite3.Error) else psycopg,
                                   name)):
            return getattr(persistence, name)(str(exc))  # type: ignore[no-any-return]
    return persistence.PersistenceError(str(exc))


class SharedTransaction:
    """Routes one datastore's transactions into a transaction opened by this thread."""

    def __init__(self, datastore: Any) -> None:
        self.datastore = datastore
        self.is_postgres = type(datastore).__name__ == "PostgresDatastore"
        self._local = threading.local()
        if self.is_postgres:
            self._get_connection = datastore.get_connection
            datastore.get_connection = self._pg_connection
        else:
            self._transaction = datastore.transaction
            datastore.transaction = self._sqlite_transaction

    def is_open(self) -> bool:
        """Whether this thread has a shared transaction open."""
        return getattr(self._local, "conn", None) is not None

    @contextmanager
    def open(self, begin: str = "") -> Iterator[None]:
        """This thread's transactions go into one, committed at the end (rolled back if the
        block raises); ``begin``: a first statement (SQLite: take the write lock)."""
        if self.is_open():
            raise RuntimeError("a shared transaction is already open in this thread")
        if self.is_postgres:
            with self._get_connection() as conn, conn.transaction(), self._held(conn):
                yield
        else:
            with self._transaction(commit=True) as cursor:
                if begin:
                    cursor.execute(begin)
                with self._held(cursor.sqlite_cursor.connection):
                    yield

    @contextmanager
    def _held(self, conn: Any) -> Iterator[None]:
        self._local.conn, self._local.depth, self._local.before = conn, 0, []
        try:
            yield
            self._run_before_commit()
        finally:
            self._local.conn = None
            for wait in self._local.before:  # rolled back: still let nothing run on
                with suppress(Exception):
                    wait()

    def before_commit(self, wait: Callable[[], object]) -> None:
        """Call ``wait`` before this thread's shared transaction commits (e.g. to wait for a
        file written beside it); if it raises, the transaction is rolled back instead."""
        self._local.before.append(wait)

    def _run_before_commit(self) -> None:
        while self._local.before:
            self._local.before.pop(0)()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """A block of the shared transaction undone on its own if it raises."""
        with self.datastore.transaction(commit=True):
            yield

    @contextmanager
    def _pg_connection(self) -> Iterator[Any]:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            with self._get_connection() as own:
                yield own
            return
        try:
            with conn.transaction():  # a savepoint: an error leaves the outer usable
                yield conn
        except psycopg.Error as exc:
            raise _translated(exc) from exc

    @contextmanager
    def _sqlite_transaction(self, *, commit: bool) -> Iterator[Any]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._transaction(commit=commit) as cursor:
                yield cursor
            return
        if not commit:  # a read (only reads ask for no commit): no savepoint needed
            try:
                with SQLiteCursor(conn.cursor()) as raw:
                    yield SQLiteCursor(raw)
            except sqlite3.Error as exc:
                raise _translated(exc) from exc
            return
        self._local.depth += 1
        name = f"tl_shared_{self._local.depth}"
        try:
            conn.execute(f"SAVEPOINT {name}")
            try:
                with SQLiteCursor(conn.cursor()) as raw:
                    yield SQLiteCursor(raw)
            except BaseException:
                conn.execute(f"ROLLBACK TO SAVEPOINT {name}")
                conn.execute(f"RELEASE SAVEPOINT {name}")
                raise
            conn.execute(f"RELEASE SAVEPOINT {name}")
        except sqlite3.Error as exc:
            raise _translated(exc) from exc
        finally:
            self._local.depth -= 1


def install(datastore: Any) -> SharedTransaction:
    """The datastore's :class:`SharedTransaction`, installed on first use."""
    shared = getattr(datastore, "tl_shared", None)
    if shared is None:
        shared = SharedTransaction(datastore)
        datastore.tl_shared = shared
    return shared
