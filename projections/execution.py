"""Execution quality view: planned vs done, per week, and each session's classification.

A session is classified, as executed (its planned role is another matter):

- ``training`` when it is tied to an objective and was done as planned;
- ``workout`` when it has no objective (volume and unplanned sessions), or was far off plan:
  no work recorded at all, or less than half the volume load of the median earlier session
  for the same objective (``FAR_OFF_PLAN``).  A session shortened for life's demands but still
  above that line keeps its purpose and counts as training.

Per week (the athlete's weeks): planned sessions (cancelled ones out), completed ones (a
session linked to the planned slot), and training slots done as training.  Adherence over the
4 weeks up to the one asked for: completed / planned, and for training slots alone.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from projections.history import AthleteHistory
from projections.sessions import SessionLoad, session_loads
from services.domain.weeks import week_start

FAR_OFF_PLAN = 0.5
ADHERENCE_WEEKS = 4


def classify(loads: list[SessionLoad]) -> dict[str, tuple[str, str]]:
    """session_id -> (classification, reason), sessions taken in order."""
    out: dict[str, tuple[str, str]] = {}
    earlier: dict[str, list[float]] = defaultdict(list)
    for row in loads:
        if row.objective_id is None:
            reason = "volume session: accumulates work, no objective" \
                if row.planned_role == "volume" else "no objective"
            out[row.session_id] = ("workout", reason)
            continue
        if row.sets == 0 and not row.minutes:
            out[row.session_id] = ("workout", "no work recorded")
            continue
        before = earlier[row.objective_id]
        if before and row.volume_load_kg < FAR_OFF_PLAN * statistics.median(before):
            out[row.session_id] = ("workout", (
                f"far off plan: volume load {row.volume_load_kg:g} kg is under half the usual "
                f"{statistics.median(before):g} kg for this objective"))
        else:
            out[row.session_id] = ("training", "objective linked, done as planned")
        if row.volume_load_kg > 0:
            before.append(row.volume_load_kg)
    return out


def weeks(history: AthleteHistory, day: date) -> list[dict[str, Any]]:
    """Per planned week up to the one holding ``day``: planned, completed, training done."""
    loads = [row for row in session_loads(history) if row.day <= day]
    classes = classify(loads)
    by_slot = {row.planned_session_id: row for row in loads if row.planned_session_id}
    first_day = history.athlete.profile["first_day_of_week"]
    out = []
    for plan in history.plans:
        if plan.week_start > day:
            continue
        slots = [s for s in plan.sessions.values() if not s.get("cancelled")]
        due = [s for s in slots if s.get("day") is None or s["day"] <= day.isoformat()] \
            if week_start(day, first_day) == plan.week_start else slots
        done = [s for s in due if s["planned_session_id"] in by_slot]
        training = [s for s in due if s["role"] == "training"]
        training_done = [s for s in training if s["planned_session_id"] in by_slot
                         and classes[by_slot[s["planned_session_id"]].session_id][0] == "training"]
        out.append({
            "week_start": plan.week_start.isoformat(),
            "planned": len(due), "completed": len(done),
            "training_planned": len(training), "training_done": len(training_done),
            "volume_planned": sum(1 for s in due if s["role"] == "volume"),
            "converted": sum(1 for s in slots if s.get("converted")),
            "missed": [s.get("title") or s["role"] for s in due if s not in done],
        })
    return out


def adherence(rows: list[dict[str, Any]], key_done: str, key_planned: str) -> float | None:
    planned = sum(r[key_planned] for r in rows)
    return round(100 * sum(r[key_done] for r in rows) / planned, 1) if planned else None


def execution(history: AthleteHistory, day: date) -> dict[str, Any]:
    loads = [row for row in session_loads(history) if row.day <= day]
    classes = classify(loads)
    per_week = weeks(history, day)
    since = (week_start(day, history.athlete.profile["first_day_of_week"])
             - timedelta(weeks=ADHERENCE_WEEKS - 1)).isoformat()
    recent = [w for w in per_week if w["week_start"] >= since]
    return {
        "weeks": per_week,
        "adherence_pct_4w": adherence(recent, "completed", "planned"),
        "training_adherence_pct_4w": adherence(recent, "training_done", "training_planned"),
        "sessions": [{"session_id": r.session_id, "day": r.day.isoformat(),
                      "planned_role": r.planned_role, "classification": classes[r.session_id][0],
                      "reason": classes[r.session_id][1]} for r in loads],
    }
