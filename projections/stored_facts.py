"""Facts read from the read model's tables (:mod:`projections.read_model`): what the views
are served from.  Each question reads the rows it needs, bounded by its days; past the last
stored day the load series runs on with rest days from the stored state."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cached_property

from projections.derive import WINDOW, fatigue_days, week_of, week_row
from projections.facts import FatigueDay, Mark, SessionRow, WeekRow
from projections.read_model import (
    DAYS,
    E1RM_DAYS,
    MARKS,
    OBS_DAYS,
    SETS,
    STATES,
    WEEKS,
    day_from_row,
    load_athlete,
    stored_mark,
    stored_sessions,
)
from projections.states import decode_state
from services.domain.athlete import Athlete
from services.domain.errors import NotFound
from services.domain.goal import Goal
from services.domain.plan import WeeklyPlan
from services.tables import ServiceTables


class StoredFacts:
    def __init__(self, db: ServiceTables, athlete_id: str) -> None:
        self.db = db
        self.athlete_id = athlete_id
        found = load_athlete(db, athlete_id)
        if found is None:
            raise NotFound("no such athlete")
        self.athlete: Athlete = found

    @property
    def timezone(self) -> str:
        return str(self.athlete.profile["timezone"])

    @property
    def first_day_of_week(self) -> str:
        return str(self.athlete.profile["first_day_of_week"])

    @cached_property
    def _span(self) -> tuple[date | None, date | None]:
        row = self.db.query(f"SELECT MIN(day) AS first, MAX(day) AS last FROM "
                            f"{self.db.name(DAYS)} WHERE athlete_id = %s",
                            (self.athlete_id,))[0]
        if row["first"] is None:
            return None, None
        return date.fromisoformat(row["first"]), date.fromisoformat(row["last"])

    def first_day(self) -> date | None:
        return self._span[0]

    def sessions(self, until: date, since: date | None = None) -> list[SessionRow]:
        return stored_sessions(self.db, self.athlete_id, until, since)

    def fatigue_days(self, until: date, since: date | None = None) -> list[FatigueDay]:
        first, last = self._span
        if first is None or last is None:
            return []
        lower = (since or first).isoformat()
        rows = [day_from_row(r) for r in self.db.query(
            f"SELECT * FROM {self.db.name(DAYS)} WHERE athlete_id = %s AND day >= %s "
            "AND day <= %s ORDER BY day", (self.athlete_id, lower, until.isoformat()))]
        if until > last:  # rest days after the last session, from the stored state
            tail = [day_from_row(r) for r in self.db.query(
                f"SELECT * FROM {self.db.name(DAYS)} WHERE athlete_id = %s AND day > %s "
                "ORDER BY day", (self.athlete_id, (last - timedelta(days=WINDOW)).isoformat()))]
            rest = fatigue_days(first, [0.0] * (until - last).days, tail[-1].index + 1,
                                tail[-1], [d.load for d in tail], self.athlete.settings)
            rows += [d for d in rest if since is None or d.day >= since]
        return rows

    def marks(self, until: date) -> list[Mark]:
        return [stored_mark(r) for r in self.db.query(
            f"SELECT * FROM {self.db.name(MARKS)} WHERE athlete_id = %s AND day <= %s "
            "ORDER BY set_order, seq", (self.athlete_id, until.isoformat()))]

    def working_sets(self, until: date) -> dict[str, int]:
        return {r["exercise_id"]: int(r["n"]) for r in self.db.query(
            f"SELECT exercise_id, COUNT(*) AS n FROM {self.db.name(SETS)} WHERE athlete_id = %s "
            "AND day <= %s GROUP BY exercise_id", (self.athlete_id, until.isoformat()))}

    def e1rm_days(self, until: date, exercise_id: str | None = None,
                  ) -> list[tuple[str, date, float]]:
        where, params = "athlete_id = %s AND day <= %s", [self.athlete_id, until.isoformat()]
        if exercise_id is not None:
            where += " AND exercise_id = %s"
            params.append(exercise_id)
        return [(r["exercise_id"], date.fromisoformat(r["day"]), float(r["e1rm"]))
                for r in self.db.query(f"SELECT exercise_id, day, e1rm FROM "
                                       f"{self.db.name(E1RM_DAYS)} WHERE {where} "
                                       "ORDER BY exercise_id, day", params)]

    def daily_values(self, metric: str, until: date, since: date | None = None,
                     ) -> dict[date, float]:
        return {date.fromisoformat(r["day"]): float(r["value"]) for r in self.db.query(
            f"SELECT day, value FROM {self.db.name(OBS_DAYS)} WHERE athlete_id = %s AND "
            "metric = %s AND day <= %s AND day >= %s ORDER BY day",
            (self.athlete_id, metric, until.isoformat(), since.isoformat() if since else ""))}

    def weeks(self, until: date) -> list[WeekRow]:
        current = week_of(until, self.first_day_of_week)
        out = [WeekRow(date.fromisoformat(r["week_start"]), json.loads(r["row_json"]))
               for r in self.db.query(
                   f"SELECT week_start, row_json FROM {self.db.name(WEEKS)} WHERE "
                   "athlete_id = %s AND week_start < %s ORDER BY week_start",
                   (self.athlete_id, current.isoformat()))]
        for plan in self.plans(current):
            if plan.week_start == current:
                rows = self.sessions(current + timedelta(days=6), current)
                out.append(WeekRow(current, week_row(plan, rows, until)))
        return out

    def plans(self, since: date) -> list[WeeklyPlan]:
        return [decode_state(WeeklyPlan, r["state"]) for r in self.db.query(
            f"SELECT state FROM {self.db.name(STATES)} WHERE athlete_id = %s AND kind = 'plan' "
            "AND sort_key >= %s ORDER BY sort_key", (self.athlete_id, since.isoformat()))]

    def goals(self) -> list[Goal]:
        return [decode_state(Goal, r["state"]) for r in self.db.query(
            f"SELECT state FROM {self.db.name(STATES)} WHERE athlete_id = %s AND kind = 'goal' "
            "ORDER BY sort_key, entity_id", (self.athlete_id,))]
