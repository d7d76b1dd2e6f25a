"""The stored analytic views: per athlete, each view's answer, kept current by the feed.

Fed like any view (notification log, or Kafka), with its position and per-aggregate versions
in the same transaction as its rows.  For a batch, ``prepare`` finds the athletes it touches
and recomputes their views from their history in the store (:mod:`projections.history`),
outside the transaction; ``finish`` writes the answers.  Each answer is evaluated for the
day of the athlete's latest session or observation, so the table is a function of the
events alone: a rebuild gives the same rows, and the same content hash, as the live view.
Reads that need "today" or an earlier moment compute on demand (``routes_views``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from projections.analytics import VIEWS, last_day, parse_as_of
from projections.base import View
from projections.directory import CREATIONS
from projections.history import KINDS, AthleteHistory, load_history
from services.application import TrainingLog
from services.domain.athlete import Athlete
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.tables import ServiceTables, Tx

if TYPE_CHECKING:
    from projections.replay import Folded

OWNED = "tl_analytics_owned"  # aggregate -> athlete, from creation events
ANSWERS = "tl_analytics_views"  # (athlete, view) -> day, JSON answer


def _event_classes() -> tuple[type[Any], ...]:
    out: list[type[Any]] = []
    for aggregate in (Athlete, Goal, WeeklyPlan, TrainingSession, Observation):
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, aggregate.Event):
                out.append(value)
    return tuple(out)


class AnalyticsView(View):
    name = "analytics"
    tables = (OWNED, ANSWERS)

    def __init__(self, app: TrainingLog, db: ServiceTables) -> None:
        self.app = app
        self.db = db
        self.handles = _event_classes()
        self._pending: dict[str, tuple[str, dict[str, str]]] = {}
        self._created_now: dict[str, tuple[str, str]] = {}

    def create(self, db: ServiceTables) -> None:
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(OWNED)} (entity_id TEXT PRIMARY KEY, "
                   "kind TEXT NOT NULL, athlete_id TEXT NOT NULL)")
        db.execute(f"CREATE INDEX IF NOT EXISTS tl_analytics_owned_athlete ON {db.name(OWNED)} "
                   "(athlete_id)")
        db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(ANSWERS)} (athlete_id TEXT NOT NULL, "
                   "view TEXT NOT NULL, day TEXT NOT NULL, answer TEXT NOT NULL, "
                   "PRIMARY KEY (athlete_id, view))")

    def _created(self, events: Sequence[Any]) -> dict[str, tuple[str, str]]:
        """entity id -> (kind, athlete id) for the creation events of a batch."""
        out = {}
        for event in events:
            made = CREATIONS.get(type(event))
            if made is not None and made[0] != "coach":
                out[str(event.originator_id)] = (made[0], made[1](event)[0])
        return out

    def prepare(self, events: Sequence[Any]) -> None:
        created = self._created(events)
        ids = sorted({str(e.originator_id) for e in events} - set(created))
        owners = {eid: athlete for eid, (_, athlete) in created.items()}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            owners.update({r["entity_id"]: r["athlete_id"] for r in self.db.query(
                f"SELECT entity_id, athlete_id FROM {self.db.name(OWNED)} WHERE entity_id "
                f"IN ({', '.join(['%s'] * len(chunk))})", chunk)})
        self._pending = {}
        for athlete_id in sorted(set(owners.values())):
            owned = [(r["kind"], r["entity_id"]) for r in self.db.query(
                f"SELECT kind, entity_id FROM {self.db.name(OWNED)} WHERE athlete_id = %s "
                "ORDER BY entity_id", (athlete_id,))]
            owned += [(kind, eid) for eid, (kind, owner) in created.items()
                      if owner == athlete_id and kind in KINDS]
            history = load_history(self.app, athlete_id, sorted(set(owned)))
            if history is None:
                continue
            day = last_day(history)
            self._pending[athlete_id] = (day.isoformat(), answers(history, day))
        self._created_now = created

    def apply(self, tx: Tx, event: Any) -> None:
        made = self._created_now.get(str(event.originator_id))
        if made is not None and made[0] in KINDS:
            tx.execute(f"INSERT INTO {tx.name(OWNED)} (entity_id, kind, athlete_id) VALUES "
                       "(%s, %s, %s) ON CONFLICT (entity_id) DO NOTHING",
                       (str(event.originator_id), *made))

    def finish(self, tx: Tx) -> None:
        for athlete_id, (day, answered) in self._pending.items():
            _store(tx, athlete_id, day, answered)
        self._pending = {}

    def rebuild(self, tx: Tx, folded: Folded) -> bool:
        """Every athlete's answers from the folded aggregates, evaluated for the day of
        ``folded.until`` if given (as ``as_of``), else for the athlete's last day."""
        tx.executemany(f"INSERT INTO {tx.name(OWNED)} (entity_id, kind, athlete_id) VALUES "
                       "(%s, %s, %s)", folded.owned_rows())
        for history in folded.histories():
            day = parse_as_of(folded.until, history.timezone)[1] if folded.until \
                else last_day(history)
            _store(tx, history.athlete_id, day.isoformat(), answers(history, day))
        return True


def answers(history: AthleteHistory, day: date) -> dict[str, str]:
    """Every analytic view's answer for that day, as JSON."""
    return {name: json.dumps(compute(history, day), sort_keys=True, default=str)
            for name, compute in VIEWS.items()}


def _store(tx: Tx, athlete_id: str, day: str, answered: dict[str, str]) -> None:
    for view, answer in answered.items():
        tx.execute(
            f"INSERT INTO {tx.name(ANSWERS)} (athlete_id, view, day, answer) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (athlete_id, view) DO UPDATE SET "
            "day = excluded.day, answer = excluded.answer",
            (athlete_id, view, day, answer))


def stored_answer(db: ServiceTables, athlete_id: str, view: str) -> dict[str, Any] | None:
    rows = db.query(f"SELECT day, answer FROM {db.name(ANSWERS)} WHERE athlete_id = %s "
                    "AND view = %s", (athlete_id, view))
    return {"day": rows[0]["day"], **json.loads(rows[0]["answer"])} if rows else None
