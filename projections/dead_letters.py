"""Parked events: one event a view can't take never stops the view.

When a view fails on an event (it can't be read, or applying it raises), that event is
parked with its error, and every later event of the same athlete for that view waits behind
it, in order, while other athletes move on.  The athlete's reads of that view say
``stale: true``; ``/health`` lists what is parked; ``trainledger dead-letters`` lists,
retries or drops.  A replay parks the same events (they fail the same way), so live and
replay hashes stay equal.  A parked row keeps the stored event as it was stored (sealed
with the athlete's key), and is erased with its athlete.

A record on the topic that can't even be opened (not an envelope) belongs to nobody: it is
parked with an empty athlete and blocks no one; it can only be dropped.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.persistence import StoredEvent

from projections.source import Delivery, EventSource, deliver
from services.tables import Reader, ServiceTables, Tx

TABLE = "tl_view_parked"
NOBODY = ""  # the athlete of a record that could not be opened


def create(db: ServiceTables) -> None:
    db.execute(
        f"CREATE TABLE IF NOT EXISTS {db.name(TABLE)} (view TEXT NOT NULL, "
        "aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, athlete_id TEXT NOT NULL, "
        "seq BIGINT NOT NULL, topic TEXT NOT NULL, state TEXT NOT NULL, error TEXT, "
        "parked_at TEXT NOT NULL, PRIMARY KEY (view, aggregate_id, version))")
    db.execute(f"CREATE INDEX IF NOT EXISTS {TABLE}_athlete ON {db.name(TABLE)} "
               "(view, athlete_id, seq)")


def blocked(tx: Reader, view: str) -> set[str]:
    """Athletes with events parked for this view: their next events wait behind them."""
    return {r["athlete_id"] for r in tx.query(
        f"SELECT DISTINCT athlete_id FROM {tx.name(TABLE)} WHERE view = %s", (view,))}


def park(tx: Tx, view: str, item: Delivery, error: str | None) -> None:
    """Park one event: ``error`` says why it failed; None, that it waits behind another."""
    seq = tx.query(f"SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM {tx.name(TABLE)} "
                   "WHERE view = %s", (view,))[0]["n"]
    stored = item.stored
    tx.execute(
        f"INSERT INTO {tx.name(TABLE)} (view, aggregate_id, version, athlete_id, seq, topic, "
        "state, error, parked_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (view, aggregate_id, version) DO NOTHING",
        (view, str(stored.originator_id), stored.originator_version, item.owner, int(seq),
         stored.topic, base64.b64encode(stored.state).decode(), error,
         datetime.now(UTC).isoformat(timespec="seconds")))


def unopened(record: bytes, where: str, error: str) -> Delivery:
    """A topic record that is not an envelope, as a delivery of nobody's (``where``: topic,
    partition and offset, unique)."""
    return Delivery(StoredEvent(uuid5(NAMESPACE_URL, f"record:{where}"), 1, f"record:{where}",
                                record), NOBODY, None, error)


@dataclass(frozen=True)
class Parked:
    view: str
    athlete_id: str
    aggregate_id: str
    version: int
    topic: str
    error: str | None  # None: waiting behind the athlete's failed event
    parked_at: str


def listing(db: Reader, view: str | None = None, athlete_id: str | None = None,
            limit: int = 1000) -> list[Parked]:
    """Parked events, oldest first."""
    where, params = ["1 = 1"], []
    if view:
        where.append("view = %s")
        params.append(view)
    if athlete_id is not None:
        where.append("athlete_id = %s")
        params.append(athlete_id)
    rows = db.query(f"SELECT view, athlete_id, aggregate_id, version, topic, error, parked_at "
                    f"FROM {db.name(TABLE)} WHERE {' AND '.join(where)} ORDER BY view, seq "
                    f"LIMIT {int(limit)}", params)
    return [Parked(r["view"], r["athlete_id"], r["aggregate_id"], int(r["version"]),
                   r["topic"], r["error"], r["parked_at"]) for r in rows]


def held(db: Reader, view: str, athlete_id: str) -> int:
    """How many of the athlete's events this view holds back."""
    return int(db.query(f"SELECT COUNT(*) AS n FROM {db.name(TABLE)} WHERE view = %s "
                        "AND athlete_id = %s", (view, athlete_id))[0]["n"])


def counts(db: Reader) -> dict[str, int]:
    """Parked events per view."""
    return {r["view"]: int(r["n"]) for r in db.query(
        f"SELECT view, COUNT(*) AS n FROM {db.name(TABLE)} GROUP BY view")}


def take(tx: Tx, view: str, athlete_id: str, source: EventSource) -> list[Delivery]:
    """Unpark the athlete's events for this view, in order, read again from their stored
    form (a record that was never an envelope stays parked)."""
    rows = tx.query(f"SELECT aggregate_id, version, topic, state FROM {tx.name(TABLE)} "
                    "WHERE view = %s AND athlete_id = %s AND topic NOT LIKE 'record:%%' "
                    "ORDER BY seq", (view, athlete_id))
    tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE view = %s AND athlete_id = %s "
               "AND topic NOT LIKE 'record:%%'", (view, athlete_id))
    out = []
    for row in rows:
        stored = StoredEvent(UUID(row["aggregate_id"]), int(row["version"]), row["topic"],
                             base64.b64decode(row["state"]))
        item = deliver(source, stored)
        if item is not None:  # None: erased meanwhile
            out.append(item)
    return out


def drop_failed(tx: Tx, view: str, athlete_id: str) -> int:
    """Drop the athlete's failed event, and the events of the same aggregate waiting behind
    it (they can't apply without it); returns how many were dropped."""
    head = tx.query(f"SELECT aggregate_id, seq FROM {tx.name(TABLE)} WHERE view = %s "
                    "AND athlete_id = %s AND error IS NOT NULL ORDER BY seq LIMIT 1",
                    (view, athlete_id))
    if not head:
        return 0
    return tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE view = %s AND athlete_id = %s "
                      "AND aggregate_id = %s AND seq >= %s",
                      (view, athlete_id, head[0]["aggregate_id"], head[0]["seq"]))


def keys(db: Reader, view: str) -> list[dict[str, Any]]:
    """What a content hash covers: which of the athletes' events are parked, failed or
    waiting (not the error text, nor when; not records that were never events, which only
    the topic has)."""
    return [{"athlete_id": r["athlete_id"], "aggregate_id": r["aggregate_id"],
             "version": int(r["version"]), "failed": r["error"] is not None}
            for r in db.query(f"SELECT athlete_id, aggregate_id, version, error FROM "
                              f"{db.name(TABLE)} WHERE view = %s AND athlete_id <> %s",
                              (view, NOBODY))]


def forget_athlete(tx: Tx, athlete_id: str) -> dict[str, int]:
    return {TABLE: tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE athlete_id = %s",
                              (athlete_id,))}


def forget_view(tx: Tx, view: str) -> None:
    tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE view = %s", (view,))
