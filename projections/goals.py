"""Goal progress view: for every goal, its metric's current value, % of the way from the
starting value to the target, trend, projected date and whether it is on track.

Metric values over time, by the goal's metric kind:

- ``e1rm``: the best e1RM of the exercise per training day (:mod:`projections.strength`);
- ``weekly_training_sessions``: per completed week, the sessions done in a planned training
  role; ``weekly_volume_load``: per completed week, Σ reps × kg (the current, unfinished
  week counts as a value only once it ends);
- ``body_mass`` and ``custom`` metrics: the observations of that metric, averaged per day;
  with ``"per": "week"`` (e.g. 28 h of deep work a week), each completed week's total of the
  daily values.

Trend: least-squares slope (per day) over the last ``TREND_DAYS`` of values
(:func:`projections.science.trend.least_squares`); projected date: where that line reaches
the target.  On track when the target is met, or the projection reaches it by the deadline
(any date, without a deadline); off track when the trend moves away or arrives late.
The starting value is the goal's own, else the first value on or after the goal was set,
else the last one before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from projections.history import AthleteHistory
from projections.recovery import daily_values
from projections.science.trend import least_squares, projected_crossing
from projections.sessions import session_loads
from projections.strength import e1rm_on
from services.domain.goal import Goal
from services.domain.weeks import local_day, week_start

TREND_DAYS = 42


def _weekly(history: AthleteHistory, day: date, kind: str) -> dict[date, float]:
    first_day = history.athlete.profile["first_day_of_week"]
    current = week_start(day, first_day)
    totals: dict[date, float] = defaultdict(float)
    for row in session_loads(history):
        week = week_start(row.day, first_day)
        if week >= current:
            continue
        if kind == "weekly_volume_load":
            totals[week] += row.volume_load_kg
        elif row.planned_role == "training":
            totals[week] += 1
        else:
            totals.setdefault(week, 0.0)
    # the value of a week is known on its last day
    return {w + timedelta(days=6): v for w, v in sorted(totals.items())}


def metric_values(history: AthleteHistory, goal: Goal, day: date) -> dict[date, float]:
    kind = goal.metric["kind"]
    if kind == "e1rm":
        return dict(e1rm_on(history, goal.metric["exercise_id"], day, window_days=10_000))
    if kind in ("weekly_training_sessions", "weekly_volume_load"):
        return _weekly(history, day, kind)
    metric = "body_mass" if kind == "body_mass" else str(goal.metric["name"])
    daily = daily_values(history, metric, day)
    if goal.metric.get("per") != "week":
        return daily
    first_day = history.athlete.profile["first_day_of_week"]
    current = week_start(day + timedelta(days=1), first_day)  # weeks ended by ``day``
    totals: dict[date, float] = defaultdict(float)
    for d, value in daily.items():
        week = week_start(d, first_day)
        if week < current:
            totals[week + timedelta(days=6)] += value
    return dict(sorted(totals.items()))


def progress(history: AthleteHistory, goal: Goal, day: date) -> dict[str, Any]:
    values = metric_values(history, goal, day)
    set_on = local_day(goal.created_on, history.timezone)
    current = round(values[max(values)], 3) if values else None
    start = goal.start_value
    if start is None and values:
        after = [d for d in values if d >= set_on]
        start = values[min(after)] if after else values[max(values)]
    out: dict[str, Any] = {
        "goal_id": str(goal.id), "title": goal.title, "metric": goal.metric,
        "direction": goal.direction, "unit": goal.unit, "status": goal.status,
        "target_value": goal.target_value, "start_value": start, "current_value": current,
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "percent": None, "slope_per_day": None, "projected_date": None, "on_track": None,
        "values": [{"day": d.isoformat(), "value": round(v, 3)} for d, v in values.items()],
    }
    if current is None:
        return out
    target = goal.target_value
    if start is not None and target != start:
        out["percent"] = round(100 * (current - start) / (target - start), 1)
    met = current >= target if goal.direction == "increase" else current <= target
    recent = [((d - set_on).days, v) for d, v in values.items()
              if (day - d).days < TREND_DAYS]
    line = least_squares(recent)
    if line is not None:
        out["slope_per_day"] = round(line.slope, 4)
    if met:
        out["projected_date"], out["on_track"] = max(values).isoformat(), True
        return out
    crossing = projected_crossing(recent, target)
    if crossing is None:
        out["on_track"] = False
        return out
    projected = set_on + timedelta(days=round(crossing))
    out["projected_date"] = projected.isoformat()
    out["on_track"] = goal.deadline is None or projected <= goal.deadline
    return out


def goals(history: AthleteHistory, day: date) -> dict[str, Any]:
    return {"goals": [progress(history, g, day) for g in history.goals
                      if local_day(g.created_on, history.timezone) <= day]}
