"""Facts read from the read model's tables (:mod:`projections.read_model`): what the views
are served from.  Each question reads the rows it needs, bounded by its days; past the last
stored day the load series runs on with rest days from the stored state."""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from projections import chunks
from projections.derive import WINDOW, fatigue_days, week_row
from projections.facts import AthleteFacts, FatigueDay, RawRows, SessionRow, WeekRow
from projections.fatigue import day_row
from projections.load import load_day
from projections.read_model import (
    DAYS,
    E1RM_DAYS,
    EXERCISES,
    MARKS,
    OBS_DAYS,
    SERIES,
    SESSIONS,
    SETS,
    STATES,
    WEEKS,
    _float,
    day_from_row,
    load_athlete,
    span_query,
    stored_session,
    stored_sessions,
)
from projections.states import decode_state
from services.domain.athlete import Athlete
from services.domain.errors import NotFound
from services.domain.goal import Goal
from services.domain.plan import WeeklyPlan
from services.domain.weeks import week_start
from services.tables import Reader


class StoredFacts(AthleteFacts):
    def __init__(self, db: Reader, athlete_id: str) -> None:
        self.db = db
        self.athlete_id = athlete_id
        found = load_athlete(db, athlete_id)
        if found is None:
            raise NotFound("no such athlete")
        self.athlete: Athlete = found
        self._rests: dict[date, list[FatigueDay]] = {}

    @cached_property
    def _span(self) -> tuple[date | None, date | None]:
        row = self.db.query(span_query(self.db.name(DAYS)), (self.athlete_id,) * 2)[0]
        if row["first"] is None:
            return None, None
        return date.fromisoformat(row["first"]), date.fromisoformat(row["last"])

    def first_day(self) -> date | None:
        return self._span[0]

    def sessions(self, until: date, since: date | None = None) -> list[SessionRow]:
        return stored_sessions(self.db, self.athlete_id, until, since)

    def _series(self, series: str, until: date, key: str | None = None) -> RawRows:
        return chunks.read(self.db, SERIES[series], series, self.athlete_id, until, key)

    def sessions_out(self, until: date) -> RawRows:
        return self._series("sessions", until)

    def executed_out(self, until: date) -> RawRows:
        return self._series("executed", until)

    def weekly_work(self, until: date) -> list[tuple[date, float, str]]:
        return [(date.fromisoformat(r["day"]), float(r["volume_load_kg"]), r["planned_role"])
                for r in self.db.query(
                    f"SELECT day, volume_load_kg, planned_role FROM {self.db.name(SESSIONS)} "
                    "WHERE athlete_id = %s AND day <= %s ORDER BY started_at, session_id",
                    (self.athlete_id, until.isoformat()))]

    def fatigue_days(self, until: date, since: date | None = None) -> list[FatigueDay]:
        first, _ = self._span
        if first is None:
            return []
        rows = [day_from_row(r) for r in self.db.query(
            f"SELECT * FROM {self.db.name(DAYS)} WHERE athlete_id = %s AND day >= %s "
            "AND day <= %s ORDER BY day",
            (self.athlete_id, (since or first).isoformat(), until.isoformat()))]
        rows += [d for d in self._rest(until) if since is None or d.day >= since]
        return rows

    def _rest(self, until: date) -> list[FatigueDay]:
        """Rest days after the last stored day, up to ``until`` (computed once per day asked:
        a view reads them for its series and for its day)."""
        first, last = self._span
        if first is None or last is None or until <= last:
            return []
        if until not in self._rests:
            self._rests[until] = self._rest_days(first, last, until)
        return self._rests[until]

    def _rest_days(self, first: date, last: date, until: date) -> list[FatigueDay]:
        tail = [day_from_row(r) for r in self.db.query(
            f"SELECT * FROM {self.db.name(DAYS)} WHERE athlete_id = %s AND day > %s "
            "ORDER BY day", (self.athlete_id, (last - timedelta(days=WINDOW)).isoformat()))]
        return fatigue_days(first, [0.0] * (until - last).days, tail[-1].index + 1, tail[-1],
                            [d.load for d in tail], self.athlete.settings)

    def fatigue_out(self, until: date) -> RawRows:
        rows = self._series("fatigue", until)
        rows += (json.dumps(day_row(d)) for d in self._rest(until))
        return rows

    def load_days_out(self, until: date) -> RawRows:
        rows = self._series("load_days", until)
        rows += (json.dumps(load_day(d)) for d in self._rest(until))
        return rows

    def strength_bests(self, until: date) -> list[dict[str, Any]]:
        """Per exercise with a working set by ``until``: its sets to date, best e1RM (with
        the set and Brzycki beside it), heaviest load and latest e1RM; in the order the
        exercises were first done.  One statement: a round trip, not five per exercise."""
        day = until.isoformat()
        rows = self.db.query(_BESTS_SQL.format(
            exercises=self.db.name(EXERCISES), days=self.db.name(E1RM_DAYS),
            sets=self.db.name(SETS), marks=self.db.name(MARKS)), (day,) * 7 + (self.athlete_id,))
        out = []
        for r in sorted((r for r in rows if r["sets"] is not None), key=lambda r: r["first"] or ""):
            entry: dict[str, Any] = {"exercise_id": r["exercise_id"], "sets": int(r["sets"])}
            if r["e1rm"] is not None:
                entry.update(best_e1rm_kg=float(r["e1rm"]), best_e1rm_set=json.loads(r["ref"]),
                             best_e1rm_brzycki_kg=_float(r["brzycki"]))
            if r["heaviest"] is not None:
                entry["heaviest_kg"] = float(r["heaviest"])
            if r["latest"] is not None:
                entry["latest_e1rm_kg"] = float(r["latest"])
            out.append(entry)
        return out

    def _exercises(self) -> list[str]:
        return [r["exercise_id"] for r in self.db.query(
            f"SELECT exercise_id FROM {self.db.name(EXERCISES)} WHERE athlete_id = %s "
            "ORDER BY exercise_id", (self.athlete_id,))]

    def records_out(self, until: date) -> RawRows:
        return self._series("records", until)

    def e1rm_series(self, exercise_id: str, until: date) -> StoredSeries:
        return StoredSeries(self, "e1rm_goal", E1RM_DAYS, "e1rm", "exercise_id", exercise_id,
                            until)

    def daily_series(self, metric: str, until: date) -> StoredSeries:
        return StoredSeries(self, "obs_goal", OBS_DAYS, "value", "metric", metric, until)

    def e1rm_out(self, until: date) -> dict[str, RawRows]:
        return chunks.read_keyed(self.db, SERIES["e1rm"], "e1rm", self.athlete_id, until,
                                 self._exercises())

    def daily_values(self, metric: str, until: date, since: date | None = None,
                     ) -> dict[date, float]:
        return {date.fromisoformat(r["day"]): float(r["value"]) for r in self.db.query(
            f"SELECT day, value FROM {self.db.name(OBS_DAYS)} WHERE athlete_id = %s AND "
            "metric = %s AND day <= %s AND day >= %s ORDER BY day",
            (self.athlete_id, metric, until.isoformat(), since.isoformat() if since else ""))}

    def weeks(self, until: date, since: date | None = None) -> list[WeekRow]:
        current = week_start(until, self.first_day_of_week)
        out = [WeekRow(date.fromisoformat(r["week_start"]), json.loads(r["row_json"]))
               for r in self.db.query(
                   f"SELECT week_start, row_json FROM {self.db.name(WEEKS)} WHERE "
                   "athlete_id = %s AND week_start < %s AND week_start >= %s "
                   "ORDER BY week_start",
                   (self.athlete_id, current.isoformat(), since.isoformat() if since else ""))]
        out += [WeekRow(current, row) for row in self._current_week(current, until)]
        return out

    def _current_week(self, current: date, until: date) -> list[dict[str, Any]]:
        for plan in self.plans(current):
            if plan.week_start == current:
                return [week_row(plan, self.sessions(current + timedelta(days=6), current),
                                 until, lambda session_id: stored_session(self.db, session_id))]
        return []

    def weeks_out(self, until: date) -> RawRows:
        current = week_start(until, self.first_day_of_week)
        rows = self._series("weeks", current - timedelta(days=1))
        rows += (json.dumps(row) for row in self._current_week(current, until))
        return rows

    def converted_weeks(self, until: date) -> list[date]:
        current = week_start(until, self.first_day_of_week)  # a conversion counts all week
        return [date.fromisoformat(r["week_start"]) for r in self.db.query(
            f"SELECT week_start FROM {self.db.name(WEEKS)} WHERE athlete_id = %s AND "
            "converted = 1 AND week_start <= %s ORDER BY week_start",
            (self.athlete_id, current.isoformat()))]

    def plans(self, since: date) -> list[WeeklyPlan]:
        return [decode_state(WeeklyPlan, r["state"]) for r in self.db.query(
            f"SELECT state FROM {self.db.name(STATES)} WHERE athlete_id = %s AND kind = 'plan' "
            "AND sort_key >= %s ORDER BY sort_key", (self.athlete_id, since.isoformat()))]

    def goals(self) -> list[Goal]:
        return [decode_state(Goal, r["state"]) for r in self.db.query(
            f"SELECT state FROM {self.db.name(STATES)} WHERE athlete_id = %s AND kind = 'goal' "
            "ORDER BY sort_key, entity_id", (self.athlete_id,))]


class StoredSeries:
    """A goal metric's daily values in the read model (an exercise's best e1RM, or an
    observed metric's daily mean), each question one indexed read."""

    def __init__(self, facts: StoredFacts, series: str, table: str, column: str,
                 key_column: str, key: str, until: date) -> None:
        self.facts, self.db, self.series = facts, facts.db, series
        self.table, self.column, self.key_column, self.key = table, column, key_column, key
        self.until = until

    def _rows(self, where: str, order: str, *params: object,
              limit: str = "") -> list[tuple[date, float]]:
        return [(date.fromisoformat(r["day"]), float(r["v"])) for r in self.db.query(
            f"SELECT day, {self.column} AS v FROM {self.db.name(self.table)} WHERE "
            f"athlete_id = %s AND {self.key_column} = %s AND day <= %s AND {self.column} IS "
            f"NOT NULL {where} ORDER BY {order} {limit}",
            (self.facts.athlete_id, self.key, self.until.isoformat(), *params))]

    def out(self) -> RawRows:
        return self.facts._series(self.series, self.until, self.key)

    def last(self) -> tuple[date, float] | None:
        found = self._rows("", "day DESC", limit="LIMIT 1")
        return found[0] if found else None

    def window(self, since: date) -> dict[date, float]:
        return dict(self._rows("AND day >= %s", "day", since.isoformat()))

    def first_from(self, day: date) -> float | None:
        found = self._rows("AND day >= %s", "day", day.isoformat(), limit="LIMIT 1")
        return found[0][1] if found else None

    def first_meeting(self, target: float, increase: bool) -> date | None:
        found = self._rows(f"AND {self.column} {'>=' if increase else '<='} %s", "day",
                           target, limit="LIMIT 1")
        return found[0][0] if found else None


def _mark(column: str, kind: str) -> str:
    """The kind's last mark by the day asked (a scalar subquery of :data:`_BESTS_SQL`);
    ``substr(day, 1, 10)`` is an expression, so the set_order index is walked."""
    return (f"(SELECT m.{column} FROM {{marks}} m WHERE m.athlete_id = x.athlete_id AND "
            f"m.exercise_id = x.exercise_id AND m.kind = '{kind}' AND "
            "substr(m.day, 1, 10) <= %s ORDER BY m.set_order DESC LIMIT 1)")


_BESTS_SQL = (
    "SELECT x.exercise_id, "
    "(SELECT d.sets_to_date FROM {days} d WHERE d.athlete_id = x.athlete_id AND "
    "d.exercise_id = x.exercise_id AND d.day <= %s ORDER BY d.day DESC LIMIT 1) AS sets, "
    "(SELECT s.set_order FROM {sets} s WHERE s.athlete_id = x.athlete_id AND "
    "s.exercise_id = x.exercise_id AND substr(s.day, 1, 10) <= %s "
    "ORDER BY s.set_order LIMIT 1) AS first, "
    f"{_mark('value', 'e1rm_kg')} AS e1rm, {_mark('ref', 'e1rm_kg')} AS ref, "
    f"{_mark('brzycki', 'e1rm_kg')} AS brzycki, {_mark('value', 'heaviest_kg')} AS heaviest, "
    "(SELECT d.e1rm FROM {days} d WHERE d.athlete_id = x.athlete_id AND "
    "d.exercise_id = x.exercise_id AND d.day <= %s AND d.e1rm IS NOT NULL "
    "ORDER BY d.day DESC LIMIT 1) AS latest "
    "FROM {exercises} x WHERE x.athlete_id = %s ORDER BY x.exercise_id")
