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


def in_view(a: Athlete, week: date, **params: str) -> list[dict[str, Any]]:
    """The execution view's prescribed slots of ``week``."""
    weeks = a.view("execution", **params)["weeks"]
    found: list[dict[str, Any]] = next(
        w for w in weeks if w["week_start"] == week.isoformat())["prescribed"]
    return found


def summary(steps: list[dict[str, Any]]) -> dict[str, Any]:
    """What the session API's step report says in short."""
    counts = {k: [s["status"] for s in steps].count(k) for k in ("done", "partial", "missed")}
    status = ("done" if counts["done"] == len(steps) else
              "missed" if counts["missed"] == len(steps) else "partial")
    return {"steps": counts, "status": status}


def test_the_execution_view_reports_each_prescribed_slot(runtime: Runtime) -> None:
    """Per week, each slot with a prescription and a session that did it: its steps done,
    partial and missed, as ``GET /sessions/{id}`` reports them, from the read model (a past
    week's stored row, the week of ``on`` computed), equal to the oracle (``as_of``); a set
    logged, a relink or a new prescription changes it."""
    with served(runtime) as client:
        a = Athlete(client)
        week = past_monday()
        slots = week_with_prescriptions(client, a, week)
        assert in_view(a, week) == []
        gym = upload(client, a, "gym.fit", done_activity(
            at(week, 10), STRENGTH_TRAINING, 4101,
            sets=[(SQUAT, 5, 100, None), (SQUAT, 5, 100, None), (SQUAT, 5, 100, None),
                  (BENCH, 8, 60, None)]))["session_ids"][0]
        run = upload(client, a, "run.fit", done_activity(
            at(week + timedelta(days=2), 7), RUNNING, 4102,
            laps=[(600, 1500, 0), (500, 2000, 1), (100, 250, 2)]))["session_ids"][0]
        upload(client, a, "other.fit", done_activity(  # a slot without prescription
            at(week + timedelta(days=4), 7), RUNNING, 4103, laps=[(600, 1500, None)]))

        def expected(*done: tuple[str, str]) -> list[dict[str, Any]]:
            return [{"planned_session_id": slot, "session_id": sid, "title": "training",
                     **summary(report(client, a, sid)["prescribed_steps"])}
                    for slot, sid in done]

        want = expected((slots[0], gym), (slots[1], run))
        assert [w["status"] for w in want] == ["partial", "partial"]
        assert want[0]["steps"] == {"done": 1, "partial": 1, "missed": 1}
        assert in_view(a, week) == want
        assert in_view(a, week, as_of=datetime.now(UTC).isoformat()) == want  # the oracle
        tuesday = (week + timedelta(days=1)).isoformat()  # that week as of its Tuesday
        assert in_view(a, week, on=tuesday) == want[:1]
        assert in_view(a, week, on=tuesday, as_of=datetime.now(UTC).isoformat()) == want[:1]

        for _ in range(2):  # bench done, deadlift done: every step done
            ok(client.post(f"/sessions/{gym}/sets", json={
                "exercise_id": BENCH, "reps": 8, "load": 60, "load_unit": "kg"},
                headers=a.me), 201)
        ok(client.post(f"/sessions/{gym}/sets", json={
            "exercise_id": DEADLIFT, "reps": 5, "load": 140, "load_unit": "kg"},
            headers=a.me), 201)
        want = expected((slots[0], gym), (slots[1], run))
        assert want[0] == {**want[0], "steps": {"done": 3, "partial": 0, "missed": 0},
                           "status": "done"}
        assert in_view(a, week) == want
        ok(client.post(f"/sessions/{run}/link", json={}, headers=a.me))  # unlinked
        assert in_view(a, week) == want[:1]
        ok(client.put(f"/athletes/{a.id}/plans/{week}/sessions/{slots[0]}/prescription",
                      json={"steps": GYM[2:]}, headers=a.me))
        assert in_view(a, week) == expected((slots[0], gym))
        assert in_view(a, week)[0]["steps"] == {"done": 1, "partial": 0, "missed": 0}
        assert in_view(a, week, as_of=datetime.now(UTC).isoformat()) == in_view(a, week)
