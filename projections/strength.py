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
from zoneinfo import ZoneInfo

from projections.history import AthleteHistory
from projections.science.strength import brzycki, e1rm
from services.domain.exercises import get_exercise


def _name(history: AthleteHistory, exercise_id: str) -> str:
    known = get_exercise(exercise_id)
    if known is not None:
        return known.name
    custom = history.athlete.custom_exercises.get(exercise_id)
    return custom["name"] if custom else exercise_id


def working_sets(history: AthleteHistory, until: date | None = None) -> list[dict[str, Any]]:
    """Loaded working sets with reps, in time order, each with its session, day and e1RM
    (Epley on reps to failure; None more than 4 reps from failure).  Computed once per
    history, shared by the strength and goal views."""
    if "working_sets" not in history.cache:
        out = []
        zone = ZoneInfo(history.timezone)
        for session in history.sessions:
            for s in session.sets.values():
                if s.get("set_type") == "warmup" or not s.get("reps") or not s.get("load_kg"):
                    continue
                day = (s.get("performed_at") or session.started_at).astimezone(zone).date()
                estimate = e1rm(float(s["load_kg"]), int(s["reps"]), s.get("rpe"), s.get("rir"))
                out.append({**s, "session_id": str(session.id), "day": day, "e1rm": estimate})
        out.sort(key=lambda s: (s["day"], s["session_id"], s["set_id"]))
        history.cache["working_sets"] = out
    rows: list[dict[str, Any]] = history.cache["working_sets"]
    return rows if until is None else [s for s in rows if s["day"] <= until]


def _ref(s: dict[str, Any]) -> dict[str, Any]:
    """How a record names the set that made it."""
    return {"session_id": s["session_id"], "set_id": s["set_id"], "day": s["day"].isoformat(),
            "reps": int(s["reps"]), "load_kg": float(s["load_kg"]), "rpe": s.get("rpe"),
            "rir": s.get("rir")}


def strength(history: AthleteHistory, day: date) -> dict[str, Any]:
    exercises: dict[str, dict[str, Any]] = {}
    records: list[dict[str, Any]] = []
    best: dict[tuple[str, str, float], float] = {}
    for s in working_sets(history, day):
        ex, reps, load, estimate = s["exercise_id"], int(s["reps"]), float(s["load_kg"]), s["e1rm"]
        entry = exercises.get(ex)
        if entry is None:
            entry = exercises[ex] = {"exercise_id": ex, "name": _name(history, ex), "sets": 0,
                                     "e1rm_by_day": {}}
        entry["sets"] += 1
        candidates = [("heaviest_kg", 0.0, load), ("most_reps_at", load, float(reps)),
                      ("set_volume_kg", 0.0, reps * load)]
        if estimate is not None:
            estimate = round(estimate, 2)
            by_day = entry["e1rm_by_day"]
            by_day[s["day"]] = max(by_day.get(s["day"], 0.0), estimate)
            candidates.append(("e1rm_kg", 0.0, estimate))
        for kind, at, value in candidates:
            previous = best.get((ex, kind, at))
            if previous is not None and value <= previous:
                continue
            best[(ex, kind, at)] = value
            if previous is not None:
                name = f"most_reps_at_{at:g}_kg" if kind == "most_reps_at" else kind
                records.append({"exercise_id": ex, "record": name, "value": value,
                                "previous": previous, "set": _ref(s)})
            if kind == "e1rm_kg":
                entry["best_e1rm_kg"] = value
                entry["best_e1rm_set"] = _ref(s)
                brz = brzycki(load, reps)
                entry["best_e1rm_brzycki_kg"] = round(brz, 2) if brz is not None else None
            elif kind == "heaviest_kg":
                entry["heaviest_kg"] = value
    for entry in exercises.values():
        series = sorted(entry.pop("e1rm_by_day").items())
        entry["e1rm_series"] = [{"day": d.isoformat(), "e1rm_kg": v} for d, v in series]
        entry["latest_e1rm_kg"] = series[-1][1] if series else None
    return {"exercises": sorted(exercises.values(), key=lambda e: -e["sets"]),
            "records": records}


def e1rm_on(history: AthleteHistory, exercise_id: str, day: date,
            window_days: int = 42) -> list[tuple[date, float]]:
    """(day, best e1RM of that day) for one exercise over the ``window_days`` up to ``day``."""
    by_day: dict[date, float] = {}
    for s in working_sets(history, day):
        estimate = s["e1rm"]
        if s["exercise_id"] != exercise_id or estimate is None or \
                (day - s["day"]).days >= window_days:
            continue
        by_day[s["day"]] = max(by_day.get(s["day"], 0.0), estimate)
    return sorted(by_day.items())
