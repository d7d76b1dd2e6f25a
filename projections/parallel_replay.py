"""A full rebuild over several processes: athletes split between them, rows merged after.

Each worker process opens the store itself, reads the whole notification log without
decoding it, and keeps the events of its share of the athletes: the owner named in clear in
each stored payload (``EventMapper.sealed_owner``) picks the worker, athletes dealt out in
turn in the order they first appear in the log (every worker reads the same log, so all
deal alike; histories of similar length balance, where a hash of the id left one of two
workers with most of them).  A worker decodes and folds only its share and rebuilds their
views: into a scratch database of its own, whose rows the parent copies into the target as
each worker finishes; on a SQLite target the first worker writes into the target itself,
so one copy fewer.  Views are per athlete, so the rows are those a single process would
write (the replay test compares the hashes).

Used for the whole history from the store only; a store holding payloads written before
they named their owner (no prefix), a ``source`` other than the log, or a view that applies
events one by one, is rebuilt in one process (``projections.replay``).
"""

from __future__ import annotations

import gc
import multiprocessing
import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from projections import dead_letters
from projections.base import View, create_tracking
from projections.source import EventSource, deliveries, stored_chunks
from services.tables import ServiceTables

UNNAMED_OWNER = 3  # a worker's exit status: a payload names no owner; rebuild in one process


class NotPartitionable(Exception):
    """The store can't be split by athlete (payloads that don't name their owner)."""


@dataclass(frozen=True)
class Parallel:
    """How a worker process opens the store, and a SQLite database file (its scratch
    database, or a SQLite target), each with a function that closes it."""

    parts: int
    open_store: Callable[[], tuple[EventSource, Callable[[], None]]]
    open_db: Callable[[Path], tuple[ServiceTables, Callable[[], None]]]


def rebuild_in_parts(parallel: Parallel, head: int, target: ServiceTables,
                     views: Sequence[View], until: str | None,
                     progress: Callable[[int, int, float], None]) -> int:
    """Rebuild ``views`` into ``target`` with ``parallel.parts`` processes; the events read
    (the log up to ``head``).  Raises NotPartitionable (nothing written) when it can't."""
    ctx = multiprocessing.get_context("fork")
    positions = ctx.Array("q", parallel.parts)
    opening = ctx.Lock()  # one worker at a time opens the store (its checks write, too)
    began = time.perf_counter()
    direct = None if target.is_postgres else Path(target.datastore.pool.db_name)
    with tempfile.TemporaryDirectory(prefix="trainledger-rebuild-") as tmp:
        files = [direct if k == 0 and direct is not None else Path(tmp) / f"part{k}.sqlite3"
                 for k in range(parallel.parts)]
        workers = [ctx.Process(target=_part, name=f"trainledger-rebuild-{k}",
                               args=(parallel, k, head, views, until, files[k],
                                     files[k] == direct, positions, opening))
                   for k in range(parallel.parts)]
        for worker in workers:
            worker.start()
        merged: set[int] = set()
        while len(merged) < len(workers):
            for k, worker in enumerate(workers):
                if k in merged or worker.is_alive():
                    continue
                merged.add(k)
                if worker.exitcode == UNNAMED_OWNER:
                    _stop(workers)
                    raise NotPartitionable("a stored payload names no owner")
                if worker.exitcode:
                    _stop(workers)
                    raise RuntimeError(f"rebuild worker {k} failed (exit status "
                                       f"{worker.exitcode})")
                if files[k] != direct:  # copied while the others still fold
                    _merge(parallel, files[k], target, views)
            progress(min(positions[:]), head, time.perf_counter() - began)
            time.sleep(0.05)
        progress(head, head, time.perf_counter() - began)
    return _events_read(positions, head)


def _stop(workers: Sequence[Any]) -> None:
    for worker in workers:
        if worker.is_alive():
            worker.terminate()
        worker.join()


def _events_read(positions: Any, head: int) -> int:
    return head if all(p >= head for p in positions[:]) else min(positions[:])


def _part(parallel: Parallel, part: int, head: int, views: Sequence[View], until: str | None,
          file: Path, into_target: bool, positions: Any, opening: Any) -> None:
    """A worker: fold and rebuild its share of the athletes into ``file`` (its scratch
    database, or the target itself, whose tables the parent made and emptied)."""
    from projections.replay import Folded, fold_or_park  # the parent imported it already

    gc.disable()  # as in one process: millions of long-lived objects, no cycles
    with opening:
        store, close_store = parallel.open_store()
    db, close_db = parallel.open_db(file)
    try:
        if not into_target:
            create_tracking(db)
            for view in views:
                view.create(db)
        folded, held = Folded(until), set[str]()
        dealt: dict[str, int] = {}  # owner -> worker, in turn as owners first appear
        for batch in stored_chunks(store, head):
            mine = []
            for notification in batch:
                owner = store.mapper.sealed_owner(notification)
                if owner is None:
                    raise NotPartitionable(f"event {notification.id} names no owner")
                worker = dealt.setdefault(owner, len(dealt) % parallel.parts)
                if worker == part:
                    mine.append(notification)
            for item in deliveries(store, mine):
                fold_or_park(folded, item, held, db, views)
            positions[part] = batch[-1].id
        positions[part] = head
        with db.transaction() as tx:
            for view in views:
                view.rebuild(tx, folded)
    except NotPartitionable:
        raise SystemExit(UNNAMED_OWNER) from None
    finally:
        close_db()
        close_store()


def _merge(parallel: Parallel, file: Path, target: ServiceTables,
           views: Sequence[View]) -> None:
    """Copy a worker's rows into the target, in one transaction."""
    tables = [t for view in views for t in view.tables] + [dead_letters.TABLE]
    if not target.is_postgres:
        _merge_sqlite(file, target, tables)
        return
    scratch, close = parallel.open_db(file)
    try:
        with scratch.transaction(commit=False) as source, target.transaction() as tx:
            raw = getattr(source.cursor, "sqlite_cursor", source.cursor)
            for table in tables:
                raw.execute(f"SELECT * FROM {table}")
                columns = [d[0] for d in raw.description]
                rows = raw.fetchall()
                if rows:
                    tx.executemany(
                        f"INSERT INTO {tx.name(table)} ({', '.join(columns)}) "
                        f"VALUES ({', '.join(['%s'] * len(columns))})",
                        [tuple(row) for row in rows])
    finally:
        close()


def _merge_sqlite(file: Path, target: ServiceTables, tables: Sequence[str]) -> None:
    """SQLite to SQLite: the worker's database attached to a connection of the target's,
    and each table copied by ``INSERT … SELECT`` inside SQLite (no row crosses into Python)."""
    connection = sqlite3.connect(target.datastore.pool.db_name, isolation_level=None,
                                 timeout=60)
    try:
        connection.execute("ATTACH DATABASE ? AS part", (str(file),))
        connection.execute("BEGIN IMMEDIATE")
        for table in tables:
            columns = ", ".join(row[1] for row in
                                connection.execute(f"PRAGMA part.table_info({table})"))
            connection.execute(f"INSERT INTO main.{table} ({columns}) "
                               f"SELECT {columns} FROM part.{table}")
        connection.execute("COMMIT")
        connection.execute("DETACH DATABASE part")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    finally:
        connection.close()
