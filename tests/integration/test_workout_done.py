"""After the workout (issue 13, item 2): the imported activity fills its slot, and
``GET /sessions/{id}`` reports each prescribed step done, partial or missed, with what was
done against it: through the laps' ``wkt_step_index`` when the watch wrote it, else laps in
order; strength sets by exercise.  On both stores, files uploaded through the API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient
from support_slots import ok, past_monday, served
from support_views import Athlete
from support_workouts import done_activity

from services.runtime import Runtime

SQUAT, BENCH, DEADLIFT = ("squat.back_squats", "bench_press.barbell_bench_press",
                          "deadlift.barbell_deadlift")
GYM = [
    {"kind": "strength", "exercise_id": SQUAT, "sets": 3, "reps": 5, "load": 100,
     "rest_s": 120},
    {"kind": "strength", "exercise_id": BENCH, "sets": 3, "reps": 8, "load": 60},
    {"kind": "strength", "exercise_id": DEADLIFT, "sets": 1, "reps": 5, "load": 140},
]
RUN = [
    {"kind": "endurance", "duration_s": 600, "intensity": "warmup"},
    {"kind": "endurance", "distance_m": 2000, "target": {"type": "pace", "low": 240,
                                                          "high": 270}},
    {"kind": "endurance", "duration_s": 300, "intensity": "cooldown"},
]
TRAINING, STRENGTH_TRAINING, RUNNING = (10, 20), (10, 20), (1, 0)


def upload(client: TestClient, a: Athlete, name: str, data: bytes) -> dict[str, Any]:
    (answer,) = ok(client.post(f"/athletes/{a.id}/imports/fit", params={"wait": 20},
                               headers=a.me, files=[("files", (name, data))]), 202)
    assert answer["status"] == "imported", answer
    result: dict[str, Any] = answer["request"]["result"]
    return result


def week_with_prescriptions(client: TestClient, a: Athlete, week: date) -> list[str]:
    slots = [s["planned_session_id"] for s in a.plan(week)["sessions"]]
    base = f"/athletes/{a.id}/plans/{week}/sessions"
    ok(client.put(f"{base}/{slots[0]}/prescription", json={"steps": GYM}, headers=a.me))
    ok(client.patch(f"{base}/{slots[1]}", json={"sport": "running"}, headers=a.me))
    ok(client.put(f"{base}/{slots[1]}/prescription", json={"steps": RUN}, headers=a.me))
    return slots


def at(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), UTC)


def report(client: TestClient, a: Athlete, session_id: str) -> dict[str, Any]:
    session: dict[str, Any] = ok(client.get(f"/sessions/{session_id}", headers=a.me))
    return session


def test_each_prescribed_step_is_reported_done_partial_or_missed(runtime: Runtime) -> None:
    with served(runtime) as client:
        a = Athlete(client)
        week = past_monday()
        slots = week_with_prescriptions(client, a, week)

        gym = upload(client, a, "gym.fit", done_activity(
            at(week, 10), STRENGTH_TRAINING, 4001,
            sets=[(SQUAT, 5, 100, None), (SQUAT, 5, 100, None), (SQUAT, 5, 100, None),
                  (BENCH, 8, 60, None)]))
        session = report(client, a, gym["session_ids"][0])
        assert session["planned_session_id"] == slots[0]  # the slot of its day
        steps = session["prescribed_steps"]
        assert [s["status"] for s in steps] == ["done", "partial", "missed"]
        assert steps[0]["prescribed"]["load_kg"] == 100
        assert steps[0]["done"]["reps"] == [5, 5, 5]
        assert steps[0]["done"]["load_kg"] == [100, 100, 100]
        assert (steps[1]["done"]["sets"], steps[1]["done"]["reps"]) == (1, [8])
        assert steps[2]["done"]["sets"] == 0

        run = upload(client, a, "run.fit", done_activity(
            at(week + timedelta(days=2), 7), RUNNING, 4002,
            laps=[(600, 1500, 0), (500, 2000, 1), (100, 250, 2)]))  # the steps' indexes
        session = report(client, a, run["session_ids"][0])
        assert session["planned_session_id"] == slots[1]
        steps = session["prescribed_steps"]
        assert [s["status"] for s in steps] == ["done", "done", "partial"]
        assert [s["done"]["duration_s"] for s in steps] == [600, 500, 100]
        assert steps[1]["done"]["distance_m"] == 2000
        assert steps[1]["done"]["target"] == {"value": 250.0, "within": True}  # 2 km in 500 s
        laps = ok(client.get(f"/sessions/{run['session_ids'][0]}/laps", headers=a.me))
        assert [lap["wkt_step_index"] for lap in laps] == [0, 1, 2]

        # a run without step indexes (not from the workout): its laps, in order
        earlier = past_monday(2)
        week_with_prescriptions(client, a, earlier)
        free = upload(client, a, "free-run.fit", done_activity(
            at(earlier + timedelta(days=2), 7), RUNNING, 4003,
            laps=[(590, 1500, None), (400, 1000, None)]))
        steps = report(client, a, free["session_ids"][0])["prescribed_steps"]
        assert [s["status"] for s in steps] == ["done", "partial", "missed"]
        assert steps[1]["done"]["distance_m"] == 1000
        assert steps[1]["done"]["target"] == {"value": 400.0, "within": False}  # too slow

        # from the watch's workout: each set names its step (3: bench's work step), even
        # one the watch took for another exercise
        later = past_monday(3)
        week_with_prescriptions(client, a, later)
        watch = upload(client, a, "watch-gym.fit", done_activity(
            at(later, 10), STRENGTH_TRAINING, 4005,
            sets=[(SQUAT, 5, 100, 0), (SQUAT, 5, 100, 0), (SQUAT, 5, 100, 0),
                  (BENCH, 8, 60, 3), (SQUAT, 8, 60, 3), (BENCH, 8, 60, 3),
                  (DEADLIFT, 3, 140, 6)]))
        steps = report(client, a, watch["session_ids"][0])["prescribed_steps"]
        assert [s["status"] for s in steps] == ["done", "done", "partial"]
        assert steps[1]["done"]["reps"] == [8, 8, 8]
        assert steps[2]["done"]["reps"] == [3]

        # a session filling a slot without prescription, or none: no report
        other = upload(client, a, "other.fit", done_activity(
            at(week + timedelta(days=4), 7), RUNNING, 4004, laps=[(600, 1500, None)]))
        assert report(client, a, other["session_ids"][0])["prescribed_steps"] is None
