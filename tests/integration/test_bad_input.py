"""Bad input is refused with a reason naming the field, nothing is written, and never a 500."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.runtime import Runtime

SQUAT = "squat.back_squats"
MIB = 1024 * 1024
UNKNOWN = str(uuid.uuid4())


def ago(**delta: float) -> datetime:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0)


TOMORROW = (datetime.now(UTC) + timedelta(days=1)).isoformat()


def log_position(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def token_count(runtime: Runtime) -> int:
    rows = runtime.tables.query(f"SELECT COUNT(*) AS n FROM {runtime.tables.name('tl_tokens')}")
    return int(rows[0]["n"])


def fields_of(response: httpx.Response) -> list[str]:
    return [e["field"] for e in response.json().get("errors", [])]




@pytest.fixture(autouse=True)
def no_server_errors(client: TestClient) -> Iterator[None]:
    """Every response of every test in this module is checked: a 5xx fails the test."""
    seen: list[tuple[str, int]] = []

    def hook(response: httpx.Response) -> None:
        seen.append((f"{response.request.method} {response.request.url.path}",
                     response.status_code))

    client.event_hooks["response"].append(hook)
    yield
    client.event_hooks["response"].remove(hook)
    assert [s for s in seen if s[1] >= 500] == []


@dataclass
class World:
    """One athlete with an open session (one set), an ended and a discarded session, a goal and
    an observation."""

    athlete_id: str
    me: dict[str, str]
    started_at: datetime
    session_id: str
    set_id: str
    ended_id: str
    discarded_id: str
    goal_id: str
    observation_id: str


@pytest.fixture(scope="module")
def world(client: TestClient) -> World:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    started = ago(hours=2)

    def session(**extra: Any) -> dict[str, Any]:
        r = client.post(f"/athletes/{athlete_id}/sessions",
                        json={"started_at": started.isoformat(), **extra}, headers=me)
        assert r.status_code == 201, r.text
        return dict(r.json())

    open_session = session()
    r = client.post(f"/sessions/{open_session['session_id']}/sets",
                    json={"exercise_id": SQUAT, "reps": 5, "load": 100, "rpe": 8}, headers=me)
    assert r.status_code == 201, r.text
    set_id = r.json()["set"]["set_id"]
    ended = session(end={"ended_at": (started + timedelta(hours=1)).isoformat()})
    discarded = session()
    assert client.post(f"/sessions/{discarded['session_id']}/discard", json={},
                       headers=me).status_code == 200
    goal = client.post(f"/athletes/{athlete_id}/goals", json={
        "title": "Squat 140", "metric": {"kind": "e1rm", "exercise_id": SQUAT},
        "target_value": 140}, headers=me)
    observation = client.post(f"/athletes/{athlete_id}/observations", json={
        "metric": "body_mass", "value": 80, "unit": "kg", "observed_at": started.isoformat()},
        headers=me)
    return World(athlete_id, me, started, open_session["session_id"], set_id,
                 ended["session_id"], discarded["session_id"], goal.json()["goal_id"],
                 observation.json()["observation_id"])


def refused(client: TestClient, runtime: Runtime, method: str, path: str, status: int,
            field: str | None = None, detail: str | None = None, **kwargs: Any) -> httpx.Response:
    """Send a request that must be refused with ``status`` and must write nothing."""
    before = (log_position(runtime), token_count(runtime))
    response = client.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    if field is not None:
        assert field in fields_of(response), response.text
        assert field in response.json()["detail"]
    if detail is not None:
        assert detail in response.text
    assert (log_position(runtime), token_count(runtime)) == before, "something was written"
    return response


# ------------------------------------------------------------------ sets

SET_CASES = [
    pytest.param({"reps": -1}, "reps", id="reps-negative"),
    pytest.param({"reps": 1001}, "reps", id="reps-over-1000"),
    pytest.param({"reps": 2.5}, "reps", id="reps-fraction"),
    pytest.param({"reps": "five"}, "reps", id="reps-string"),
    pytest.param({"reps": True}, "reps", id="reps-boolean"),
    pytest.param({"reps": [5]}, "reps", id="reps-list"),
    pytest.param({"reps": None}, "reps", id="neither-reps-nor-duration"),
    pytest.param({"load": -2.5}, "load", id="load-negative"),
    pytest.param({"load": 1001}, "load", id="load-1001kg"),
    pytest.param({"load": 2300, "load_unit": "lb"}, "load", id="load-2300lb"),
    pytest.param({"load": 100, "load_unit": "stone"}, "load_unit", id="unit-stone"),
    pytest.param({"load": "heavy"}, "load", id="load-string"),
    pytest.param({"rpe": 0.5}, "rpe", id="rpe-0.5"),
    pytest.param({"rpe": 10.5}, "rpe", id="rpe-10.5"),
    pytest.param({"rpe": 8.3}, "rpe", id="rpe-not-half-step"),
    pytest.param({"rir": -1}, "rir", id="rir-negative"),
    pytest.param({"rir": 10.5}, "rir", id="rir-over-10"),
    pytest.param({"rir": 1.2}, "rir", id="rir-not-half-step"),
    pytest.param({"rpe": 8, "rir": 2}, "rir", id="rpe-and-rir"),
    pytest.param({"set_type": "heavy"}, "set_type", id="set-type"),
    pytest.param({"tempo": "slowly"}, "tempo", id="tempo"),
    pytest.param({"rest_s": -30}, "rest_s", id="rest-negative"),
    pytest.param({"duration_s": 1e9}, "duration_s", id="duration-absurd"),
    pytest.param({"exercise_id": "squat.moon_squats"}, "exercise_id", id="exercise-unknown"),
    pytest.param({"exercise_id": "custom:" + "0" * 32}, "exercise_id", id="exercise-not-defined"),
    pytest.param({"exercise_id": 17}, "exercise_id", id="exercise-number"),
    pytest.param({"performed_at": TOMORROW}, "performed_at", id="performed-tomorrow"),
    pytest.param({"performed_at": "last tuesday"}, "performed_at", id="performed-not-a-time"),
    pytest.param({"colour": "red"}, "colour", id="extra-field"),
]


@pytest.mark.parametrize(("patch", "field"), SET_CASES)
def test_log_set_refuses(client: TestClient, runtime: Runtime, world: World,
                         patch: dict[str, Any], field: str) -> None:
    body = {"exercise_id": SQUAT, "reps": 5, **patch}
    refused(client, runtime, "POST", f"/sessions/{world.session_id}/sets", 422, field,
            json=body, headers=world.me)


def test_set_before_the_session_started(client: TestClient, runtime: Runtime,
                                        world: World) -> None:
    early = (world.started_at - timedelta(minutes=1)).isoformat()
    refused(client, runtime, "POST", f"/sessions/{world.session_id}/sets", 422, "performed_at",
            json={"exercise_id": SQUAT, "reps": 5, "performed_at": early}, headers=world.me)


def test_no_sets_on_a_discarded_session(client: TestClient, runtime: Runtime,
                                        world: World) -> None:
    response = refused(client, runtime, "POST", f"/sessions/{world.discarded_id}/sets", 409,
                       json={"exercise_id": SQUAT, "reps": 5}, headers=world.me)
    assert fields_of(response) == ["session"]
    assert "discarded" in response.json()["detail"]


def test_no_set_after_the_end_of_an_ended_session(client: TestClient, runtime: Runtime,
                                                  world: World) -> None:
    # an ended session takes a forgotten set, at its end by default, but not one after it
    now = datetime.now(UTC).isoformat()
    refused(client, runtime, "POST", f"/sessions/{world.ended_id}/sets", 422, "performed_at",
            "after the session ended",
            json={"exercise_id": SQUAT, "reps": 5, "performed_at": now}, headers=world.me)


AMEND_CASES = [
    pytest.param({"reps": 1001}, "reps", id="reps"),
    pytest.param({"reps": None}, "reps", id="reps-removed-without-duration"),
    pytest.param({"rpe": 8.3}, "rpe", id="rpe"),
    pytest.param({"rir": 2}, "rir", id="rir-on-a-set-with-rpe"),
    pytest.param({"load": 2300, "load_unit": "lb"}, "load", id="load-lb"),
    pytest.param({"load": 10, "load_unit": "stone"}, "load_unit", id="unit"),
    pytest.param({"exercise_id": "squat.moon_squats"}, "exercise_id", id="exercise"),
    pytest.param({"exercise_id": None}, "exercise_id", id="exercise-null"),
    pytest.param({"set_type": None}, "set_type", id="set-type-null"),
    pytest.param({"performed_at": TOMORROW}, "performed_at", id="time-not-amendable"),
]


@pytest.mark.parametrize(("patch", "field"), AMEND_CASES)
def test_amend_set_refuses(client: TestClient, runtime: Runtime, world: World,
                           patch: dict[str, Any], field: str) -> None:
    refused(client, runtime, "PATCH", f"/sessions/{world.session_id}/sets/{world.set_id}", 422,
            field, json=patch, headers=world.me)


# ------------------------------------------------------------------ sessions

SESSION_CASES = [
    pytest.param({"started_at": TOMORROW}, "started_at", id="started-tomorrow"),
    pytest.param({"started_at": None}, "started_at", id="started-missing"),
    pytest.param({"started_at": "soon"}, "started_at", id="started-not-a-time"),
    pytest.param({"planned_role": "tempo"}, "planned_role", id="role"),
    pytest.param({"objective_id": UNKNOWN}, "objective_id", id="objective-unknown"),
    pytest.param({"planned_session_id": UNKNOWN}, "planned_session_id", id="planned-unknown"),
    pytest.param({"title": "x" * 201}, "title", id="title-too-long"),
    pytest.param({"sport": ""}, "sport", id="sport-empty"),
    pytest.param({"end": {"session_rpe": 11}}, "session_rpe", id="end-rpe"),
    pytest.param({"end": {"ended_at": "2000-01-01T00:00:00Z"}}, "ended_at",
                 id="end-before-start"),
    pytest.param({"end": {"rpe": 7}}, "end.rpe", id="end-extra-field"),
    pytest.param({"sets": {"reps": 5}}, "sets", id="sets-not-a-list"),
    pytest.param({"id": "mine"}, "id", id="extra-field"),
]


@pytest.mark.parametrize(("patch", "field"), SESSION_CASES)
def test_start_session_refuses(client: TestClient, runtime: Runtime, world: World,
                               patch: dict[str, Any], field: str) -> None:
    body = {"started_at": ago(hours=1).isoformat(), **patch}
    refused(client, runtime, "POST", f"/athletes/{world.athlete_id}/sessions", 422, field,
            json={k: v for k, v in body.items() if v is not None}, headers=world.me)


@pytest.mark.parametrize(("bad_set", "field"), [
    pytest.param({"rpe": 11}, "sets[2].rpe", id="domain-rule"),
    pytest.param({"reps": 2.5}, "sets[2].reps", id="schema-type"),
    pytest.param({"exercise_id": "squat.moon_squats"}, "sets[2].exercise_id", id="exercise"),
    pytest.param({"performed_at": TOMORROW}, "sets[2].performed_at", id="future"),
])
def test_past_session_with_an_invalid_third_set_creates_nothing(
        client: TestClient, runtime: Runtime, world: World, bad_set: dict[str, Any],
        field: str) -> None:
    sessions = f"/athletes/{world.athlete_id}/sessions?include_discarded=true"
    existing = client.get(sessions, headers=world.me).json()
    started = ago(days=1)
    sets = [{"exercise_id": SQUAT, "reps": 5}, {"exercise_id": SQUAT, "reps": 5},
            {"exercise_id": SQUAT, "reps": 5, **bad_set}]
    body = {"started_at": started.isoformat(), "title": "never", "sets": sets,
            "end": {"ended_at": (started + timedelta(hours=1)).isoformat(), "session_rpe": 7}}
    refused(client, runtime, "POST", f"/athletes/{world.athlete_id}/sessions", 422, field,
            json=body, headers=world.me)
    assert client.get(sessions, headers=world.me).json() == existing


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"session_rpe": 10.5}, "session_rpe", id="rpe-over-10"),
    pytest.param({"session_rpe": -1}, "session_rpe", id="rpe-negative"),
    pytest.param({"ended_at": TOMORROW}, "ended_at", id="ends-tomorrow"),
    pytest.param({"ended_at": "2000-01-01T00:00:00Z"}, "ended_at", id="ends-before-start"),
    pytest.param({"avg_hr": 400}, "avg_hr", id="avg-hr"),
    pytest.param({"duration_min": -5}, "duration_min", id="duration"),
])
def test_end_session_refuses(client: TestClient, runtime: Runtime, world: World,
                             body: dict[str, Any], field: str) -> None:
    refused(client, runtime, "POST", f"/sessions/{world.session_id}/end", 422, field,
            json=body, headers=world.me)


@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"session_rpe": 11}, "session_rpe", id="rpe"),
    pytest.param({"sport": None}, "sport", id="sport-null"),
    pytest.param({"max_hr": 5}, "max_hr", id="max-hr"),
    pytest.param({"started_at": TOMORROW}, "started_at", id="start-in-the-future"),
])
def test_amend_session_refuses(client: TestClient, runtime: Runtime, world: World,
                               body: dict[str, Any], field: str) -> None:
    refused(client, runtime, "PATCH", f"/sessions/{world.session_id}", 422, field, json=body,
            headers=world.me)


# ------------------------------------------------------------------ observations

@pytest.mark.parametrize(("patch", "field"), [
    pytest.param({"observed_at": TOMORROW}, "observed_at", id="tomorrow"),
    pytest.param({"unit": "stone"}, "unit", id="body-mass-in-stone"),
    pytest.param({"unit": "h"}, "unit", id="body-mass-in-hours"),
    pytest.param({"value": 5}, "value", id="body-mass-5kg"),
    pytest.param({"value": "heavy"}, "value", id="value-string"),
    pytest.param({"metric": "sleep_hours", "unit": "min", "value": 400}, "unit",
                 id="sleep-in-minutes"),
    pytest.param({"metric": "Body Mass"}, "metric", id="metric-name"),
    pytest.param({"metric": "deep_work", "unit": ""}, "unit", id="custom-without-unit"),
    pytest.param({"source": "scale"}, "source", id="extra-field"),
])
def test_record_observation_refuses(client: TestClient, runtime: Runtime, world: World,
                                    patch: dict[str, Any], field: str) -> None:
    body = {"metric": "body_mass", "value": 80, "unit": "kg",
            "observed_at": ago(hours=1).isoformat(), **patch}
    refused(client, runtime, "POST", f"/athletes/{world.athlete_id}/observations", 422, field,
            json=body, headers=world.me)


def test_correct_observation_refuses_a_wrong_unit(client: TestClient, runtime: Runtime,
                                                  world: World) -> None:
    refused(client, runtime, "PATCH", f"/observations/{world.observation_id}", 422, "unit",
            json={"value": 12, "unit": "stone"}, headers=world.me)


# ------------------------------------------------------------------ athletes, goals, plans

@pytest.mark.parametrize(("body", "field"), [
    pytest.param({"name": "Mo", "timezone": "Mars/Olympus"}, "timezone", id="time-zone"),
    pytest.param({"name": "Mo", "timezone": None}, "timezone", id="time-zone-null"),
    pytest.param({"name": ""}, "name", id="name-empty"),
    pytest.param({"timezone": "UTC"}, "name", id="name-missing"),
    pytest.param({"name": "Mo", "body_mass": 1000, "mass_unit": "lb"}, "body_mass",
                 id="body-mass-lb"),
    pytest.param({"name": "Mo", "mass_unit": "stone"}, "mass_unit", id="mass-unit"),
    pytest.param({"name": "Mo", "birth_year": 1800}, "birth_year", id="birth-year"),
    pytest.param({"name": "Mo", "first_day_of_week": "someday"}, "first_day_of_week",
                 id="first-day"),
    pytest.param({"name": "Mo", "token": "mine"}, "token", id="extra-field"),
])
def test_create_athlete_refuses(client: TestClient, runtime: Runtime,
                                body: dict[str, Any], field: str) -> None:
    refused(client, runtime, "POST", "/athletes", 422, field, json=body, headers=ADMIN)


@pytest.mark.parametrize(("path", "body", "field"), [
    pytest.param("profile", {"timezone": "Mars/Olympus"}, "timezone", id="time-zone"),
    pytest.param("profile", {"timezone": None}, "timezone", id="time-zone-null"),
    pytest.param("profile", {"max_hr": 400}, "max_hr", id="max-hr"),
    pytest.param("profile", {"effective_at": "2026-01-01T00:00:00"}, "effective_at",
                 id="effective-without-offset"),
    pytest.param("profile", {}, "profile", id="nothing-to-change"),
    pytest.param("settings", {"atl_days": 0}, "atl_days", id="atl-days"),
    pytest.param("settings", {"atl_days": None}, "atl_days", id="atl-days-null"),
    pytest.param("settings", {"hr_zone_bounds_pct": None}, "hr_zone_bounds_pct",
                 id="zones-null"),
    pytest.param("settings", {"hr_zone_bounds_pct": [90, 50]}, "hr_zone_bounds_pct",
                 id="zones-decreasing"),
    pytest.param("settings", {"fatigue_model": "mine"}, "fatigue_model", id="model"),
])
def test_athlete_changes_refused(client: TestClient, runtime: Runtime, world: World, path: str,
                                 body: dict[str, Any], field: str) -> None:
    refused(client, runtime, "PATCH", f"/athletes/{world.athlete_id}/{path}", 422, field,
            json=body, headers=world.me)


GOALS, PLANS = "/athletes/{athlete}/goals", "/athletes/{athlete}/plans"


@pytest.mark.parametrize(("method", "path", "body", "field"), [
    pytest.param("POST", GOALS, {"title": "x", "metric": {"kind": "e1rm"}, "target_value": 1},
                 "metric.exercise_id", id="e1rm-without-exercise"),
    pytest.param("POST", GOALS, {"title": "x", "target_value": 1, "metric": {
        "kind": "e1rm", "exercise_id": "squat.moon_squats"}}, "exercise_id",
                 id="e1rm-unknown-exercise"),
    pytest.param("POST", GOALS, {"title": "x", "metric": {"kind": "vibes"}, "target_value": 1},
                 "metric.kind", id="metric-kind"),
    pytest.param("POST", GOALS, {"title": " ", "metric": {"kind": "body_mass"},
                                 "target_value": 1}, "title", id="title-blank"),
    pytest.param("POST", GOALS, {"title": "x", "metric": {"kind": "body_mass"},
                                 "target_value": 1, "deadline": "someday"},
                 "deadline", id="deadline"),
    pytest.param("PATCH", "/goals/{goal}", {"target_value": None}, "target_value",
                 id="target-null"),
    pytest.param("PATCH", "/goals/{goal}", {"status": "achieved"}, "status",
                 id="not-revisable"),
    pytest.param("POST", PLANS, {"week_start": "2026-11-18"}, "week_start", id="plan-wednesday"),
    pytest.param("POST", PLANS, {"week_start": "2026-11-16", "sessions": []}, "sessions",
                 id="plan-empty"),
    pytest.param("POST", PLANS, {"week_start": "2026-11-16", "sessions": [
        {"role": "volume", "objective_id": "{goal}"}]}, "sessions[0].objective_id",
                 id="plan-volume-with-objective"),
    pytest.param("POST", PLANS, {"week_start": "2026-11-16", "sessions": [
        {"role": "training", "day": "2026-11-30"}]}, "sessions[0].day", id="plan-day-outside"),
    pytest.param("POST", PLANS, {"week_start": "2026-11-16", "objective_ids": [UNKNOWN]},
                 "sessions[0].objective_id", id="plan-unknown-objective"),
    pytest.param("POST", "/athletes/{athlete}/exercises",
                 {"name": "Zercher", "category": "squat.x"}, "category", id="exercise-category"),
])
def test_goal_plan_exercise_refused(client: TestClient, runtime: Runtime, world: World,
                                    method: str, path: str, body: dict[str, Any],
                                    field: str) -> None:
    ids = {"athlete": world.athlete_id, "goal": world.goal_id}
    body = json.loads(json.dumps(body).replace("{goal}", world.goal_id))
    refused(client, runtime, method, path.format(**ids), 422, field, json=body,
            headers=world.me)


# ------------------------------------------------------------------ malformed and oversized

@pytest.mark.parametrize("raw", [
    pytest.param(b'{"exercise_id": "squat.back_squats", "reps": 5', id="truncated"),
    pytest.param(b"{'reps': 5}", id="single-quotes"),
    pytest.param(b'{"reps": 5,}', id="trailing-comma"),
    pytest.param(b"\xff\xfe", id="not-utf8"),
])
def test_malformed_json_is_400(client: TestClient, runtime: Runtime, world: World,
                               raw: bytes) -> None:
    response = refused(client, runtime, "POST", f"/sessions/{world.session_id}/sets", 400,
                       content=raw, headers={**world.me, "Content-Type": "application/json"})
    assert response.json()["detail"].startswith("malformed JSON")


@pytest.mark.parametrize("body", [
    pytest.param([{"exercise_id": SQUAT, "reps": 5}], id="list"),
    pytest.param("five reps", id="string"),
    pytest.param(5, id="number"),
    pytest.param(None, id="null"),
])
def test_body_of_the_wrong_type_is_422(client: TestClient, runtime: Runtime, world: World,
                                       body: Any) -> None:
    refused(client, runtime, "POST", f"/sessions/{world.session_id}/sets", 422, "body",
            json=body, headers=world.me)


def test_oversized_bodies_are_413(client: TestClient, runtime: Runtime, world: World) -> None:
    big_note = "x" * (MIB + 1)
    requests: list[tuple[str, str, dict[str, Any]]] = [
        ("POST", f"/sessions/{world.session_id}/sets",
         {"exercise_id": SQUAT, "reps": 5, "notes": big_note}),
        ("POST", "/athletes", {"name": big_note}),
        ("POST", f"/athletes/{world.athlete_id}/sessions", {
            "started_at": ago(days=1).isoformat(),
            "sets": [{"exercise_id": SQUAT, "reps": 5, "notes": "n" * 1000}] * 1100}),
    ]
    for method, path, body in requests:
        headers = ADMIN if path == "/athletes" else world.me
        refused(client, runtime, method, path, 413, detail="Too Large", json=body,
                headers=headers)
        # the same with an Idempotency-Key (read by the auth dependency before the route)
        refused(client, runtime, method, path, 413, detail="Too Large", json=body,
                headers={**headers, "Idempotency-Key": "big"})


def test_oversized_chunked_body_is_413(client: TestClient, runtime: Runtime,
                                       world: World) -> None:
    """Without a Content-Length the limit applies while the body streams in."""

    def chunks() -> Iterator[bytes]:
        yield b'{"exercise_id": "squat.back_squats", "reps": 5, "notes": "'
        for _ in range(20):
            yield b"x" * 65536
        yield b'"}'

    refused(client, runtime, "POST", f"/sessions/{world.session_id}/sets", 413,
            detail="Too Large", content=chunks(),
            headers={**world.me, "Content-Type": "application/json"})


def test_a_body_just_under_the_limit_is_accepted(client: TestClient, world: World) -> None:
    started = ago(days=1)
    body = {"started_at": started.isoformat(),
            "sets": [{"exercise_id": SQUAT, "reps": 5, "notes": "n" * 1900}] * 500}
    response = client.post(f"/athletes/{world.athlete_id}/sessions", json=body,
                           headers=world.me)
    assert response.status_code == 201, response.text[:300]
    assert len(response.json()["sets"]) == 500


# ------------------------------------------------------------------ unknown ids

def not_found_cases(w: World) -> list[tuple[str, str, dict[str, Any] | None]]:
    a, s = w.athlete_id, w.session_id
    return [
        ("GET", f"/athletes/{UNKNOWN}", None),
        ("GET", "/athletes/not-a-uuid", None),
        ("GET", f"/athletes/{UNKNOWN}/sessions", None),
        ("GET", f"/athletes/{UNKNOWN}/goals", None),
        ("GET", f"/athletes/{UNKNOWN}/plans", None),
        ("GET", f"/athletes/{UNKNOWN}/observations", None),
        ("GET", f"/athletes/{UNKNOWN}/tokens", None),
        ("GET", f"/sessions/{UNKNOWN}", None),
        ("GET", "/sessions/42", None),
        ("GET", f"/sessions/{w.goal_id}", None),  # a goal's id is not a session's
        ("GET", f"/goals/{UNKNOWN}", None),
        ("GET", f"/observations/{UNKNOWN}", None),
        ("GET", f"/coaches/{UNKNOWN}", None),
        ("GET", f"/coaches/{a}", None),  # an athlete's id is not a coach's
        ("GET", "/exercises/squat.moon_squats", None),
        ("GET", f"/athletes/{a}/plans/2026-11-16", None),
        ("POST", f"/athletes/{UNKNOWN}/sessions", {"started_at": ago(hours=1).isoformat()}),
        ("POST", f"/athletes/{UNKNOWN}/goals", {"title": "x", "target_value": 1,
                                               "metric": {"kind": "body_mass"}}),
        ("POST", f"/athletes/{UNKNOWN}/plans", {"week_start": "2026-11-16"}),
        ("POST", f"/athletes/{UNKNOWN}/observations", {
            "metric": "body_mass", "value": 80, "unit": "kg",
            "observed_at": ago(hours=1).isoformat()}),
        ("POST", f"/athletes/{UNKNOWN}/tokens", {}),
        ("POST", f"/athletes/{UNKNOWN}/exercises", {"name": "x", "category": "squat"}),
        ("PATCH", f"/athletes/{UNKNOWN}/profile", {"name": "x"}),
        ("PATCH", f"/athletes/{UNKNOWN}/settings", {"atl_days": 8}),
        ("POST", f"/athletes/{a}/grants", {"coach_id": UNKNOWN}),
        ("POST", f"/sessions/{UNKNOWN}/sets", {"exercise_id": SQUAT, "reps": 5}),
        ("PATCH", f"/sessions/{s}/sets/{UNKNOWN}", {"reps": 4}),
        ("DELETE", f"/sessions/{s}/sets/{UNKNOWN}", None),
        ("PATCH", f"/sessions/{UNKNOWN}", {"notes": "x"}),
        ("POST", f"/sessions/{UNKNOWN}/end", {}),
        ("POST", f"/sessions/{UNKNOWN}/discard", {}),
        ("POST", f"/sessions/{UNKNOWN}/link", {}),
        ("PATCH", f"/goals/{UNKNOWN}", {"title": "x"}),
        ("POST", f"/goals/{UNKNOWN}/achieve", {}),
        ("POST", f"/goals/{UNKNOWN}/abandon", {}),
        ("PATCH", f"/observations/{UNKNOWN}", {"value": 80, "unit": "kg"}),
        ("DELETE", f"/observations/{UNKNOWN}", None),
        ("POST", f"/athletes/{a}/plans/2026-11-16/sessions", {"role": "volume"}),
        ("POST", f"/athletes/{a}/plans/2026-11-16/sessions/{UNKNOWN}/cancel", {}),
        ("POST", f"/athletes/{a}/plans/2026-11-16/sessions/{UNKNOWN}/convert", {}),
        ("DELETE", f"/tokens/{UNKNOWN}", None),
        ("POST", f"/coaches/{UNKNOWN}/tokens", {}),
    ]


@pytest.mark.parametrize("as_admin", [False, True], ids=["athlete", "admin"])
def test_unknown_ids_are_404(client: TestClient, runtime: Runtime, world: World,
                             as_admin: bool) -> None:
    headers = ADMIN if as_admin else world.me
    for method, path, body in not_found_cases(world):
        before = log_position(runtime), token_count(runtime)
        response = client.request(method, path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
        assert "no such" in response.json()["detail"], (method, path, response.text)
        assert (log_position(runtime), token_count(runtime)) == before, (method, path)


def test_unknown_planned_session_in_an_existing_plan(client: TestClient, runtime: Runtime,
                                                     world: World) -> None:
    plans = f"/athletes/{world.athlete_id}/plans"
    assert client.post(plans, json={"week_start": "2026-11-09"},
                       headers=world.me).status_code == 201
    for action in ("cancel", "convert"):
        response = refused(client, runtime, "POST",
                           f"{plans}/2026-11-09/sessions/{UNKNOWN}/{action}", 404,
                           json={}, headers=world.me)
        assert fields_of(response) == ["planned_session_id"]
