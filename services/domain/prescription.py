"""A planned slot's prescription: the structured steps the athlete is meant to do.

Two kinds of step, stored as plain dicts (the slot's ``prescription``):

- ``strength``: ``exercise_id`` (catalogue or the athlete's ``custom:`` id), ``sets`` x
  ``reps``, ``load_kg`` (optional; the API converts the athlete's mass unit) and ``rest_s``
  between sets (optional: rest until the athlete goes on).
- ``endurance``: ``duration_s`` or ``distance_m`` (exactly one), an optional ``target``
  ``{"type": "heart_rate" | "pace" | "power", "low": x, "high": y}`` in bpm, seconds per km
  (at most 1000: slower paces do not survive FIT's speed in mm/s) or watts, rounded to whole
  numbers, and an optional ``intensity`` (``warmup``, ``active``, ``recovery``, ``rest``,
  ``cooldown``; default ``active``).
- a strength load is at most 655.34 kg, the most a FIT workout step holds.

Both take an optional ``name``.  ``check_prescription`` refuses anything else, naming the
field (``steps[2].reps``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from services.domain.errors import InvalidValue
from services.domain.exercises import get_exercise, is_custom_exercise_id, is_unidentified
from services.domain.validation import check_choice, check_range, check_text, to_kg

if TYPE_CHECKING:
    from services.domain.session import TrainingSession

MAX_STEPS = 50
MAX_PRESCRIBED_KG = 655.34  # the most a FIT workout step's exercise_weight holds
MAX_SETS = 50
MAX_REST_S = 3600
MAX_DURATION_S = 24 * 3600
MAX_DISTANCE_M = 1_000_000.0
INTENSITIES = ("warmup", "active", "recovery", "rest", "cooldown")
#: target type -> (unit, the range a value may take)
TARGETS: dict[str, tuple[str, float, float]] = {
    "heart_rate": ("bpm", 30, 250),
    "pace": ("s/km", 60, 1000),  # whole seconds survive FIT's speed in mm/s up to 1000
    "power": ("W", 1, 3000),
}
STRENGTH_FIELDS = ("kind", "name", "exercise_id", "sets", "reps", "load_kg", "rest_s")
ENDURANCE_FIELDS = ("kind", "name", "duration_s", "distance_m", "target", "intensity")


def _whole(value: Any, low: int, high: int, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue("must be a whole number", field)
    check_range(value, low, high, field)
    return value


def _number(value: Any, low: float, high: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidValue("must be a number", field)
    check_range(value, low, high, field)
    return float(value)


def _only(step: dict[str, Any], allowed: tuple[str, ...], field: str) -> None:
    extra = sorted(set(step) - set(allowed))
    if extra:
        raise InvalidValue(f"not a field of a {step.get('kind')} step", f"{field}.{extra[0]}")


def _strength(step: dict[str, Any], field: str,
              known_exercise: Callable[[str], bool]) -> dict[str, Any]:
    _only(step, STRENGTH_FIELDS, field)
    exercise = step.get("exercise_id")
    if not isinstance(exercise, str) or not exercise:
        raise InvalidValue("is required", f"{field}.exercise_id")
    if is_unidentified(exercise) or not known_exercise(exercise):
        raise InvalidValue(f"unknown exercise {exercise!r} (GET /exercises?q= finds ids)",
                           f"{field}.exercise_id")
    out: dict[str, Any] = {"kind": "strength", "exercise_id": exercise,
                           "sets": _whole(step.get("sets"), 1, MAX_SETS, f"{field}.sets"),
                           "reps": _whole(step.get("reps"), 1, 1000, f"{field}.reps")}
    if step.get("load_kg") is not None:
        out["load_kg"] = round(_number(step["load_kg"], 0, MAX_PRESCRIBED_KG,
                                       f"{field}.load_kg"), 2)
    if step.get("rest_s") is not None:
        out["rest_s"] = _whole(step["rest_s"], 0, MAX_REST_S, f"{field}.rest_s")
    return out


def _target(target: Any, field: str) -> dict[str, Any]:
    if not isinstance(target, dict) or set(target) - {"type", "low", "high"}:
        raise InvalidValue("must be {type, low, high}", field)
    kind = target.get("type")
    if not isinstance(kind, str):
        raise InvalidValue("is required", f"{field}.type")
    check_choice(kind, tuple(TARGETS), f"{field}.type")
    unit, low_limit, high_limit = TARGETS[kind]
    low = _number(target.get("low"), low_limit, high_limit, f"{field}.low")
    high = _number(target.get("high"), low_limit, high_limit, f"{field}.high")
    if low > high:
        raise InvalidValue(f"low ({low:g} {unit}) is above high ({high:g} {unit})", field)
    return {"type": kind, "low": round(low), "high": round(high)}


def _endurance(step: dict[str, Any], field: str) -> dict[str, Any]:
    _only(step, ENDURANCE_FIELDS, field)
    duration, distance = step.get("duration_s"), step.get("distance_m")
    if (duration is None) == (distance is None):
        raise InvalidValue("give duration_s or distance_m (one of them)", field)
    out: dict[str, Any] = {"kind": "endurance"}
    if duration is not None:
        out["duration_s"] = _whole(duration, 1, MAX_DURATION_S, f"{field}.duration_s")
    else:
        out["distance_m"] = round(_number(distance, 1, MAX_DISTANCE_M, f"{field}.distance_m"),
                                  2)
    if step.get("target") is not None:
        out["target"] = _target(step["target"], f"{field}.target")
    intensity = step.get("intensity") or "active"
    check_choice(intensity, INTENSITIES, f"{field}.intensity")
    out["intensity"] = intensity
    return out


def check_prescription(steps: Any, known_exercise: Callable[[str], bool] | None = None,
                       field: str = "steps") -> list[dict[str, Any]]:
    """The steps, checked and normalised (no unset fields); ``known_exercise`` says whether
    an id names an exercise (default: the catalogue, or any well-formed custom id)."""
    known = known_exercise or (lambda e: get_exercise(e) is not None
                               or is_custom_exercise_id(e))
    if not isinstance(steps, list):
        raise InvalidValue("must be a list of steps", field)
    if len(steps) > MAX_STEPS:
        raise InvalidValue(f"at most {MAX_STEPS} steps", field)
    out = []
    for i, step in enumerate(steps):
        where = f"{field}[{i}]"
        if not isinstance(step, dict):
            raise InvalidValue("must be a step object", where)
        kind = step.get("kind")
        check_choice(str(kind), ("strength", "endurance"), f"{where}.kind")
        made = (_strength(step, where, known) if kind == "strength"
                else _endurance(step, where))
        if step.get("name") is not None:
            check_text(step["name"], f"{where}.name", max_len=60)
            made["name"] = step["name"]
        out.append(made)
    return out


def steps_in_kg(steps: Any, mass_unit: str, field: str) -> Any:
    """Steps as entered (a strength step's ``load`` in its ``load_unit``, else
    ``mass_unit``; or ``load_kg``, as answers give it) with each load as ``load_kg``;
    anything else is left for ``check_prescription`` to refuse."""
    if not isinstance(steps, list):
        return steps
    out = []
    for i, step in enumerate(steps):
        if isinstance(step, dict) and "load" in step and "load_kg" in step:
            raise InvalidValue("give load (in load_unit) or load_kg, not both",
                               f"{field}[{i}].load_kg")
        if isinstance(step, dict) and "load" in step:
            step = dict(step)
            unit = step.pop("load_unit", None) or mass_unit
            load = step.pop("load")
            step["load_kg"] = None if load is None else to_kg(load, unit,
                                                              f"{field}[{i}].load_unit")
        out.append(step)
    return out


def file_step_indexes(steps: list[dict[str, Any]]) -> list[int]:
    """The ``workout_step`` index each step starts at in its exported workout file (a
    strength step is three: work, rest, repeat)."""
    out, index = [], 0
    for step in steps:
        out.append(index)
        index += 3 if step["kind"] == "strength" else 1
    return out


#: a step is done when what was done reaches the prescription, give or take this much
DONE_SHARE = 0.95
LOAD_SLACK_KG = 0.5  # plates and lb/kg rounding


def _strength_done(step: dict[str, Any], sets: list[dict[str, Any]]) -> dict[str, Any]:
    reps = [s.get("reps") or 0 for s in sets]
    loads = [s.get("load_kg") for s in sets]
    full = [r >= step["reps"] and (step.get("load_kg") is None
                                   or (load or 0) >= step["load_kg"] - LOAD_SLACK_KG)
            for r, load in zip(reps, loads, strict=True)]
    status = ("missed" if not sets else
              "done" if len(sets) >= step["sets"] and all(full) else "partial")
    return {"status": status, "done": {"sets": len(sets), "reps": reps, "load_kg": loads,
                                       "set_ids": [s["set_id"] for s in sets]}}


def _endurance_done(step: dict[str, Any], laps: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = sum(float(lap.get("timer_s") or lap.get("elapsed_s") or 0) for lap in laps)
    metres = sum(float(lap.get("distance_m") or 0) for lap in laps)
    wanted, got = ((step["duration_s"], seconds) if "duration_s" in step
                   else (step["distance_m"], metres))
    status = ("missed" if not laps or got <= 0 else
              "done" if got >= DONE_SHARE * wanted else "partial")
    done: dict[str, Any] = {"laps": len(laps), "duration_s": round(seconds, 1),
                            "distance_m": round(metres, 1)}
    target = step.get("target")
    if target and laps:
        done["target"] = _on_target(target, laps)
    return {"status": status, "done": done}


def _on_target(target: dict[str, Any], laps: list[dict[str, Any]]) -> dict[str, Any]:
    """The laps' time-weighted average of the target's measure, and whether it is within
    the target's range (None: the laps do not say)."""
    field = {"heart_rate": "avg_hr", "power": "avg_power_w", "pace": "avg_speed_m_s"}[
        target["type"]]
    pairs = [(float(lap[field]), float(lap.get("timer_s") or lap.get("elapsed_s") or 0))
             for lap in laps if lap.get(field)]
    total = sum(t for _, t in pairs)
    if not pairs or total <= 0:
        return {"value": None, "within": None}
    value = sum(v * t for v, t in pairs) / total
    if target["type"] == "pace":
        value = 1000 / value  # s/km
    return {"value": round(value, 1), "within": target["low"] <= round(value) <= target["high"]}


def step_report(steps: list[dict[str, Any]], sets: list[dict[str, Any]],
                laps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each prescribed step done, partial or missed, with what was done against it.

    When the device wrote ``wkt_step_index`` (a workout run from the watch), a step takes the
    sets and laps done for its steps in the exported file, whatever the watch named them.
    Otherwise strength steps take the session's sets of their exercise (warm-ups aside) in
    order, as many as they prescribe (the last step of an exercise takes the rest), and
    endurance steps take the laps in order, one each."""
    indexes = file_step_indexes(steps)
    by_index = any("wkt_step_index" in lap for lap in laps)
    sets_by_index = any("wkt_step_index" in s for s in sets)
    pending = [s for s in sets if s.get("set_type") != "warmup"]
    in_order = iter(laps)
    out = []
    for i, (step, index) in enumerate(zip(steps, indexes, strict=True)):
        if step["kind"] == "strength" and sets_by_index:
            done = _strength_done(step, [s for s in sets if s.get("wkt_step_index") == index])
        elif step["kind"] == "strength":
            mine = [s for s in pending if s["exercise_id"] == step["exercise_id"]]
            later = any(s["kind"] == "strength" and s["exercise_id"] == step["exercise_id"]
                        for s in steps[i + 1:])
            taken = mine[:step["sets"]] if later else mine
            pending = [s for s in pending if s not in taken]
            done = _strength_done(step, taken)
        else:
            found = ([lap for lap in laps if lap.get("wkt_step_index") == index] if by_index
                     else [lap for lap in [next(in_order, None)] if lap is not None])
            done = _endurance_done(step, found)
        out.append({"step": i, "prescribed": step, **done})
    return out


def session_step_report(steps: list[dict[str, Any]],
                        session: TrainingSession) -> list[dict[str, Any]]:
    """``step_report`` of a recorded session: its sets, and its laps when imported.  The
    session API (``prescribed_steps``) and the execution view both call this."""
    return step_report(steps, list(session.sets.values()),
                       (session.device or {}).get("lap_rows") or [])


def as_prescribed(report: list[dict[str, Any]]) -> dict[str, Any]:
    """A step report in short: how many steps were done, partial or missed, and the
    session's status against its prescription (``done``: every step done; ``missed``:
    none started; else ``partial``)."""
    counts = {k: sum(1 for r in report if r["status"] == k)
              for k in ("done", "partial", "missed")}
    status = ("done" if counts["done"] == len(report)
              else "missed" if counts["missed"] == len(report) else "partial")
    return {"steps": counts, "status": status}
