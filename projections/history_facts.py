"""Facts computed from an athlete's folded aggregates, from scratch: the oracle the stored
read model is tested against, and the ``as_of`` audit path (what was known by a moment).

Each series runs the step functions of :mod:`projections.derive` from its beginning; the
read model runs the same functions from a stored state.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from projections.derive import (
    daily_loads,
    fatigue_days,
    sequence_sessions,
    strength_marks,
    week_row,
    working_sets,
)
from projections.execution import executed_row
from projections.facts import AthleteFacts, DictSeries, FatigueDay, Mark, SessionRow, WeekRow
from projections.fatigue import day_row
from projections.history import AthleteHistory
from projections.load import load_day
from projections.observations import observation_day, observation_value
from projections.sessions import session_load
from projections.strength import e1rm_row, record_row
from services.domain.goal import Goal
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.weeks import week_start


class HistoryFacts(AthleteFacts):
    def __init__(self, history: AthleteHistory) -> None:
        self.history = history
        self.athlete = history.athlete

    @cached_property
    def _by_id(self) -> dict[str, TrainingSession]:
        return {str(s.id): s for s in self.history.sessions}

    @cached_property
    def _sessions(self) -> list[SessionRow]:
        rows = [session_load(self.athlete, s) for s in self.history.sessions]
        rows.sort(key=lambda r: (r.started_at, r.session_id))
        sequence_sessions(rows, {}, None)
        return rows

    def first_day(self) -> date | None:
        return min((r.day for r in self._sessions), default=None)

    def sessions(self, until: date, since: date | None = None) -> list[SessionRow]:
        return [r for r in self._sessions
                if r.day <= until and (since is None or r.day >= since)]

    def _by_day(self, until: date) -> list[SessionRow]:
        """Sessions as the answers list them: by day, then start."""
        return sorted(self.sessions(until), key=lambda r: (r.day, r.started_at, r.session_id))

    def sessions_out(self, until: date) -> list[dict[str, Any]]:
        return [r.as_dict() for r in self._by_day(until)]

    def executed_out(self, until: date) -> list[dict[str, Any]]:
        return [executed_row(r) for r in self._by_day(until)]

    def weekly_work(self, until: date) -> list[tuple[date, float, str]]:
        return [(r.day, r.volume_load_kg, r.planned_role) for r in self.sessions(until)]

    @cached_property
    def _series(self) -> list[FatigueDay]:
        first = self.first_day()
        if first is None:
            return []
        last = max(r.day for r in self._sessions)
        loads = daily_loads(self._sessions, first, last)
        return fatigue_days(first, loads, 0, None, [], self.athlete.settings)

    def fatigue_days(self, until: date, since: date | None = None) -> list[FatigueDay]:
        series = self._series
        if not series:
            return []
        rows = [d for d in series if d.day <= until]
        if until > series[-1].day:  # rest days after the last session
            gap = (until - series[-1].day).days
            rows += fatigue_days(series[0].day, [0.0] * gap, len(series), series[-1],
                                 [d.load for d in series], self.athlete.settings)
        return [d for d in rows if since is None or d.day >= since]

    def fatigue_out(self, until: date) -> list[dict[str, Any]]:
        return [day_row(d) for d in self.fatigue_days(until)]

    def load_days_out(self, until: date) -> list[dict[str, Any]]:
        return [load_day(d) for d in self.fatigue_days(until)]

    @cached_property
    def _sets(self) -> list[dict[str, Any]]:
        out = [s for session in self.history.sessions for s in working_sets(session)]
        out.sort(key=lambda s: s["order"])
        return out

    def sets(self, until: date) -> list[dict[str, Any]]:
        """Working sets done by ``until``, in order (``derive.working_sets``)."""
        return [s for s in self._sets if s["day"] <= until]

    @cached_property
    def _marks(self) -> list[tuple[date, Mark]]:
        by_exercise: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for s in self._sets:
            by_exercise[s["exercise_id"]].append(s)
        out = []
        for sets in by_exercise.values():
            days = {s["order"]: s["day"] for s in sets}
            out += [(days[m.order], m) for m in strength_marks(sets, {})]
        out.sort(key=lambda dm: (dm[1].order, dm[1].seq))
        return out

    def strength_bests(self, until: date) -> list[dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for s in self._sets:
            if s["day"] <= until:
                entry = out.setdefault(s["exercise_id"], {"exercise_id": s["exercise_id"],
                                                          "sets": 0})
                entry["sets"] += 1
        for d, mark in self._marks:
            if d > until:
                continue
            entry = out[mark.exercise_id]
            if mark.kind == "e1rm_kg":
                entry.update(best_e1rm_kg=mark.value, best_e1rm_set=mark.ref,
                             best_e1rm_brzycki_kg=mark.brzycki)
            elif mark.kind == "heaviest_kg":
                entry["heaviest_kg"] = mark.value
        for ex, _, value in self._e1rm_days(until):
            out[ex]["latest_e1rm_kg"] = value
        return list(out.values())

    def records_out(self, until: date) -> list[dict[str, Any]]:
        listed = sorted(((d, m) for d, m in self._marks if d <= until and m.previous is not None),
                        key=lambda dm: (dm[0], dm[1].order, dm[1].seq))
        return [record_row(m) for _, m in listed]

    def _e1rm_days(self, until: date, exercise_id: str | None = None,
                  ) -> list[tuple[str, date, float]]:
        best: dict[tuple[str, date], float] = {}
        for s in self._sets:
            if s["e1rm"] is None or s["day"] > until or \
                    (exercise_id is not None and s["exercise_id"] != exercise_id):
                continue
            key = (s["exercise_id"], s["day"])
            best[key] = max(best.get(key, 0.0), s["e1rm"])
        return [(ex, d, v) for (ex, d), v in sorted(best.items())]

    def daily_series(self, metric: str, until: date) -> DictSeries:
        return DictSeries(self.daily_values(metric, until))

    def e1rm_series(self, exercise_id: str, until: date) -> DictSeries:
        return DictSeries({d: v for _, d, v in self._e1rm_days(until, exercise_id)})

    def e1rm_out(self, until: date) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for ex, d, value in self._e1rm_days(until):
            out[ex].append(e1rm_row(d, value))
        return dict(out)

    @cached_property
    def _daily(self) -> dict[str, dict[date, float]]:
        by_day: dict[str, dict[date, list[float]]] = defaultdict(lambda: defaultdict(list))
        for obs in self.history.observations:
            by_day[obs.metric][observation_day(self.athlete, obs.observed_at)].append(
                observation_value(obs.metric, obs.value))
        return {metric: {d: math.fsum(v) / len(v) for d, v in sorted(days.items())}
                for metric, days in by_day.items()}

    def daily_values(self, metric: str, until: date, since: date | None = None,
                     ) -> dict[date, float]:
        return {d: v for d, v in self._daily.get(metric, {}).items()
                if d <= until and (since is None or d >= since)}

    def weeks(self, until: date, since: date | None = None) -> list[WeekRow]:
        current = week_start(until, self.first_day_of_week)
        out = []
        for plan in self.history.plans:
            if plan.week_start > current or (since is not None and plan.week_start < since):
                continue
            end = plan.week_start + timedelta(days=6)
            rows = self.sessions(end, plan.week_start)
            out.append(WeekRow(plan.week_start, week_row(
                plan, rows, until if plan.week_start == current else None,
                self._by_id.get)))
        return out

    def weeks_out(self, until: date) -> list[dict[str, Any]]:
        return [w.row for w in self.weeks(until)]

    def converted_weeks(self, until: date) -> list[date]:
        return [w.week_start for w in self.weeks(until) if w.row["converted"]]

    def plans(self, since: date) -> list[WeeklyPlan]:
        return [p for p in self.history.plans if p.week_start >= since]

    def goals(self) -> list[Goal]:
        return list(self.history.goals)
