"""Prescriptions checked, and written as FIT workout files that fitdecode and fitparse read
back (CRC checked) with the SDK's rules for workout files and the same steps: random
prescriptions, no store."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support_workouts import prescription_of, read_workout

from ingest.fit.workout_file import sport_codes, workout_file
from services.domain.errors import InvalidValue
from services.domain.exercises import all_exercises
from services.domain.plan import workout_created_at
from services.domain.prescription import check_prescription, file_step_indexes, step_report

NAMED = [e.id for e in all_exercises() if e.fit_name is not None][::40]
CREATED = workout_created_at(date(2026, 11, 23))

strength = st.fixed_dictionaries(
    {"kind": st.just("strength"), "exercise_id": st.sampled_from(NAMED),
     "sets": st.integers(1, 50), "reps": st.integers(1, 1000)},
    optional={"load_kg": st.integers(0, 65_534).map(lambda g: g / 100),
              "rest_s": st.integers(0, 3600)})
target = st.one_of(
    st.tuples(st.just("heart_rate"), st.integers(30, 250), st.integers(30, 250)),
    st.tuples(st.just("power"), st.integers(1, 3000), st.integers(1, 3000)),
    st.tuples(st.just("pace"), st.integers(60, 1000), st.integers(60, 1000)),
).map(lambda t: {"type": t[0], "low": min(t[1:]), "high": max(t[1:])})
endurance = st.fixed_dictionaries(
    {"kind": st.just("endurance"),
     "intensity": st.sampled_from(["warmup", "active", "recovery", "rest", "cooldown"])},
    optional={"target": target, "name": st.text("abc XYZ-", min_size=1, max_size=20)},
).flatmap(lambda step: st.one_of(
    st.integers(1, 86_400).map(lambda s: {**step, "duration_s": s}),
    st.integers(100, 100_000_000).map(lambda cm: {**step, "distance_m": cm / 100})))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(strength, endurance), max_size=12), st.sampled_from(["kg", "lb"]))
def test_a_prescription_reads_back_from_its_workout_file(steps: list[dict[str, Any]],
                                                         unit: str) -> None:
    checked = check_prescription(steps)
    slot = {"title": "Session", "role": "training", "prescription": checked}
    _, workout, read = read_workout(workout_file(slot, 7, CREATED, unit))
    expected = [{**s, "distance_m": float(s["distance_m"])} if "distance_m" in s else s
                for s in checked]
    if checked:
        assert prescription_of(read) == expected
        starts = [read[i]["duration_type"] for i in file_step_indexes(checked)]
        assert starts == [("reps" if s["kind"] == "strength" else
                           "time" if "duration_s" in s else "distance") for s in checked]
    else:
        assert [s["duration_type"] for s in read] == ["open"]
    assert workout["wkt_name"] == "Session"


def test_the_sport_comes_from_the_slot_or_its_steps() -> None:
    squat = [{"kind": "strength", "exercise_id": "squat", "sets": 1, "reps": 1}]
    assert sport_codes({"sport": "running"}) == (1, 0)
    assert sport_codes({"sport": "strength_training"}) == (10, 20)
    assert sport_codes({"prescription": squat}) == (10, 20)
    assert sport_codes({"sport": "kabaddi"}) == (0, 0)
    assert sport_codes({}) == (0, 0)


@pytest.mark.parametrize(("steps", "field"), [
    ({"kind": "strength"}, "steps"),
    ([{"kind": "strength", "exercise_id": "squat", "sets": True, "reps": 1}], "steps[0].sets"),
    ([{"kind": "strength", "exercise_id": "squat", "sets": 1, "reps": 1, "load_kg": 700}],
     "steps[0].load_kg"),
    ([{"kind": "strength", "exercise_id": "custom:nothex", "sets": 1, "reps": 1}],
     "steps[0].exercise_id"),
    ([{"kind": "endurance", "duration_s": 60, "target": {"type": "pace", "low": 200}}],
     "steps[0].target.high"),
    ([{"kind": "endurance", "duration_s": 60, "intensity": "flat out"}],
     "steps[0].intensity"),
    ([{"kind": "endurance", "duration_s": 60, "name": "a\nb"}], "steps[0].name"),
    (["squat"], "steps[0]"),
])
def test_bad_steps_name_the_field(steps: Any, field: str) -> None:
    with pytest.raises(InvalidValue) as refused:
        check_prescription(steps)
    assert refused.value.field == field


def test_sets_go_to_the_steps_of_their_exercise_in_order() -> None:
    def squat(sets: int, reps: int, kg: float) -> dict[str, Any]:
        return {"kind": "strength", "exercise_id": "squat", "sets": sets, "reps": reps,
                "load_kg": kg}

    def done(reps: int, kg: float, kind: str = "working") -> dict[str, Any]:
        return {"set_id": f"{reps}x{kg}", "exercise_id": "squat", "reps": reps,
                "load_kg": kg, "set_type": kind}

    steps = check_prescription([squat(2, 5, 100), squat(2, 3, 110)])
    sets = [done(10, 40, "warmup"), done(5, 100), done(5, 99.6), done(3, 110), done(2, 110),
            done(3, 110)]
    got = step_report(steps, sets, [])
    assert [r["status"] for r in got] == ["done", "partial"]  # 99.6 kg: within 0.5 kg
    assert got[1]["done"]["reps"] == [3, 2, 3]  # the last step of an exercise takes the rest
    assert [r["status"] for r in step_report(steps, sets[:1], [])] == ["missed", "missed"]
