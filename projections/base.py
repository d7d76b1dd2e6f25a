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
import logging
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from eventsourcing.utils import resolve_topic as get_topic_class

from projections import dead_letters
from projections.source import Delivery, EventSource, deliveries, describe
from services.tables import ServiceTables, Tx

if TYPE_CHECKING:
    from projections.replay import Folded

TRACKING = "tl_view_tracking"  # (view, position): global notification position
OFFSETS = "tl_view_offsets"  # (view, topic, partition, next_offset, topic_id)
VERSIONS = "tl_view_versions"  # (view, aggregate_id, version)
log = logging.getLogger("trainledger.projections")


class View(ABC):
    """A read model.  Subclasses set ``name``, ``handles`` and ``tables``."""

    name: str
    handles: tuple[type[Any], ...]
    tables: tuple[str, ...]  # unqualified names of the view's own tables

    #: read every event type of the aggregates it handles, also types this version
    #: doesn't know (a newer version's): they are parked, not skipped, to apply after an
    #: upgrade (``trainledger dead-letters retry``)
    reads_unknown_types = False

    @property
    def topics(self) -> list[str]:
        return [get_topic(cls) for cls in self.handles]

    def selects(self) -> list[str]:
        """The event types to read from the log (none: every type, filtered by ``wants``)."""
        return [] if self.reads_unknown_types else self.topics

    def wants(self, topic: str) -> bool:
        """An event of this type concerns the view: one it handles, or, with
        ``reads_unknown_types``, an unknown type of an aggregate whose events it handles."""
        known: dict[str, bool] = self.__dict__.setdefault("_wants", {})
        if topic not in known:
            known[topic] = topic in self.topics or (
                self.reads_unknown_types and _unknown_of(topic, self.topics))
        return known[topic]

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
        parked = sorted(json.dumps(key, sort_keys=True)
                        for key in dead_letters.keys(db, self.name))
        if parked:  # which events it holds back is part of what a view is
            digest.update(f"parked:{len(parked)}\n{chr(10).join(parked)}".encode())
        return digest.hexdigest()


def _unknown_of(topic: str, handled: Sequence[str]) -> bool:
    """A type this version doesn't know, of an aggregate one of ``handled`` belongs to
    (``module:Aggregate.Event``)."""
    if not any(topic.startswith(t.rsplit(".", 1)[0] + ".") for t in handled if "." in t):
        return False
    try:
        get_topic_class(topic)
    except Exception:
        return True
    return False


def readable(source: EventSource, stored: Iterable[StoredEvent]) -> list[Delivery]:
    """Stored events for a view, leaving out those of erased athletes."""
    return deliveries(source, stored)


def create_tracking(db: ServiceTables) -> None:
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(TRACKING)} "
               "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(OFFSETS)} (view TEXT NOT NULL, "
               "topic TEXT NOT NULL, partition INTEGER NOT NULL, next_offset BIGINT NOT NULL, "
               "topic_id TEXT, PRIMARY KEY (view, topic, partition))")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(VERSIONS)} (view TEXT NOT NULL, "
               "aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, "
               "PRIMARY KEY (view, aggregate_id))")
    dead_letters.create(db)


def position(db: ServiceTables, view: str) -> int:
    rows = db.query(f"SELECT position FROM {db.name(TRACKING)} WHERE view = %s", (view,))
    return int(rows[0]["position"]) if rows else 0


def apply_events(tx: Tx, view: View, items: Sequence[Delivery]) -> int:
    """Apply the events a view has not seen yet (by aggregate version); returns how many.

    An event that can't be read, or that the view fails on, is parked with its error, and
    its athlete's later events wait behind it (:mod:`projections.dead_letters`); the rest
    of the batch applies.  The feed calls ``view.prepare`` with the batch's events before
    opening the transaction."""
    if not items:
        return 0
    ids = sorted({str(item.stored.originator_id) for item in items})
    seen: dict[str, int] = {}
    for chunk in _chunks(ids, 500):
        marks = ", ".join(["%s"] * len(chunk))
        for row in tx.query(
            f"SELECT aggregate_id, version FROM {tx.name(VERSIONS)} "
            f"WHERE view = %s AND aggregate_id IN ({marks})", (view.name, *chunk),
        ):
            seen[row["aggregate_id"]] = int(row["version"])
    waiting = dead_letters.blocked(tx, view.name)
    try:  # the common case: the whole batch at once
        with tx.savepoint("tl_batch"):
            applied, changed = _apply(tx, view, items, dict(seen), set(waiting), careful=False)
    except Exception:  # one by one, parking what fails
        view.prepare([item.event for item in items if item.event is not None])
        applied, changed = _apply(tx, view, items, seen, waiting, careful=True)
    view.finish(tx)
    for aggregate_id, version in changed.items():
        tx.execute(
            f"INSERT INTO {tx.name(VERSIONS)} AS v (view, aggregate_id, version) "
            "VALUES (%s, %s, %s) ON CONFLICT (view, aggregate_id) "
            "DO UPDATE SET version = excluded.version WHERE v.version < excluded.version",
            (view.name, aggregate_id, version),
        )
    return applied


def _apply(tx: Tx, view: View, items: Sequence[Delivery], seen: dict[str, int],
           waiting: set[str], careful: bool) -> tuple[int, dict[str, int]]:
    """Apply each item in order, or park it; how many applied, and the last version
    applied by aggregate.
    ``careful``: each event in a savepoint of its own, and a failure parks it (else the
    failure propagates, to try again carefully)."""
    changed: dict[str, int] = {}
    applied = 0
    for item in items:
        aggregate_id = str(item.stored.originator_id)
        if item.stored.originator_version <= seen.get(aggregate_id, 0):
            continue  # a duplicate or a replay: already in the view
        if item.owner in waiting or item.event is None:
            dead_letters.park(tx, view.name, item, item.error)
            waiting.add(item.owner)
            continue
        if not careful:
            view.apply(tx, item.event)
        else:
            try:
                with tx.savepoint("tl_event"):
                    view.apply(tx, item.event)
            except Exception as exc:
                dead_letters.park(tx, view.name, item, describe(exc))
                waiting.add(item.owner)
                log.warning("%s: parked %s v%s of %s: %s", view.name, aggregate_id,
                            item.stored.originator_version, item.owner, describe(exc))
                view.prepare([])  # what it kept in memory of that event is void
                continue
        seen[aggregate_id] = changed[aggregate_id] = item.stored.originator_version
        applied += 1
    return applied, changed


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
    dead_letters.forget_view(tx, view.name)


def _chunks(items: list[str], size: int) -> Iterable[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def release_parked(db: ServiceTables, view: View, source: EventSource,
                   athlete_id: str) -> tuple[int, int]:
    """Feed the athlete's parked events to the view again, in order (``trainledger
    dead-letters retry``); returns (applied, still parked).  What fails again is parked
    again, with its new error, and the rest waits behind it as before."""
    with db.transaction() as tx:
        items = dead_letters.take(tx, view.name, athlete_id, source)
        view.prepare([item.event for item in items if item.event is not None])
        applied = apply_events(tx, view, items)
    view.idle(db)  # settle what they changed
    return applied, dead_letters.held(db, view.name, athlete_id)
