"""Every write command and correction through the HTTP API, read back via GET and the event log."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.domain.weeks import week_start
from services.runtime import Runtime

SQUAT = "squat.back_squats"
BENCH = "bench_press.barbell_bench_press"




# ------------------------------------------------------------------ helpers


def ago(**delta: float) -> datetime:
    """An aware UTC moment in the past (second precision)."""
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat()


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def last_monday() -> date:
    """The Monday of last week: every day of that week is in the past."""
    return week_start(datetime.now(UTC).date() - timedelta(days=7), "monday")


def event_names(runtime: Runtime, aggregate_id: str) -> list[str]:
    return [type(e).__name__ for e in runtime.app.events.get(UUID(aggregate_id))]


def log_position(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def start_session(client: TestClient, athlete_id: str, headers: dict[str, str],
                  **body: Any) -> dict[str, Any]:
    body.setdefault("started_at", iso(ago(hours=2)))
    return ok(client.post(f"/athletes/{athlete_id}/sessions", json=body, headers=headers), 201)


def log_set(client: TestClient, session_id: str, headers: dict[str, str],
            **body: Any) -> dict[str, Any]:
    body = {"exercise_id": SQUAT, "reps": 5, **body}
    return ok(client.post(f"/sessions/{session_id}/sets", json=body, headers=headers), 201)["set"]


def set_goal(client: TestClient, athlete_id: str, headers: dict[str, str],
             title: str = "Squat 140", **body: Any) -> dict[str, Any]:
    body = {"title": title, "metric": {"kind": "e1rm", "exercise_id": SQUAT},
            "target_value": 140, "unit": "kg", **body}
    return ok(client.post(f"/athletes/{athlete_id}/goals", json=body, headers=headers), 201)


# ------------------------------------------------------------------ athletes


def test_create_athlete_converts_body_mass_from_lb(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Bo", timezone="Europe/Paris", mass_unit="lb",
                                    body_mass=176, first_day_of_week="sunday", birth_year=1990)
    athlete = ok(client.get(f"/athletes/{athlete_id}", headers=bearer(token)))
    assert athlete["profile"] == {
        "name": "Bo", "sex": "unspecified", "birth_year": 1990, "body_mass_kg": 79.8323,
        "max_hr": None, "resting_hr": None, "ftp_w": None, "timezone": "Europe/Paris",
        "mass_unit": "lb",
        "distance_unit": "km", "first_day_of_week": "sunday",
    }
    assert athlete["settings"]["atl_days"] == 7
    assert athlete["coach_ids"] == []
    assert athlete["version"] == 1
    assert event_names(runtime, athlete_id) == ["Registered"]
    assert ok(client.get("/me", headers=bearer(token))) == {
        "role": "athlete", "principal_id": athlete_id, "athlete_ids": [athlete_id]}


def test_profile_update_is_an_event_and_converts_lb(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, mass_unit="lb", body_mass=176)
    me = bearer(token)
    updated = ok(client.patch(f"/athletes/{athlete_id}/profile",
                              json={"body_mass": 180, "max_hr": 190}, headers=me))
    assert updated["profile"]["body_mass_kg"] == 81.6466  # in the athlete's unit, lb
    assert updated["profile"]["max_hr"] == 190
    assert updated["version"] == 2
    # an explicit unit wins over the athlete's
    updated = ok(client.patch(f"/athletes/{athlete_id}/profile",
                              json={"body_mass": 80, "mass_unit": "kg"}, headers=me))
    assert updated["profile"]["body_mass_kg"] == 80.0
    assert updated["profile"]["mass_unit"] == "kg"
    events = list(runtime.app.events.get(UUID(athlete_id)))
    assert [type(e).__name__ for e in events] == ["Registered", "ProfileUpdated", "ProfileUpdated"]
    assert events[0].profile["body_mass_kg"] == 79.8323  # the original fact is untouched
    assert ok(client.get(f"/athletes/{athlete_id}", headers=me))["profile"]["body_mass_kg"] == 80.0


def test_back_dated_profile_change_and_profile_on(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, body_mass=80)
    me = bearer(token)
    ok(client.patch(f"/athletes/{athlete_id}/profile",
                    json={"body_mass": 75, "effective_at": iso(ago(days=30))}, headers=me))
    ok(client.patch(f"/athletes/{athlete_id}/profile", json={"body_mass": 74}, headers=me))
    # recorded later but effective earlier: it does not override the newer value
    ok(client.patch(f"/athletes/{athlete_id}/profile",
                    json={"body_mass": 77, "effective_at": iso(ago(days=20))}, headers=me))
    assert ok(client.get(f"/athletes/{athlete_id}", headers=me))["profile"]["body_mass_kg"] == 74
    athlete = runtime.app.athlete(athlete_id)
    assert athlete.profile_on(ago(days=60))["body_mass_kg"] == 80  # the registered profile
    assert athlete.profile_on(ago(days=25))["body_mass_kg"] == 75
    assert athlete.profile_on(ago(days=10))["body_mass_kg"] == 77
    assert athlete.profile_on(datetime.now(UTC) + timedelta(seconds=1))["body_mass_kg"] == 74


def test_settings_change(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    changed = ok(client.patch(f"/athletes/{athlete_id}/settings",
                              json={"atl_days": 10, "acwr_method": "rolling_coupled",
                                    "hr_zone_bounds_pct": [55, 65, 75, 85, 95]},
                              headers=bearer(token)))
    assert changed["settings"]["atl_days"] == 10
    assert changed["settings"]["acwr_method"] == "rolling_coupled"
    assert changed["settings"]["hr_zone_bounds_pct"] == [55, 65, 75, 85, 95]
    assert changed["settings"]["ctl_days"] == 42  # untouched settings keep their value
    assert event_names(runtime, athlete_id) == ["Registered", "SettingsChanged"]


# ------------------------------------------------------------------ coaches and grants


def test_coach_grant_and_revocation(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    created = ok(client.post("/coaches", json={"name": "Carter"}, headers=ADMIN), 201)
    coach_id, coach = created["coach"]["coach_id"], bearer(created["token"])
    assert ok(client.get(f"/coaches/{coach_id}", headers=coach)) == {
        "coach_id": coach_id, "name": "Carter"}
    assert client.get(f"/athletes/{athlete_id}", headers=coach).status_code == 404

    granted = ok(client.post(f"/athletes/{athlete_id}/grants", json={"coach_id": coach_id},
                             headers=me), 201)
    assert granted["coach_ids"] == [coach_id]
    assert ok(client.get(f"/athletes/{athlete_id}", headers=coach))["athlete_id"] == athlete_id
    assert ok(client.get("/me", headers=coach))["athlete_ids"] == [athlete_id]
    assert [a["athlete_id"] for a in ok(client.get("/athletes", headers=coach))] == [athlete_id]

    revoked = ok(client.delete(f"/athletes/{athlete_id}/grants/{coach_id}", headers=me))
    assert revoked["coach_ids"] == []
    assert client.get(f"/athletes/{athlete_id}", headers=coach).status_code == 404
    assert client.delete(f"/athletes/{athlete_id}/grants/{coach_id}", headers=me).status_code == 409
    assert event_names(runtime, athlete_id) == ["Registered", "CoachGranted", "CoachGrantRevoked"]
    assert event_names(runtime, coach_id) == ["Registered"]


def test_tokens_issue_list_and_revoke(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    issued = ok(client.post(f"/athletes/{athlete_id}/tokens", json={"label": "phone"},
                            headers=me), 201)
    phone = bearer(issued["token"])
    assert ok(client.get("/me", headers=phone))["principal_id"] == athlete_id
    listed = ok(client.get(f"/athletes/{athlete_id}/tokens", headers=me))
    assert [t["label"] for t in listed] == ["first token", "phone"]
    assert all(t["revoked_at"] is None for t in listed)
    assert client.delete(f"/tokens/{issued['token_id']}", headers=me).status_code == 204
    assert client.get("/me", headers=phone).status_code == 401
    assert client.get("/me", headers=me).status_code == 200
    assert client.delete(f"/tokens/{issued['token_id']}", headers=me).status_code == 409


# ------------------------------------------------------------------ custom exercises


def test_custom_exercise_then_log_a_set_with_it(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    exercise = ok(client.post(f"/athletes/{athlete_id}/exercises",
                              json={"name": "Zercher good morning", "category": "hyperextension"},
                              headers=me), 201)
    assert exercise["id"].startswith("custom:")
    assert exercise["custom"] is True
    athlete = ok(client.get(f"/athletes/{athlete_id}", headers=me))
    assert athlete["custom_exercises"] == {
        exercise["id"]: {"name": "Zercher good morning", "category": "hyperextension"}}
    found = ok(client.get("/exercises", params={"q": "zercher", "athlete_id": athlete_id},
                          headers=me))
    assert found[0] == exercise

    session = start_session(client, athlete_id, me)
    logged = log_set(client, session["session_id"], me, exercise_id=exercise["id"], reps=8,
                     load=60)
    assert logged["exercise_id"] == exercise["id"]
    assert logged["load_kg"] == 60.0
    # the name is unique per athlete
    again = client.post(f"/athletes/{athlete_id}/exercises",
                        json={"name": "zercher GOOD morning", "category": "squat"}, headers=me)
    assert again.status_code == 409
    assert event_names(runtime, athlete_id) == ["Registered", "CustomExerciseDefined"]


# ------------------------------------------------------------------ goals


def test_goal_set_revise_achieve(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    goal = set_goal(client, athlete_id, me, deadline="2027-03-01", start_value=120)
    goal_id = goal["goal_id"]
    assert goal["status"] == "active"
    assert goal["metric"] == {"kind": "e1rm", "exercise_id": SQUAT}
    assert goal["start_value"] == 120

    revised = ok(client.patch(f"/goals/{goal_id}",
                              json={"target_value": 150, "deadline": "2027-06-01",
                                    "title": "Squat 150"}, headers=me))
    assert (revised["target_value"], revised["deadline"], revised["title"]) == (
        150, "2027-06-01", "Squat 150")
    assert ok(client.get(f"/goals/{goal_id}", headers=me)) == revised

    achieved = ok(client.post(f"/goals/{goal_id}/achieve", json={"value": 151, "note": "PR"},
                              headers=me))
    assert achieved["status"] == "achieved"
    before = log_position(runtime)
    r = client.patch(f"/goals/{goal_id}", json={"target_value": 160}, headers=me)
    assert r.status_code == 409, r.text
    assert client.post(f"/goals/{goal_id}/abandon", json={}, headers=me).status_code == 409
    assert log_position(runtime) == before

    events = list(runtime.app.events.get(UUID(goal_id)))
    assert [type(e).__name__ for e in events] == ["Set", "Revised", "Achieved"]
    assert events[0].target_value == 140  # the original goal is still in the history


def test_goal_abandon_and_list_by_status(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    kept = set_goal(client, athlete_id, me)
    dropped = set_goal(client, athlete_id, me, title="Deep work",
                       metric={"kind": "custom", "name": "deep_work_hours"},
                       target_value=20, unit="h")
    abandoned = ok(client.post(f"/goals/{dropped['goal_id']}/abandon",
                               json={"reason": "new job"}, headers=me))
    assert abandoned["status"] == "abandoned"
    everything = ok(client.get(f"/athletes/{athlete_id}/goals", headers=me))
    assert [g["goal_id"] for g in everything] == [kept["goal_id"], dropped["goal_id"]]
    active = ok(client.get(f"/athletes/{athlete_id}/goals", params={"status": "active"},
                           headers=me))
    assert [g["goal_id"] for g in active] == [kept["goal_id"]]
    assert event_names(runtime, dropped["goal_id"]) == ["Set", "Abandoned"]


# ------------------------------------------------------------------ plans


def test_default_plan_template_ties_objectives_in_order(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    goals = [set_goal(client, athlete_id, me, title=f"Goal {i}")["goal_id"] for i in range(3)]
    monday = last_monday()
    plan = ok(client.post(f"/athletes/{athlete_id}/plans",
                          json={"week_start": monday.isoformat(), "objective_ids": goals},
                          headers=me), 201)
    assert plan["week_start"] == monday.isoformat()
    assert [(s["role"], s["objective_id"]) for s in plan["sessions"]] == [
        ("training", goals[0]), ("training", goals[1]), ("training", goals[2]), ("volume", None)]
    assert len({s["planned_session_id"] for s in plan["sessions"]}) == 4
    assert ok(client.get(f"/athletes/{athlete_id}/plans/{monday}", headers=me)) == plan
    assert ok(client.get(f"/athletes/{athlete_id}/plans", headers=me)) == [plan]


def test_plan_with_explicit_sessions_add_cancel_convert(client: TestClient,
                                                        runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    goal = set_goal(client, athlete_id, me)["goal_id"]
    monday = last_monday()
    base = f"/athletes/{athlete_id}/plans/{monday}"
    plan = ok(client.post(f"/athletes/{athlete_id}/plans", json={
        "week_start": monday.isoformat(),
        "sessions": [
            {"role": "training", "objective_id": goal, "day": monday.isoformat(),
             "title": "Heavy squat"},
            {"role": "volume", "day": (monday + timedelta(days=2)).isoformat()},
        ]}, headers=me), 201)
    training, volume = (s["planned_session_id"] for s in plan["sessions"])
    assert plan["sessions"][0]["title"] == "Heavy squat"
    assert plan["sessions"][1]["day"] == (monday + timedelta(days=2)).isoformat()

    added = ok(client.post(f"{base}/sessions", json={"role": "volume"}, headers=me), 201)
    assert len(added["sessions"]) == 3
    extra = next(s["planned_session_id"] for s in added["sessions"]
                 if s["planned_session_id"] not in (training, volume))

    cancelled = ok(client.post(f"{base}/sessions/{extra}/cancel", json={"reason": "travel"},
                               headers=me))
    assert next(s for s in cancelled["sessions"] if s["planned_session_id"] == extra)[
        "cancelled"] is True

    converted = ok(client.post(f"{base}/sessions/{volume}/convert", json={
        "objective_id": goal, "force": True, "reason": "not ready, tried anyway"}, headers=me))
    slot = next(s for s in converted["sessions"] if s["planned_session_id"] == volume)
    assert (slot["role"], slot["converted"], slot["objective_id"]) == ("training", True, goal)

    before = log_position(runtime)
    r = client.post(f"{base}/sessions/{training}/convert", json={"objective_id": goal},
                    headers=me)
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "role"
    assert log_position(runtime) == before
    assert event_names(runtime, plan["plan_id"]) == [
        "Planned", "SessionAdded", "SessionCancelled", "VolumeSessionConverted"]
    assert ok(client.get(base, headers=me))["version"] == 4


def test_plan_week_start_must_be_the_athletes_first_day(client: TestClient,
                                                        runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, first_day_of_week="sunday")
    me = bearer(token)
    sunday = last_monday() - timedelta(days=1)
    before = log_position(runtime)
    r = client.post(f"/athletes/{athlete_id}/plans",
                    json={"week_start": (sunday + timedelta(days=1)).isoformat()}, headers=me)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "week_start"
    assert "sunday" in r.json()["detail"]
    assert log_position(runtime) == before
    ok(client.post(f"/athletes/{athlete_id}/plans", json={"week_start": sunday.isoformat()},
                   headers=me), 201)


def test_planning_the_same_week_twice_conflicts(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    body = {"week_start": last_monday().isoformat()}
    plan = ok(client.post(f"/athletes/{athlete_id}/plans", json=body, headers=me), 201)
    before = log_position(runtime)
    r = client.post(f"/athletes/{athlete_id}/plans", json={**body, "sessions": [
        {"role": "volume"}]}, headers=me)
    assert r.status_code == 409, r.text
    assert r.json()["errors"][0]["field"] == "week_start"
    assert log_position(runtime) == before
    assert ok(client.get(f"/athletes/{athlete_id}/plans/{body['week_start']}",
                         headers=me)) == plan


# ------------------------------------------------------------------ sessions


def test_start_then_end_with_rpe_and_computed_duration(client: TestClient,
                                                       runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, timezone="Europe/Paris")
    me = bearer(token)
    started = ago(hours=3)
    # no offset: the time is read in the athlete's zone
    local = started.astimezone(ZoneInfo("Europe/Paris")).replace(tzinfo=None)
    session = start_session(client, athlete_id, me, started_at=local.isoformat(),
                            title="Squat day")
    assert at(session["started_at"]) == started
    assert session["timezone"] == "Europe/Paris"
    assert (session["status"], session["planned_role"]) == ("open", "unplanned")
    session_id = session["session_id"]
    log_set(client, session_id, me, performed_at=iso(started + timedelta(minutes=10)))

    ended = ok(client.post(f"/sessions/{session_id}/end",
                           json={"ended_at": iso(started + timedelta(minutes=65)),
                                 "session_rpe": 7, "avg_hr": 128, "notes": "solid"},
                           headers=me))
    assert ended["status"] == "ended"
    assert at(ended["ended_at"]) == started + timedelta(minutes=65)
    assert (ended["session_rpe"], ended["duration_min"]) == (7, 65.0)
    assert (ended["avg_hr"], ended["notes"]) == (128, "solid")
    assert ok(client.get(f"/sessions/{session_id}", headers=me)) == ended
    assert event_names(runtime, session_id) == ["Started", "SetLogged", "Ended"]
    # ending twice is a conflict
    assert client.post(f"/sessions/{session_id}/end", json={}, headers=me).status_code == 409


def test_start_from_a_planned_session_takes_role_and_objective(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    goal = set_goal(client, athlete_id, me)["goal_id"]
    monday = last_monday()
    plan = ok(client.post(f"/athletes/{athlete_id}/plans",
                          json={"week_start": monday.isoformat(), "objective_ids": [goal]},
                          headers=me), 201)
    slots = plan["sessions"]
    tuesday_evening = datetime.combine(monday + timedelta(days=1), datetime.min.time(), UTC)
    training = start_session(client, athlete_id, me,
                             started_at=iso(tuesday_evening + timedelta(hours=18)),
                             planned_session_id=slots[0]["planned_session_id"])
    assert (training["planned_role"], training["objective_id"]) == ("training", goal)
    assert training["planned_session_id"] == slots[0]["planned_session_id"]
    volume = start_session(client, athlete_id, me,
                           started_at=iso(tuesday_evening + timedelta(days=2, hours=18)),
                           planned_session_id=slots[3]["planned_session_id"])
    assert (volume["planned_role"], volume["objective_id"]) == ("volume", None)


def test_retrospective_session_with_sets_and_end_in_one_request(client: TestClient,
                                                                runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, mass_unit="lb")
    me = bearer(token)
    started = ago(days=2)
    before = log_position(runtime)
    session = start_session(client, athlete_id, me, started_at=iso(started), sets=[
        {"exercise_id": SQUAT, "reps": 5, "load": 225, "rpe": 8,
         "performed_at": iso(started + timedelta(minutes=10))},
        {"exercise_id": SQUAT, "reps": 5, "load": 100, "load_unit": "kg", "rir": 2,
         "performed_at": iso(started + timedelta(minutes=15))},
        {"exercise_id": BENCH, "reps": 8, "load": 135, "set_type": "working"},
    ], end={"ended_at": iso(started + timedelta(minutes=50)), "session_rpe": 6})
    assert session["status"] == "ended"
    assert session["duration_min"] == 50.0
    assert [(s["exercise_id"], s["load_kg"]) for s in session["sets"]] == [
        (SQUAT, 102.0583), (SQUAT, 100.0), (BENCH, 61.235)]
    # a set given without a time is placed at the start of the session
    assert at(session["sets"][2]["performed_at"]) == started
    assert event_names(runtime, session["session_id"]) == [
        "Started", "SetLogged", "SetLogged", "SetLogged", "Ended"]
    assert log_position(runtime) - before == 5
    assert ok(client.get(f"/sessions/{session['session_id']}", headers=me)) == session


def test_amend_details_link_objective_and_discard(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    goal = set_goal(client, athlete_id, me)["goal_id"]
    session_id = start_session(client, athlete_id, me)["session_id"]

    amended = ok(client.patch(f"/sessions/{session_id}",
                              json={"title": "Evening lift", "session_rpe": 8, "notes": "tired",
                                    "max_hr": 171}, headers=me))
    assert (amended["title"], amended["session_rpe"], amended["notes"], amended["max_hr"]) == (
        "Evening lift", 8, "tired", 171)
    linked = ok(client.post(f"/sessions/{session_id}/link", json={"objective_id": goal},
                            headers=me))
    assert (linked["objective_id"], linked["planned_role"]) == (goal, "training")

    discarded = ok(client.post(f"/sessions/{session_id}/discard", json={"reason": "duplicate"},
                               headers=me))
    assert discarded["status"] == "discarded"
    listed = ok(client.get(f"/athletes/{athlete_id}/sessions", headers=me))
    assert listed == []
    listed = ok(client.get(f"/athletes/{athlete_id}/sessions",
                           params={"include_discarded": "true"}, headers=me))
    assert [s["session_id"] for s in listed] == [session_id]
    assert client.post(f"/sessions/{session_id}/discard", json={}, headers=me).status_code == 409
    assert event_names(runtime, session_id) == [
        "Started", "DetailsAmended", "ObjectiveLinked", "Discarded"]


def test_sets_log_amend_remove_are_events(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    session_id = start_session(client, athlete_id, me)["session_id"]
    first = log_set(client, session_id, me, reps=5, load=100, rpe=7.5, set_type="warmup",
                    tempo="3-1-1-0", rest_s=120)
    second = log_set(client, session_id, me, reps=5, load=110, rir=1.5)
    third = log_set(client, session_id, me, exercise_id=BENCH, duration_s=30, reps=None)
    assert (first["rpe"], first["set_type"], first["tempo"], first["rest_s"]) == (
        7.5, "warmup", "3-1-1-0", 120)
    assert (second["rir"], third["reps"], third["duration_s"]) == (1.5, None, 30)

    before = log_position(runtime)
    amended = ok(client.patch(f"/sessions/{session_id}/sets/{second['set_id']}",
                              json={"reps": 4, "load": 225, "load_unit": "lb"}, headers=me))
    changed = next(s for s in amended["sets"] if s["set_id"] == second["set_id"])
    assert (changed["reps"], changed["load_kg"], changed["rir"]) == (4, 102.0583, 1.5)
    assert log_position(runtime) == before + 1

    removed = ok(client.delete(f"/sessions/{session_id}/sets/{first['set_id']}",
                               params={"reason": "logged twice"}, headers=me))
    assert [s["set_id"] for s in removed["sets"]] == [second["set_id"], third["set_id"]]
    assert log_position(runtime) == before + 2
    assert client.delete(f"/sessions/{session_id}/sets/{first['set_id']}",
                         headers=me).status_code == 404

    events = list(runtime.app.events.get(UUID(session_id)))
    assert [type(e).__name__ for e in events] == [
        "Started", "SetLogged", "SetLogged", "SetLogged", "SetAmended", "SetRemoved"]
    assert (events[2].reps, events[2].load_kg) == (5, 110.0)  # the original set is kept
    assert events[5].reason == "logged twice"
    assert ok(client.get(f"/sessions/{session_id}", headers=me)) == removed


def test_amend_set_changes_the_exercise_and_clears_the_load(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    session_id = start_session(client, athlete_id, me)["session_id"]
    logged = log_set(client, session_id, me, reps=10, load=20)
    amended = ok(client.patch(f"/sessions/{session_id}/sets/{logged['set_id']}",
                              json={"exercise_id": "push_up", "load": None}, headers=me))
    assert (amended["sets"][0]["exercise_id"], amended["sets"][0]["load_kg"]) == ("push_up", None)


def test_amending_a_set_to_the_same_values_records_nothing(client: TestClient,
                                                          runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    session_id = start_session(client, athlete_id, me)["session_id"]
    logged = log_set(client, session_id, me, reps=5, load=100)
    before = log_position(runtime)
    ok(client.patch(f"/sessions/{session_id}/sets/{logged['set_id']}",
                    json={"reps": 5, "load": 100}, headers=me))
    assert log_position(runtime) == before


def test_sessions_are_listed_newest_first(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    ids = {days: start_session(client, athlete_id, me, started_at=iso(ago(days=days)))[
        "session_id"] for days in (3, 1, 5, 2)}
    listed = ok(client.get(f"/athletes/{athlete_id}/sessions", headers=me))
    assert [s["session_id"] for s in listed] == [ids[1], ids[2], ids[3], ids[5]]
    page = ok(client.get(f"/athletes/{athlete_id}/sessions", params={"limit": 2, "offset": 1},
                         headers=me))
    assert [s["session_id"] for s in page] == [ids[2], ids[3]]


# ------------------------------------------------------------------ observations


def test_observations_record_list_correct_retract(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, mass_unit="lb")
    me = bearer(token)
    path = f"/athletes/{athlete_id}/observations"
    mass = ok(client.post(path, json={"metric": "body_mass", "value": 176, "unit": "lb",
                                      "observed_at": iso(ago(days=1)), "note": "morning"},
                          headers=me), 201)
    assert (mass["value"], mass["unit"], mass["retracted"]) == (79.8323, "kg", False)
    sleep = ok(client.post(path, json={"metric": "sleep_hours", "value": 7.5, "unit": "h",
                                       "observed_at": iso(ago(hours=2))}, headers=me), 201)
    custom = ok(client.post(path, json={"metric": "deep_work_hours", "value": 3, "unit": "h",
                                        "observed_at": iso(ago(hours=1))}, headers=me), 201)

    assert [o["observation_id"] for o in ok(client.get(path, headers=me))] == [
        custom["observation_id"], sleep["observation_id"], mass["observation_id"]]
    only_mass = ok(client.get(path, params={"metric": "body_mass"}, headers=me))
    assert [o["observation_id"] for o in only_mass] == [mass["observation_id"]]

    mass_id = mass["observation_id"]
    corrected = ok(client.patch(f"/observations/{mass_id}",
                                json={"value": 80, "unit": "kg", "note": "scale fixed"},
                                headers=me))
    assert (corrected["value"], corrected["note"], corrected["version"]) == (80, "scale fixed", 2)
    corrected = ok(client.patch(f"/observations/{mass_id}", json={"value": 175, "unit": "lb"},
                                headers=me))
    assert corrected["value"] == 79.3787
    retracted = ok(client.delete(f"/observations/{mass_id}", params={"reason": "bad scale"},
                                 headers=me))
    assert retracted["retracted"] is True
    assert ok(client.get(f"/observations/{mass_id}", headers=me)) == retracted
    assert client.patch(f"/observations/{mass_id}", json={"value": 80, "unit": "kg"},
                        headers=me).status_code == 409

    events = list(runtime.app.events.get(UUID(mass_id)))
    assert [type(e).__name__ for e in events] == ["Recorded", "Corrected", "Corrected",
                                                 "Retracted"]
    assert (events[0].value, events[0].note) == (79.8323, "morning")


@pytest.mark.parametrize("role", ["admin", "athlete"])
def test_admin_and_athlete_write_the_same_way(client: TestClient, runtime: Runtime,
                                              role: str) -> None:
    athlete_id, token = new_athlete(client)
    headers = ADMIN if role == "admin" else bearer(token)
    session_id = start_session(client, athlete_id, headers)["session_id"]
    log_set(client, session_id, headers)
    sources = [e.source for e in runtime.app.events.get(UUID(session_id))]
    assert [s["kind"] for s in sources] == [role, role]
    if role == "athlete":
        assert all(s["principal_id"] == athlete_id for s in sources)
