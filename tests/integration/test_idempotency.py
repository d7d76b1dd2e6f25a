"""Idempotency-Key: a retried write is applied once; a reused key for another request is 422."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from services.runtime import Runtime

SQUAT = "squat.back_squats"




def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0).isoformat()


MONDAY = "2026-11-16"
STARTED = ago(hours=2)


def keyed(headers: dict[str, str], key: str) -> dict[str, str]:
    return {**headers, "Idempotency-Key": key}


def log_position(runtime: Runtime) -> int:
    return runtime.app.recorder.max_notification_id() or 0


def event_names(runtime: Runtime, aggregate_id: str) -> list[str]:
    return [type(e).__name__ for e in runtime.app.events.get(UUID(aggregate_id))]


@dataclass
class Athlete:
    athlete_id: str
    me: dict[str, str]
    session_id: str
    set_id: str


@pytest.fixture
def athlete(client: TestClient) -> Athlete:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    session = client.post(f"/athletes/{athlete_id}/sessions", json={"started_at": STARTED},
                          headers=me).json()
    logged = client.post(f"/sessions/{session['session_id']}/sets",
                         json={"exercise_id": SQUAT, "reps": 5, "load": 100}, headers=me).json()
    return Athlete(athlete_id, me, session["session_id"], logged["set"]["set_id"])


def send_twice(client: TestClient, runtime: Runtime, method: str, path: str,
               body: dict[str, Any] | None, headers: dict[str, str],
               key: str = "key-1") -> tuple[httpx.Response, httpx.Response, int]:
    """Send a request and its retry; returns both responses and how many events were written."""
    before = log_position(runtime)
    first = client.request(method, path, json=body, headers=keyed(headers, key))
    assert first.status_code < 300, first.text
    written = log_position(runtime) - before
    retry = client.request(method, path, json=body, headers=keyed(headers, key))
    assert retry.status_code == first.status_code, retry.text
    assert log_position(runtime) - before == written, "the retry wrote again"
    return first, retry, written


# ------------------------------------------------------------------ creates


def test_log_set_retry_returns_the_same_set(client: TestClient, runtime: Runtime,
                                            athlete: Athlete) -> None:
    body = {"exercise_id": SQUAT, "reps": 3, "load": 120}
    first, retry, written = send_twice(client, runtime, "POST",
                                       f"/sessions/{athlete.session_id}/sets", body, athlete.me)
    assert written == 1
    assert retry.json() == first.json()
    session = client.get(f"/sessions/{athlete.session_id}", headers=athlete.me).json()
    assert [s["set_id"] for s in session["sets"]] == [athlete.set_id, first.json()["set"]["set_id"]]
    assert event_names(runtime, athlete.session_id) == ["Started", "SetLogged", "SetLogged"]


def test_start_session_retry(client: TestClient, runtime: Runtime, athlete: Athlete) -> None:
    body = {"started_at": ago(hours=3), "title": "Retried",
            "sets": [{"exercise_id": SQUAT, "reps": 5}], "end": {"session_rpe": 6}}
    first, retry, written = send_twice(client, runtime, "POST",
                                       f"/athletes/{athlete.athlete_id}/sessions", body,
                                       athlete.me)
    assert written == 3  # started, one set, ended
    assert retry.json() == first.json()
    listed = client.get(f"/athletes/{athlete.athlete_id}/sessions", headers=athlete.me).json()
    assert [s["title"] for s in listed].count("Retried") == 1


def test_create_goal_retry(client: TestClient, runtime: Runtime, athlete: Athlete) -> None:
    body = {"title": "Squat 140", "metric": {"kind": "e1rm", "exercise_id": SQUAT},
            "target_value": 140}
    first, retry, written = send_twice(client, runtime, "POST",
                                       f"/athletes/{athlete.athlete_id}/goals", body, athlete.me)
    assert written == 1
    assert retry.json()["goal_id"] == first.json()["goal_id"]
    goals = client.get(f"/athletes/{athlete.athlete_id}/goals", headers=athlete.me).json()
    assert [g["goal_id"] for g in goals] == [first.json()["goal_id"]]


def test_record_observation_retry(client: TestClient, runtime: Runtime,
                                  athlete: Athlete) -> None:
    body = {"metric": "body_mass", "value": 176, "unit": "lb", "observed_at": ago(hours=1)}
    first, retry, written = send_twice(client, runtime, "POST",
                                       f"/athletes/{athlete.athlete_id}/observations", body,
                                       athlete.me)
    assert written == 1
    assert retry.json() == first.json()
    listed = client.get(f"/athletes/{athlete.athlete_id}/observations",
                        headers=athlete.me).json()
    assert [o["observation_id"] for o in listed] == [first.json()["observation_id"]]


def test_plan_week_retry_is_not_a_conflict(client: TestClient, runtime: Runtime,
                                           athlete: Athlete) -> None:
    path = f"/athletes/{athlete.athlete_id}/plans"
    first, retry, written = send_twice(client, runtime, "POST", path,
                                       {"week_start": MONDAY}, athlete.me)
    assert written == 1
    assert first.status_code == 201
    assert retry.json() == first.json()
    # without the key, planning the week again is a conflict
    assert client.post(path, json={"week_start": MONDAY}, headers=athlete.me).status_code == 409


def test_create_athlete_retry_same_athlete_new_token(client: TestClient,
                                                     runtime: Runtime) -> None:
    first, retry, written = send_twice(client, runtime, "POST", "/athletes",
                                       {"name": "Retried", "timezone": "Europe/Oslo"}, ADMIN)
    assert written == 1
    athlete_id = first.json()["athlete"]["athlete_id"]
    assert retry.json()["athlete"]["athlete_id"] == athlete_id
    tokens = [first.json()["token"], retry.json()["token"]]
    assert tokens[0] != tokens[1]  # tokens are never stored, so a retry issues a new one...
    assert client.get("/me", headers=bearer(tokens[1])).json()["principal_id"] == athlete_id
    assert client.get("/me", headers=bearer(tokens[0])).status_code == 401  # ...replacing it
    names = [a["profile"]["name"] for a in client.get("/athletes", headers=ADMIN).json()]
    assert names.count("Retried") == 1


# ------------------------------------------------------------------ changes


def test_amend_set_is_applied_once(client: TestClient, runtime: Runtime,
                                   athlete: Athlete) -> None:
    path = f"/sessions/{athlete.session_id}/sets/{athlete.set_id}"
    first = client.patch(path, json={"reps": 6}, headers=keyed(athlete.me, "amend"))
    assert first.status_code == 200, first.text
    client.patch(path, json={"reps": 7}, headers=athlete.me)  # a later, different correction
    retry = client.patch(path, json={"reps": 6}, headers=keyed(athlete.me, "amend"))
    assert retry.status_code == 200, retry.text
    assert retry.json()["sets"][0]["reps"] == 7  # the retry did not undo the later correction
    assert event_names(runtime, athlete.session_id) == [
        "Started", "SetLogged", "SetAmended", "SetAmended"]


def _later_session(client: TestClient, a: Athlete) -> str:
    r = client.post(f"/athletes/{a.athlete_id}/sessions", json={"started_at": ago(hours=1)},
                    headers=a.me)
    return str(r.json()["session_id"])


def _goal(client: TestClient, a: Athlete) -> str:
    r = client.post(f"/athletes/{a.athlete_id}/goals", json={
        "title": "g", "metric": {"kind": "body_mass"}, "target_value": 70}, headers=a.me)
    return str(r.json()["goal_id"])


def _observation(client: TestClient, a: Athlete) -> str:
    r = client.post(f"/athletes/{a.athlete_id}/observations", json={
        "metric": "sleep_hours", "value": 7, "unit": "h", "observed_at": ago(hours=1)},
        headers=a.me)
    return str(r.json()["observation_id"])


def _planned(client: TestClient, a: Athlete, slot: int | None = None, action: str = "") -> str:
    """Plan the week (default template); the path of its sessions, or of ``action`` on one."""
    plan = client.post(f"/athletes/{a.athlete_id}/plans", json={"week_start": MONDAY},
                       headers=a.me).json()
    path = f"/athletes/{a.athlete_id}/plans/{MONDAY}/sessions"
    if slot is None:
        return path
    return f"{path}/{plan['sessions'][slot]['planned_session_id']}/{action}"


def _coach(client: TestClient, a: Athlete, granted: bool) -> str:
    coach_id = str(client.post("/coaches", json={"name": "C"}, headers=ADMIN).json()["coach"][
        "coach_id"])
    if granted:
        client.post(f"/athletes/{a.athlete_id}/grants", json={"coach_id": coach_id},
                    headers=a.me)
    return coach_id


Request = tuple[str, str, dict[str, Any] | None]
CHANGES: dict[str, Callable[[TestClient, Athlete], Request]] = {
    "end-session": lambda c, a: ("POST", f"/sessions/{a.session_id}/end", {"session_rpe": 7}),
    "discard-session": lambda c, a: ("POST", f"/sessions/{a.session_id}/discard", {}),
    "amend-session": lambda c, a: ("PATCH", f"/sessions/{a.session_id}", {"notes": "x"}),
    "link-session": lambda c, a: ("POST", f"/sessions/{a.session_id}/link",
                                  {"objective_id": _goal(c, a)}),
    "remove-set": lambda c, a: ("DELETE", f"/sessions/{a.session_id}/sets/{a.set_id}", None),
    "log-set-on-another-session": lambda c, a: (
        "POST", f"/sessions/{_later_session(c, a)}/sets", {"exercise_id": SQUAT, "reps": 1}),
    "revise-goal": lambda c, a: ("PATCH", f"/goals/{_goal(c, a)}", {"target_value": 65}),
    "achieve-goal": lambda c, a: ("POST", f"/goals/{_goal(c, a)}/achieve", {}),
    "abandon-goal": lambda c, a: ("POST", f"/goals/{_goal(c, a)}/abandon", {}),
    "correct-observation": lambda c, a: ("PATCH", f"/observations/{_observation(c, a)}",
                                         {"value": 8, "unit": "h"}),
    "retract-observation": lambda c, a: ("DELETE", f"/observations/{_observation(c, a)}", None),
    "add-planned-session": lambda c, a: ("POST", _planned(c, a), {"role": "volume"}),
    "cancel-planned-session": lambda c, a: ("POST", _planned(c, a, 0, "cancel"), {}),
    "convert-volume-session": lambda c, a: ("POST", _planned(c, a, 3, "convert"), {
        "objective_id": _goal(c, a), "force": True, "reason": "a retried conversion"}),
    "update-profile": lambda c, a: ("PATCH", f"/athletes/{a.athlete_id}/profile",
                                    {"body_mass": 81}),
    "change-settings": lambda c, a: ("PATCH", f"/athletes/{a.athlete_id}/settings",
                                     {"atl_days": 9}),
    "grant-coach": lambda c, a: ("POST", f"/athletes/{a.athlete_id}/grants",
                                 {"coach_id": _coach(c, a, granted=False)}),
    "revoke-grant": lambda c, a: (
        "DELETE", f"/athletes/{a.athlete_id}/grants/{_coach(c, a, granted=True)}", None),
    "define-exercise": lambda c, a: ("POST", f"/athletes/{a.athlete_id}/exercises",
                                     {"name": "Zercher", "category": "squat"}),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_retried_change_succeeds_again_and_writes_once(client: TestClient, runtime: Runtime,
                                                       athlete: Athlete, change: str) -> None:
    """A retry answers like the first request, even when repeating it would be a conflict."""
    method, path, body = CHANGES[change](client, athlete)
    first, retry, written = send_twice(client, runtime, method, path, body, athlete.me)
    assert written == 1
    assert retry.json() == first.json()


def test_retry_of_a_set_removed_since_is_a_conflict(client: TestClient, runtime: Runtime,
                                                    athlete: Athlete) -> None:
    path = f"/sessions/{athlete.session_id}/sets"
    body = {"exercise_id": SQUAT, "reps": 2}
    set_id = client.post(path, json=body, headers=keyed(athlete.me, "k")).json()["set"]["set_id"]
    client.delete(f"{path}/{set_id}", headers=athlete.me)
    before = log_position(runtime)
    retry = client.post(path, json=body, headers=keyed(athlete.me, "k"))
    assert retry.status_code == 409, retry.text
    assert "removed" in retry.json()["detail"]
    assert log_position(runtime) == before


# ------------------------------------------------------------------ key reuse and scope


Reuse = tuple[str, str, dict[str, Any] | None, str, dict[str, Any] | None]
_GOAL = {"title": "g", "metric": {"kind": "body_mass"}, "target_value": 70}
_OBS = {"metric": "sleep_hours", "value": 7, "unit": "h", "observed_at": ago(hours=1)}
#: a first request, then another one (path and body) sent with the same key
REUSES: dict[str, Callable[[Athlete], Reuse]] = {
    "log-set": lambda a: ("POST", f"/sessions/{a.session_id}/sets",
                          {"exercise_id": SQUAT, "reps": 5},
                          f"/sessions/{a.session_id}/sets", {"exercise_id": SQUAT, "reps": 6}),
    "start-session": lambda a: ("POST", f"/athletes/{a.athlete_id}/sessions",
                                {"started_at": ago(hours=1)},
                                f"/athletes/{a.athlete_id}/sessions", {"started_at": STARTED}),
    "create-goal": lambda a: ("POST", f"/athletes/{a.athlete_id}/goals", _GOAL,
                              f"/athletes/{a.athlete_id}/goals", {**_GOAL, "target_value": 60}),
    "record-observation": lambda a: ("POST", f"/athletes/{a.athlete_id}/observations", _OBS,
                                     f"/athletes/{a.athlete_id}/observations",
                                     {**_OBS, "value": 8}),
    "plan-week": lambda a: ("POST", f"/athletes/{a.athlete_id}/plans", {"week_start": MONDAY},
                            f"/athletes/{a.athlete_id}/plans",
                            {"week_start": MONDAY, "sessions": [{"role": "volume"}]}),
    "amend-set": lambda a: ("PATCH", f"/sessions/{a.session_id}/sets/{a.set_id}", {"reps": 6},
                            f"/sessions/{a.session_id}/sets/{a.set_id}", {"reps": 4}),
    "create-athlete": lambda a: ("POST", "/athletes", {"name": "One"}, "/athletes",
                                 {"name": "Two"}),
    "remove-set-with-another-reason": lambda a: (
        "DELETE", f"/sessions/{a.session_id}/sets/{a.set_id}?reason=typo", None,
        f"/sessions/{a.session_id}/sets/{a.set_id}?reason=duplicate", None),
}


@pytest.mark.parametrize("case", list(REUSES))
def test_same_key_with_a_different_request_is_422(client: TestClient, runtime: Runtime,
                                                  athlete: Athlete, case: str) -> None:
    method, path, body, other_path, other_body = REUSES[case](athlete)
    headers = keyed(ADMIN if path == "/athletes" else athlete.me, "reused")
    first = client.request(method, path, json=body, headers=headers)
    assert first.status_code < 300, first.text
    before = log_position(runtime)
    second = client.request(method, other_path, json=other_body, headers=headers)
    assert second.status_code == 422, second.text
    assert second.json()["errors"] == [{
        "field": "Idempotency-Key",
        "message": "Idempotency-Key was already used for a different request"}]
    assert log_position(runtime) == before


def test_the_same_key_from_two_athletes_is_independent(client: TestClient,
                                                       runtime: Runtime) -> None:
    ids, sessions = [], []
    for name in ("A", "B"):
        athlete_id, token = new_athlete(client, name)
        started = client.post(f"/athletes/{athlete_id}/sessions", json={"started_at": STARTED},
                              headers=keyed(bearer(token), "shared-key"))
        assert started.status_code == 201, started.text
        sessions.append(started.json()["session_id"])
        logged = client.post(f"/sessions/{sessions[-1]}/sets",
                             json={"exercise_id": SQUAT, "reps": 5},
                             headers=keyed(bearer(token), "another-shared-key"))
        assert logged.status_code == 201, logged.text
        ids.append(athlete_id)
    assert sessions[0] != sessions[1]
    for athlete_id, session_id in zip(ids, sessions, strict=True):
        assert runtime.app.session(session_id).athlete_id == athlete_id
        assert event_names(runtime, session_id) == ["Started", "SetLogged"]


@pytest.mark.parametrize(("key", "status"), [
    pytest.param("k" * 201, 400, id="201-chars"),
    pytest.param("", 400, id="empty"),
    pytest.param("k" * 200, 201, id="200-chars"),
    pytest.param("cl\u00e9-\u00e9t\u00e9".encode("latin-1"), 201, id="latin-1"),
])
def test_key_length(client: TestClient, runtime: Runtime, athlete: Athlete, key: str | bytes,
                    status: int) -> None:
    before = log_position(runtime)
    response = client.post(f"/sessions/{athlete.session_id}/sets",
                           json={"exercise_id": SQUAT, "reps": 5},
                           headers={**athlete.me, "Idempotency-Key": key})
    assert response.status_code == status, response.text
    if status == 400:
        assert "Idempotency-Key" in response.json()["detail"]
        assert log_position(runtime) == before
