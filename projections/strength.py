"""Strength view: estimated 1RM per exercise and personal records, from working sets.

e1RM (:mod:`projections.science.strength`): Epley, w × (1 + r/30) (Epley 1985), and Brzycki,
w × 36 / (37 − r) (Brzycki 1993), both on the reps to failure: reps + RIR, with RIR = 10 − RPE
when only the RPE was given (Zourdos et al. 2016; Helms et al. 2016).  A set more than 4
reps from failure gives no estimate.  Warm-up sets and sets without load or reps are left out.

Personal records, in the order the sets were performed (then by session start and ids),
each naming the set that made it: heaviest load, most reps at a load, best e1RM, best set
volume (reps × load).  The first set of an exercise sets the bar; only beating it is a record.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.facts import Facts
from services.domain.exercises import get_exercise


def exercise_name(facts: Facts, exercise_id: str) -> str:
    known = get_exercise(exercise_id)
    if known is not None:
        return known.name
    custom = facts.athlete.custom_exercises.get(exercise_id)
    return custom["name"] if custom else exercise_id


def strength(facts: Facts, day: date) -> dict[str, Any]:
    counts = facts.working_sets(day)
    exercises: dict[str, dict[str, Any]] = {}
    first_seen: dict[str, str] = {}
    records: list[dict[str, Any]] = []
    for mark in facts.marks(day):
        ex = mark.exercise_id
        first_seen.setdefault(ex, mark.order)
        entry = exercises.setdefault(ex, {"exercise_id": ex, "name": exercise_name(facts, ex),
                                          "sets": counts.get(ex, 0)})
        if mark.previous is not None:
            name = f"most_reps_at_{mark.at:g}_kg" if mark.kind == "most_reps_at" else mark.kind
            records.append({"exercise_id": ex, "record": name, "value": mark.value,
                            "previous": mark.previous, "set": mark.ref})
        if mark.kind == "e1rm_kg":
            entry["best_e1rm_kg"] = mark.value
            entry["best_e1rm_set"] = mark.ref
            entry["best_e1rm_brzycki_kg"] = mark.brzycki
        elif mark.kind == "heaviest_kg":
            entry["heaviest_kg"] = mark.value
    series: dict[str, list[dict[str, Any]]] = {ex: [] for ex in exercises}
    for ex, when, value in facts.e1rm_days(day):
        series.setdefault(ex, []).append({"day": when.isoformat(), "e1rm_kg": value})
    for ex, entry in exercises.items():
        entry["e1rm_series"] = series[ex]
        entry["latest_e1rm_kg"] = series[ex][-1]["e1rm_kg"] if series[ex] else None
    ordered = sorted(exercises.values(),
                     key=lambda e: (-e["sets"], first_seen[e["exercise_id"]]))
    return {"exercises": ordered, "records": records}


def e1rm_values(facts: Facts, exercise_id: str, day: date) -> dict[date, float]:
    """day -> best e1RM of that day, for one exercise, up to ``day``."""
    return {d: v for _, d, v in facts.e1rm_days(day, exercise_id)}
