"""What every view is, and the bookkeeping that makes feeding it idempotent.

A view is a deterministic function of the events it ``handles``.  The feed (notification log
or Kafka) hands it events inside a database transaction that also records how far the view
has read: the global notification position (log feed) or the next offset per topic partition
(Kafka feed), plus the last applied version of every aggregate.  An event whose version was
already applied is skipped, so a replay, a duplicate or a change of transport never counts
anything twice.
"""

from __future__ import annotations

import hashlib
import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic

from projections.source import EventSource, domain_events
from services.tables import ServiceTables, Tx

if TYPE_CHECKING:
    from projections.replay import Folded

TRACKING = "tl_view_tracking"  # (view, position): global notification position
OFFSETS = "tl_view_offsets"  # (view, topic, partition, next_offset, topic_id)
VERSIONS = "tl_view_versions"  # (view, aggregate_id, version)


class View(ABC):
    """A read model.  Subclasses set ``name``, ``handles`` and ``tables``."""

    name: str
    handles: tuple[type[Any], ...]
    tables: tuple[str, ...]  # unqualified names of the view's own tables

    @property
    def topics(self) -> list[str]:
        return [get_topic(cls) for cls in self.handles]

    @abstractmethod
    def create(self, db: ServiceTables) -> None:
        """Create the view's tables if they do not exist."""

    @abstractmethod
    def apply(self, tx: Tx, event: Any) -> None:
        """Change the view's rows for one event, inside the feed's transaction."""

    def prepare(self, events: Sequence[Any]) -> None:
        """Before a batch's transaction: read what applying it needs (default: nothing)."""
        return

    def finish(self, tx: Tx) -> None:
        """After a batch's events were applied, inside the same transaction."""
        return

    def rebuild(self, tx: Tx, folded: Folded) -> bool:
        """Write the whole view at once from aggregates folded in memory (replay's fast
        path); False if the view only knows how to apply events one by one."""
        return False

    def idle(self, db: ServiceTables) -> None:
        """The feed has caught up with its source (default: nothing to do)."""
        return

    def pending(self, db: ServiceTables) -> int:
        """Work the view deferred to ``idle`` (counted in its lag; default none)."""
        return 0

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        """Delete the athlete's rows (erasure); rows deleted per table."""
        return {}

    def reset(self, tx: Tx) -> None:
        for table in self.tables:
            tx.execute(f"DELETE FROM {tx.name(table)}")

    def content_hash(self, db: ServiceTables) -> str:
        """SHA-256 over every row of the view, in a stable order: equal views, equal hashes."""
        digest = hashlib.sha256()
        for table in self.tables:
            rows = db.query(f"SELECT * FROM {db.name(table)}")
            lines = sorted(json.dumps(row, sort_keys=True, default=str) for row in rows)
            digest.update(f"{table}:{len(lines)}\n".encode())
            for line in lines:
                digest.update(line.encode() + b"\n")
        return digest.hexdigest()


def readable(source: EventSource, stored: Iterable[StoredEvent]) -> list[Any]:
    """Stored events as domain events, leaving out those of erased athletes."""
    return domain_events(source, stored)


def create_tracking(db: ServiceTables) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(TRACKING)} "
               "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(OFFSETS)} (view TEXT NOT NULL, "
               "topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, "
               "topic_id TEXT, PRIMARY KEY (view, topic, partition))")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(VERSIONS)} (view TEXT NOT NULL, "
               "aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, "
               "PRIMARY KEY (view, aggregate_id))")


def position(db: ServiceTables, view: str) -> int:
    rows = db.query(f"SELECT position FROM {db.name(TRACKING)} WHERE view = %s", (view,))
    return int(rows[0]["position"]) if rows else 0


def apply_events(tx: Tx, view: View, events: Sequence[Any]) -> int:
    """Apply the events a view has not seen yet (by aggregate version); returns how many.

    The feed calls ``view.prepare(events)`` before opening the transaction."""
    if not events:
        return 0
    ids = sorted({str(e.originator_id) for e in events})
    seen: dict[str, int] = {}
    for chunk in _chunks(ids, 500):
        marks = ", ".join(["%s"] * len(chunk))
        for row in tx.query(
            f"SELECT aggregate_id, version FROM {tx.name(VERSIONS)} "
            f"WHERE view = %s AND aggregate_id IN ({marks})", (view.name, *chunk),
        ):
            seen[row["aggregate_id"]] = int(row["version"])
    applied = 0
    changed: dict[str, int] = {}
    for event in events:
        aggregate_id = str(event.originator_id)
        if event.originator_version <= seen.get(aggregate_id, 0):
            continue  # a duplicate or a replay: already in the view
        view.apply(tx, event)
        seen[aggregate_id] = changed[aggregate_id] = event.originator_version
        applied += 1
    view.finish(tx)
    for aggregate_id, version in changed.items():
        tx.execute(
            f"INSERT INTO {tx.name(VERSIONS)} AS v (view, aggregate_id, version) "
            "VALUES (%s, %s, %s) ON CONFLICT (view, aggregate_id) "
            "DO UPDATE SET version = excluded.version WHERE v.version < excluded.version",
            (view.name, aggregate_id, version),
        )
    return applied


def save_position(tx: Tx, view: str, new_position: int) -> None:
    tx.execute(
        f"INSERT INTO {tx.name(TRACKING)} AS t (view, position) VALUES (%s, %s) "
        "ON CONFLICT (view) DO UPDATE SET position = excluded.position "
        "WHERE t.position < excluded.position",
        (view, new_position),
    )


def forget(tx: Tx, view: View) -> None:
    """Empty a view and its bookkeeping, so that it is rebuilt from the start."""
    view.reset(tx)
    for table in (TRACKING, OFFSETS, VERSIONS):
        tx.execute(f"DELETE FROM {tx.name(table)} WHERE view = %s", (view.name,))


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
