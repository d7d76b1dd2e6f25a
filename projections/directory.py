"""The directory view: which athletes, coaches, sessions, goals, plans and observations exist.

It answers the write side's list endpoints.  Only creation events feed it; rows are keyed by
entity id.  :class:`Directory` catches the view up before each read, so every list includes
the caller's own writes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from projections.base import View
from projections.log_feed import LogFeed
from services.domain.athlete import Athlete
from services.domain.coach import Coach
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.tables import ServiceTables, Tx

TABLE = "tl_directory"

#: creation event -> (kind, (athlete_id, label) of the event)
CREATIONS: dict[type[Any], tuple[str, Callable[[Any], tuple[str, str | None]]]] = {
    Athlete.Registered: ("athlete", lambda e: (str(e.originator_id), e.profile.get("name"))),
    Coach.Registered: ("coach", lambda e: ("", e.name)),
    Goal.Set: ("goal", lambda e: (e.athlete_id, e.title)),
    WeeklyPlan.Planned: ("plan", lambda e: (e.athlete_id, e.week_start)),
    TrainingSession.Started: ("session", lambda e: (e.athlete_id, e.title)),
    Observation.Recorded: ("observation", lambda e: (e.athlete_id, e.metric)),
}


class DirectoryView(View):
    name = "directory"
    handles = (*CREATIONS, TrainingSession.Retimed)
    tables = (TABLE,)

    def create(self, db: ServiceTables) -> None:
        db.execute(
            f"CREATE TABLE IF NOT EXISTS {db.name(TABLE)} (entity_id TEXT PRIMARY KEY, "
            "kind TEXT NOT NULL, athlete_id TEXT NOT NULL, label TEXT, "
            "occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL)"
        )
        db.execute(f"CREATE INDEX IF NOT EXISTS tl_directory_athlete ON {db.name(TABLE)} "
                   "(athlete_id, kind, occurred_at)")

    def forget_athlete(self, tx: Tx, athlete_id: str) -> dict[str, int]:
        return {TABLE: tx.execute(f"DELETE FROM {tx.name(TABLE)} WHERE athlete_id = %s",
                                  (athlete_id,))}

    def apply(self, tx: Tx, event: Any) -> None:
        if isinstance(event, TrainingSession.Retimed):  # sessions list by their real start
            tx.execute(f"UPDATE {tx.name(TABLE)} SET occurred_at = %s WHERE entity_id = %s",
                       (datetime.fromisoformat(event.started_at).astimezone(UTC).isoformat(),
                        str(event.originator_id)))
            return
        kind, describe = CREATIONS[type(event)]
        athlete_id, label = describe(event)
        if label is not None:  # stored before text was checked: PostgreSQL refuses a NUL
            label = label.replace("\x00", "")
        tx.execute(
            f"INSERT INTO {tx.name(TABLE)} (entity_id, kind, athlete_id, label, occurred_at, "
            "recorded_at) VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (entity_id) DO NOTHING",
            (str(event.originator_id), kind, athlete_id, label,
             event.occurred_at.astimezone(UTC).isoformat(),
             event.timestamp.astimezone(UTC).isoformat()),
        )


class Directory:
    """Read access to the directory view, caught up with the store before every read."""

    def __init__(self, feed: LogFeed, view: DirectoryView) -> None:
        self.feed = feed
        self.view = view

    def list(
        self, kind: str, athlete_id: str | None = None, label: str | None = None,
        limit: int = 100, offset: int = 0, newest_first: bool = True,
    ) -> list[dict[str, Any]]:
        self.feed.catch_up(self.view)
        where, params = ["kind = %s"], [kind]
        if athlete_id is not None:
            where.append("athlete_id = %s")
            params.append(athlete_id)
        if label is not None:
            where.append("label = %s")
            params.append(label)
        order = "DESC" if newest_first else "ASC"
        db = self.feed.db
        return db.query(
            f"SELECT entity_id, kind, athlete_id, label, occurred_at, recorded_at "
            f"FROM {db.name(TABLE)} WHERE {' AND '.join(where)} "
            f"ORDER BY occurred_at {order}, entity_id {order} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
