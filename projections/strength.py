"""Strength view: estimated 1RM per exercise and personal records, from working sets.

e1RM (:mod:`projections.science.strength`): Epley, w × (1 + r/30) (Epley 1985), and Brzycki,
w × 36 / (37 − r) (Brzycki 1993), on the reps to failure: reps + RIR, with RIR = 10 − RPE
when only the RPE was given (Zourdos et al. 2016; Helms et al. 2016).  A set more than 4
reps from failure gives no estimate.  Warm-up sets and sets without load or reps are left out.

Personal records, in the order they were set, each naming the set that made it: heaviest
load, most reps at a load, best e1RM, best set volume (reps × load).  The first set of an
exercise sets the bar; only beating it is a record.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projections.history import AthleteHistory
from projections.science.strength import brzycki, e1rm
from services.domain.exercises import get_exercise
from services.domain.weeks import local_day


def _name(history: AthleteHistory, exercise_id: str) -> str:
    known = get_exercise(exercise_id)
    if known is not None:
        return known.name
    custom = history.athlete.custom_exercises.get(exercise_id)
    return custom["name"] if custom else exercise_id


def working_sets(history: AthleteHistory, until: date | None = None) -> list[dict[str, Any]]:
    """Loaded working sets with reps, in time order, each with its session and day."""
    out = []
    for session in history.sessions:
        for s in session.sets.values():
            if s.get("set_type") == "warmup" or not s.get("reps") or not s.get("load_kg"):
                continue
            day = local_day(s.get("performed_at") or session.started_at, history.timezone)
            if until is not None and day > until:
                continue
            out.append({**s, "session_id": str(session.id), "day": day})
    out.sort(key=lambda s: (s["day"], s["session_id"], s["set_id"]))
    return out


def strength(history: AthleteHistory, day: date) -> dict[str, Any]:
    exercises: dict[str, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    best: dict[tuple[str, str], float] = {}
    for s in working_sets(history, day):
        ex, reps, load = s["exercise_id"], int(s["reps"]), float(s["load_kg"])
        estimate = e1rm(load, reps, s.get("rpe"), s.get("rir"))
        ref = {"session_id": s["session_id"], "set_id": s["set_id"], "day": s["day"].isoformat(),
               "reps": reps, "load_kg": load, "rpe": s.get("rpe"), "rir": s.get("rir")}
        entry = exercises.setdefault(ex, {"exercise_id": ex, "name": _name(history, ex),
                                          "sets": 0, "e1rm_by_day": {}})
        entry["sets"] += 1
        if estimate is not None:
            by_day = entry["e1rm_by_day"]
            by_day[ref["day"]] = max(by_day.get(ref["day"], 0.0), round(estimate, 2))
        candidates = {"heaviest_kg": load, f"most_reps_at_{load:g}_kg": float(reps),
                      "set_volume_kg": reps * load}
        if estimate is not None:
            candidates["e1rm_kg"] = round(estimate, 2)
        for kind, value in candidates.items():
            previous = best.get((ex, kind))
            if previous is None or value > previous:
                best[(ex, kind)] = value
                if previous is not None:
                    records.append({"exercise_id": ex, "record": kind, "value": value,
                                    "previous": previous, "set": ref})
                if kind == "e1rm_kg":
                    entry["best_e1rm_kg"] = value
                    entry["best_e1rm_set"] = ref
                    brz = brzycki(load, reps)
                    entry["best_e1rm_brzycki_kg"] = round(brz, 2) if brz is not None else None
                elif kind == "heaviest_kg":
                    entry["heaviest_kg"] = value
    for entry in exercises.values():
        series = sorted(entry.pop("e1rm_by_day").items())
        entry["e1rm_series"] = [{"day": d, "e1rm_kg": v} for d, v in series]
        entry["latest_e1rm_kg"] = series[-1][1] if series else None
    return {"exercises": sorted(exercises.values(), key=lambda e: -e["sets"]),
            "records": records}


def e1rm_on(history: AthleteHistory, exercise_id: str, day: date,
            window_days: int = 42) -> list[tuple[date, float]]:
    """(day, best e1RM of that day) for one exercise over the ``window_days`` up to ``day``."""
    by_day: dict[date, float] = {}
    for s in working_sets(history, day):
        if s["exercise_id"] != exercise_id or (day - s["day"]).days >= window_days:
            continue
        estimate = e1rm(float(s["load_kg"]), int(s["reps"]), s.get("rpe"), s.get("rir"))
        if estimate is not None:
            by_day[s["day"]] = max(by_day.get(s["day"], 0.0), estimate)
    return sorted(by_day.items())
