"""Reading exported workout files back with fitdecode and fitparse (CRC checked), checking the
FIT SDK's rules for workout files, and turning their steps back into a prescription."""

from __future__ import annotations

import io
from datetime import UTC
from typing import Any

import fitdecode
import fitparse
from fitdecode import profile

from services.domain.exercises import FIT_CATEGORY_CODES, exercise_for_fit, get_exercise

Message = tuple[str, dict[str, Any]]


def with_fitdecode(data: bytes) -> list[Message]:
    """Every data message, as fitdecode reads it; raises on a CRC mismatch."""
    out = []
    with fitdecode.FitReader(io.BytesIO(data), check_crc=fitdecode.CrcCheck.RAISE) as reader:
        for frame in reader:
            if isinstance(frame, fitdecode.FitDataMessage):
                out.append((frame.name, {f.name: f.value for f in frame.fields
                                         if f.value is not None}))
    return out


def with_fitparse(data: bytes) -> list[Message]:
    """Every data message, as fitparse reads it; raises on a CRC mismatch."""
    fit = fitparse.FitFile(io.BytesIO(data), check_crc=True)
    return [(m.name, {k: v for k, v in m.get_values().items() if v is not None})
            for m in fit.get_messages()]


#: enums fitparse's older profile does not know every value of (``bike``, ``recovery``)
CODES = {field: {name: code for code, name in profile.FIELD_TYPES[field].enum.items()}
         for field in ("exercise_category", "intensity")}


def _comparable(messages: list[Message]) -> list[Message]:
    """fitparse's times are naive UTC, and its older profile gives some enum values as
    numbers: both as fitdecode's, with codes for those enums."""
    def value(key: str, v: Any) -> Any:
        if key == "time_created":
            return v.replace(tzinfo=UTC)
        return CODES[key].get(v, v) if key in CODES else v

    return [(n, {k: value(k, v) for k, v in m.items()}) for n, m in messages]


def read_workout(data: bytes) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """(file_id, workout, steps) of a workout file that both libraries read alike, checked
    against the SDK's rules for workout files."""
    messages = with_fitdecode(data)
    assert _comparable(with_fitparse(data)) == _comparable(messages)
    names = [n for n, _ in messages]
    assert names[0] == "file_id", names  # the SDK: file_id first
    assert names.count("workout") == 1
    assert set(names) == {"file_id", "workout", "workout_step"}, names
    file_id, workout = messages[0][1], next(m for n, m in messages if n == "workout")
    assert file_id["type"] == "workout"
    for needed in ("manufacturer", "product", "serial_number", "time_created"):
        assert needed in file_id, needed
    steps = [m for n, m in messages if n == "workout_step"]
    assert "sport" in workout
    assert workout.get("wkt_name")
    assert workout["num_valid_steps"] == len(steps)
    assert [s["message_index"] for s in steps] == list(range(len(steps)))
    for index, step in enumerate(steps):
        if step["duration_type"] == "repeat_until_steps_cmplt":
            assert 0 <= step["duration_step"] < index  # back to an earlier step
            assert step["repeat_steps"] >= 1
        else:
            assert "target_type" in step
            assert "intensity" in step
    return file_id, workout, steps


def _target(step: dict[str, Any]) -> dict[str, Any] | None:
    kind = step["target_type"]
    if kind == "open":
        return None
    low, high = step[f"custom_target_{'speed' if kind == 'speed' else kind}_low"], step[
        f"custom_target_{'speed' if kind == 'speed' else kind}_high"]
    if kind == "heart_rate":
        return {"type": "heart_rate", "low": low - 100, "high": high - 100}
    if kind == "power":
        return {"type": "power", "low": low - 1000, "high": high - 1000}
    return {"type": "pace", "low": round(1000 / high), "high": round(1000 / low)}


def prescription_of(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The prescription a workout's steps carry (the inverse of the export)."""
    out: list[dict[str, Any]] = []
    index = 0
    while index < len(steps):
        step = steps[index]
        if step["duration_type"] == "reps":
            rest, repeat = steps[index + 1], steps[index + 2]
            assert rest["intensity"] == "rest"
            assert repeat["duration_type"] == "repeat_until_steps_cmplt"
            assert repeat["duration_step"] == index
            category = step.get("exercise_category")
            exercise = (exercise_for_fit(FIT_CATEGORY_CODES[category], step.get("exercise_name"))
                        if isinstance(category, str) else None)
            made: dict[str, Any] = {"kind": "strength",
                                    "exercise_id": exercise.id if exercise else None,
                                    "sets": repeat["repeat_steps"], "reps": step["duration_reps"]}
            if "exercise_weight" in step:
                made["load_kg"] = step["exercise_weight"]
            if rest["duration_type"] == "time":
                made["rest_s"] = round(rest["duration_time"])
            catalogued = get_exercise(made["exercise_id"] or "")
            if catalogued is None or not catalogued.name.startswith(step["wkt_step_name"]):
                made["name"] = step.get("wkt_step_name")
            out.append(made)
            index += 3
            continue
        made = {"kind": "endurance"}
        if step["duration_type"] == "time":
            made["duration_s"] = round(step["duration_time"])
        else:
            assert step["duration_type"] == "distance", step
            made["distance_m"] = step["duration_distance"]
        target = _target(step)
        if target:
            made["target"] = target
        made["intensity"] = step["intensity"]
        if "wkt_step_name" in step:
            made["name"] = step["wkt_step_name"]
        out.append(made)
        index += 1
    return out
