"""The directory view: which athletes, sessions, goals, plans and observations exist, per athlete.

It answers the write side's list endpoints.  Fed in order from the event store's notification
log (creation events only); its rows and its position are written in one transaction, and
rows are keyed by entity id, so catching up twice, or from two processes, changes nothing.
Readers call :meth:`Directory.catch_up` first, which makes every list read-your-writes.
"""

from __future__ import annotations

import threading
from datetime import UTC
from typing import Any

from eventsourcing.application import Application
from eventsourcing.utils import get_topic

from services.domain.athlete import Athlete
from services.domain.coach import Coach
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.tables import ServiceTables

BATCH = 500
VIEW = "directory"

#: creation event -> (kind, function giving (athlete_id, label) from the event)
CREATIONS: dict[type[Any], tuple[str, Any]] = {
    Athlete.Registered: ("athlete", lambda e: (str(e.originator_id), e.profile.get("name"))),
    Coach.Registered: ("coach", lambda e: ("", e.name)),
    Goal.Set: ("goal", lambda e: (e.athlete_id, e.title)),
    WeeklyPlan.Planned: ("plan", lambda e: (e.athlete_id, e.week_start)),
    TrainingSession.Started: ("session", lambda e: (e.athlete_id, e.title)),
    Observation.Recorded: ("observation", lambda e: (e.athlete_id, e.metric)),
}


class Directory:
    def __init__(self, app: Application[Any], tables: ServiceTables) -> None:
        self.app = app
        self.tables = tables
        self.rows = tables.name("tl_directory")
        self.tracking = tables.name("tl_view_tracking")
        self.topics = [get_topic(cls) for cls in CREATIONS]
        self._lock = threading.Lock()
        tables.execute(
            f"CREATE TABLE IF NOT EXISTS {self.rows} (entity_id TEXT PRIMARY KEY, "
            "kind TEXT NOT NULL, athlete_id TEXT NOT NULL, label TEXT, "
            "occurred_at TEXT NOT NULL, recorded_at TEXT NOT NULL, position BIGINT NOT NULL)"
        )
        tables.execute(
            f"CREATE INDEX IF NOT EXISTS tl_directory_athlete ON {self.rows} "
            "(athlete_id, kind, occurred_at)"
        )
        tables.execute(
            f"CREATE TABLE IF NOT EXISTS {self.tracking} "
            "(view TEXT PRIMARY KEY, position BIGINT NOT NULL)"
        )

    def position(self) -> int:
        rows = self.tables.query(f"SELECT position FROM {self.tracking} WHERE view = %s", (VIEW,))
        return int(rows[0]["position"]) if rows else 0

    def catch_up(self) -> int:
        """Apply every creation event recorded since the stored position; returns how many."""
        applied = 0
        with self._lock:
            position = self.position()
            stop = self.app.recorder.max_notification_id() or 0
            while position < stop:
                batch = self.app.recorder.select_notifications(
                    start=position,
                    limit=BATCH,
                    stop=stop,
                    topics=self.topics,
                    inclusive_of_start=False,
                )
                end = batch[-1].id if len(batch) == BATCH else stop
                self._apply(batch, position, end)
                applied += len(batch)
                position = end
        return applied

    def _apply(self, notifications: Any, old: int, new: int) -> None:
        upsert_row = (
            f"INSERT INTO {self.rows} (entity_id, kind, athlete_id, label, occurred_at, "
            "recorded_at, position) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (entity_id) DO NOTHING"
        )
        with self.tables.transaction() as cursor:
            for n in notifications:
                event: Any = self.app.mapper.to_domain_event(n)
                kind, describe = CREATIONS[type(event)]
                athlete_id, label = describe(event)
                cursor.execute(
                    self.tables.sql(upsert_row),
                    (
                        str(event.originator_id),
                        kind,
                        athlete_id,
                        label,
                        event.occurred_at.astimezone(UTC).isoformat(),
                        event.timestamp.isoformat(),
                        n.id,
                    ),
                )
            cursor.execute(
                self.tables.sql(
                    f"INSERT INTO {self.tracking} AS t (view, position) VALUES (%s, %s) "
                    "ON CONFLICT (view) DO UPDATE SET position = excluded.position "
                    "WHERE t.position < excluded.position"
                ),
                (VIEW, new),
            )

    def list(
        self,
        kind: str,
        athlete_id: str | None = None,
        label: str | None = None,
        limit: int = 100,
        offset: int = 0,
        newest_first: bool = True,
    ) -> list[dict[str, Any]]:
        self.catch_up()
        where, params = ["kind = %s"], [kind]
        if athlete_id is not None:
            where.append("athlete_id = %s")
            params.append(athlete_id)
        if label is not None:
            where.append("label = %s")
            params.append(label)
        order = "DESC" if newest_first else "ASC"
        return self.tables.query(
            f"SELECT entity_id, kind, athlete_id, label, occurred_at, recorded_at "
            f"FROM {self.rows} WHERE {' AND '.join(where)} "
            f"ORDER BY occurred_at {order}, position {order} LIMIT %s OFFSET %s",
            [*params, limit, offset],
        )
