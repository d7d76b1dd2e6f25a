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

from projections.facts import Facts, Mark
from services.domain.exercises import get_exercise


def exercise_name(facts: Facts, exercise_id: str) -> str:
    known = get_exercise(exercise_id)
    if known is not None:
        return known.name
    custom = facts.athlete.custom_exercises.get(exercise_id)
    return custom["name"] if custom else exercise_id


def record_row(mark: Mark) -> dict[str, Any]:
    """A personal record as the ``strength`` view lists it."""
    name = f"most_reps_at_{mark.at:g}_kg" if mark.kind == "most_reps_at" else mark.kind
    return {"exercise_id": mark.exercise_id, "record": name, "value": mark.value,
            "previous": mark.previous, "set": mark.ref}


def e1rm_row(day: date, value: float) -> dict[str, Any]:
    """A day of an exercise's e1RM series."""
    return {"day": day.isoformat(), "e1rm_kg": value}


def strength(facts: Facts, day: date) -> dict[str, Any]:
    series = facts.e1rm_out(day)
    exercises = []
    for best in facts.strength_bests(day):
        ex = best["exercise_id"]
        entry = {"exercise_id": ex, "name": exercise_name(facts, ex), "sets": best["sets"]}
        entry.update({k: best[k] for k in ("best_e1rm_kg", "best_e1rm_set",
                                           "best_e1rm_brzycki_kg", "heaviest_kg") if k in best})
        entry["e1rm_series"] = series.get(ex, [])
        entry["latest_e1rm_kg"] = best.get("latest_e1rm_kg")
        exercises.append(entry)
    exercises.sort(key=lambda e: -e["sets"])  # stable: ties in order of their first set
    return {"exercises": exercises, "records": facts.records_out(day)}
