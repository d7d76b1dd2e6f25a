"""Reading exported workout files back with fitdecode and fitparse (CRC checked), checking the
FIT SDK's rules for workout files, and turning their steps back into a prescription."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import fitdecode
import fitparse
from fitdecode import profile

from ingest.fit.encode import ENUM, UINT8, UINT16, UINT32, UINT32Z, Field, FitWriter, fit_time
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


def done_activity(start: datetime, sport: tuple[int, int], serial: int,
                  laps: Sequence[tuple[float, float | None, int | None]] = (),
                  sets: Sequence[tuple[str, int, float, int | None]] = ()) -> bytes:
    """An activity file as a watch writes after a workout, with our encoder: ``laps`` as
    (seconds, metres, workout step index or None), strength ``sets`` as (exercise id, reps,
    kg, workout step index or None), one record a minute with HR, then session and
    activity."""
    w = FitWriter()
    t0 = fit_time(start)
    w.message(0, 0, [(0, ENUM, 4), (1, UINT16, 1), (2, UINT16, 4315), (3, UINT32Z, serial),
                     (4, UINT32, t0)])
    w.message(3, 21, [(253, UINT32, t0), (0, ENUM, 0), (1, ENUM, 0), (3, UINT32, 0)])
    t = t0
    for index, (exercise_id, reps, kg, step) in enumerate(sets):
        exercise = get_exercise(exercise_id)
        assert exercise is not None
        fields: list[Field] = [
            (254, UINT32, t + 40), (0, UINT32, 40_000), (3, UINT16, reps),
            (4, UINT16, round(kg * 16)), (5, UINT8, 1), (6, UINT32, t),
            (7, UINT16, (exercise.fit_category,)), (8, UINT16, (exercise.fit_name,)),
            (10, UINT16, index)]
        if step is not None:
            fields.append((11, UINT16, step))
        w.message(7, 225, fields)
        t += 120
    lap_start = t0
    for index, (seconds, metres, step) in enumerate(laps):
        end = lap_start + round(seconds)
        fields = [
            (254, UINT16, index), (253, UINT32, end), (0, ENUM, 9), (1, ENUM, 1),
            (2, UINT32, lap_start), (7, UINT32, round(seconds * 1000)),
            (8, UINT32, round(seconds * 1000)),
            (9, UINT32, None if metres is None else round(metres * 100)),
            (13, UINT16, None if metres is None else round(metres / seconds * 1000)),
            (15, UINT8, 140), (25, ENUM, sport[0])]
        if step is not None:
            fields.append((71, UINT16, step))
        w.message(4, 19, fields)
        lap_start = end
    end = max(t, lap_start, t0 + 60)
    for ts in range(t0, end + 1, 60):
        w.message(1, 20, [(253, UINT32, ts), (3, UINT8, 130)])
    w.message(3, 21, [(253, UINT32, end), (0, ENUM, 0), (1, ENUM, 4), (3, UINT32, 0)])
    w.message(5, 18, [(254, UINT16, 0), (253, UINT32, end), (0, ENUM, 8), (1, ENUM, 1),
                      (2, UINT32, t0), (5, ENUM, sport[0]), (6, ENUM, sport[1]),
                      (7, UINT32, (end - t0) * 1000), (8, UINT32, (end - t0) * 1000),
                      (16, UINT8, 130), (17, UINT8, 150), (25, UINT16, 0),
                      (26, UINT16, max(len(laps), 1))])
    w.message(6, 34, [(253, UINT32, end), (0, UINT32, (end - t0) * 1000), (1, UINT16, 1),
                      (2, ENUM, 0), (3, ENUM, 26), (4, ENUM, 1)])
    return w.finish()
