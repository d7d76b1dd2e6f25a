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

Where a goal stands (``current_value``): for e1RM and performance metrics the best value
of the last 28 days, for body mass and weekly totals the latest value; ``percent`` of the way
from the start to the target; ``progress`` is ``reached``, ``on track`` or ``off track``.

Trend: least-squares slope (per day) over the last ``TREND_DAYS`` of values
(:func:`projections.science.trend.least_squares`); projected date: where that line reaches
the target.  Reached when the current value meets the target (``projected_date`` is then the day a
value first met it); on track when the projection reaches it by the deadline (any date,
without a deadline); off track when the trend moves away or arrives late.
The starting value is the goal's own, else the first value on or after the goal was set,
else the last one before it.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from projections.facts import DictSeries, Facts, MetricSeries
from projections.science.trend import least_squares, projected_crossing
from services.domain.goal import Goal
from services.domain.weeks import local_day, week_start

TREND_DAYS = 42
BEST_OF_DAYS = 28  # e1RM and performance goals: "now" is the best of the last 28 days


def _weekly(facts: Facts, day: date, kind: str) -> dict[date, float]:
    first_day = facts.first_day_of_week
    current = week_start(day, first_day)
    totals: dict[date, float] = defaultdict(float)
    for when, volume, role in facts.weekly_work(day):
        week = week_start(when, first_day)
        if week >= current:
            continue
        if kind == "weekly_volume_load":
            totals[week] += volume
        elif role == "training":
            totals[week] += 1
        else:
            totals.setdefault(week, 0.0)
    # the value of a week is known on its last day
    return {w + timedelta(days=6): v for w, v in sorted(totals.items())}


def metric_series(facts: Facts, goal: Goal, day: date) -> MetricSeries:
    kind = goal.metric["kind"]
    if kind == "e1rm":
        return facts.e1rm_series(goal.metric["exercise_id"], day)
    if kind in ("body_mass", "custom") and goal.metric.get("per") != "week":
        return facts.daily_series("body_mass" if kind == "body_mass" else
                                  str(goal.metric["name"]), day)
    return DictSeries(metric_values(facts, goal, day))


def metric_values(facts: Facts, goal: Goal, day: date) -> dict[date, float]:
    """The values of a goal's metric other than e1RM, up to ``day``."""
    kind = goal.metric["kind"]
    if kind in ("weekly_training_sessions", "weekly_volume_load"):
        return _weekly(facts, day, kind)
    metric = "body_mass" if kind == "body_mass" else str(goal.metric["name"])
    daily = facts.daily_values(metric, day)
    if goal.metric.get("per") != "week":
        return daily
    first_day = facts.first_day_of_week
    current = week_start(day + timedelta(days=1), first_day)  # weeks ended by ``day``
    totals: dict[date, float] = defaultdict(float)
    for d, value in daily.items():
        week = week_start(d, first_day)
        if week < current:
            totals[week + timedelta(days=6)] += value
    return dict(sorted(totals.items()))


def current_value(goal: Goal, values: MetricSeries, day: date) -> float | None:
    """Where the goal stands: for e1RM and performance metrics the best value of the last
    28 days (highest when the goal increases, lowest when it decreases), so one off day
    does not undo progress; for body mass and weekly totals the latest value."""
    last = values.last()
    if last is None:
        return None
    kind = goal.metric["kind"]
    performance = kind == "e1rm" or (kind == "custom" and goal.metric.get("per") != "week")
    if not performance:
        return last[1]
    recent = list(values.window(day - timedelta(days=BEST_OF_DAYS - 1)).values())
    if not recent:
        return last[1]
    return max(recent) if goal.direction == "increase" else min(recent)


def progress(facts: Facts, goal: Goal, day: date) -> dict[str, Any]:
    values = metric_series(facts, goal, day)
    set_on = local_day(goal.created_on, str(facts.athlete.profile_on(goal.created_on)
                                           ["timezone"]))
    now = current_value(goal, values, day)
    current = round(now, 3) if now is not None else None
    last = values.last()
    start = goal.start_value
    if start is None and last is not None:
        found = values.first_from(set_on)
        start = found if found is not None else last[1]
    out: dict[str, Any] = {
        "goal_id": str(goal.id), "title": goal.title, "metric": goal.metric,
        "direction": goal.direction, "unit": goal.unit, "status": goal.status,
        "target_value": goal.target_value, "start_value": start, "current_value": current,
        "deadline": goal.deadline.isoformat() if goal.deadline else None,
        "percent": None, "slope_per_day": None, "projected_date": None, "on_track": None,
        "progress": None, "values": values.out(),
    }
    if current is None:
        return out
    target = goal.target_value
    if start is not None and target != start:
        out["percent"] = round(100 * (current - start) / (target - start), 1)
    increase = goal.direction == "increase"
    met = current >= target if increase else current <= target
    recent = [((d - set_on).days, v) for d, v in
              values.window(day - timedelta(days=TREND_DAYS - 1)).items()]
    line = least_squares(recent)
    if line is not None:
        out["slope_per_day"] = round(line.slope, 4)
    if met:
        reached_on = values.first_meeting(target, increase)
        out["projected_date"] = reached_on.isoformat() if reached_on else None
        out["progress"] = "reached"
        return out
    crossing = projected_crossing(recent, target)
    if crossing is None:
        out["on_track"], out["progress"] = False, "off track"
        return out
    projected = set_on + timedelta(days=round(crossing))
    out["projected_date"] = projected.isoformat()
    out["on_track"] = goal.deadline is None or projected <= goal.deadline
    out["progress"] = "on track" if out["on_track"] else "off track"
    return out


def goals(facts: Facts, day: date) -> dict[str, Any]:
    return {"goals": [progress(facts, g, day) for g in facts.goals()
                      if local_day(g.created_on, str(facts.athlete.profile_on(g.created_on)
                                                     ["timezone"])) <= day]}
