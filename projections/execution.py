"""Execution quality view: planned vs done, per week, and each session's classification.

A session is classified, as executed (its planned role is another matter):

- ``training`` when it is tied to an objective and was done as planned;
- ``workout`` when it has no objective (volume and unplanned sessions), or was far off plan:
  no work recorded at all, or less than half the usual volume load of the objective (the
  lower quartile of its last 8 sessions: :func:`projections.derive.sequence_sessions`).
  A session shortened for life's demands but still above that line keeps its purpose and
  counts as training.

Per week (the athlete's weeks): planned sessions (cancelled ones out), completed ones (a
session of that week linked to the planned slot), and training slots done as training
(:func:`projections.derive.week_row`).  Adherence over the
4 weeks up to the one asked for: completed / planned, and for training slots alone.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from projections.facts import Facts, SessionRow
from services.domain.weeks import week_start

ADHERENCE_WEEKS = 4


def executed_row(r: SessionRow) -> dict[str, Any]:
    """A session as the ``execution`` view lists it."""
    return {"session_id": r.session_id, "day": r.day.isoformat(),
            "planned_role": r.planned_role, "classification": r.classification,
            "reason": r.reason}


def adherence(rows: list[dict[str, Any]], key_done: str, key_planned: str) -> float | None:
    planned = sum(r[key_planned] for r in rows)
    return round(100 * sum(r[key_done] for r in rows) / planned, 1) if planned else None


def execution(facts: Facts, day: date) -> dict[str, Any]:
    since = week_start(day, facts.first_day_of_week) - timedelta(weeks=ADHERENCE_WEEKS - 1)
    recent = [w.row for w in facts.weeks(day, since)]
    return {
        "weeks": facts.weeks_out(day),
        "adherence_pct_4w": adherence(recent, "completed", "planned"),
        "training_adherence_pct_4w": adherence(recent, "training_done", "training_planned"),
        "sessions": facts.executed_out(day),
    }
