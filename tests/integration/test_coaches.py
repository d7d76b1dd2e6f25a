"""Coaches who coach: planning rights granted and taken back by the athlete, the roster, and
comments on sessions and weeks."""

from __future__ import annotations

from typing import Any

from conftest import ADMIN, bearer
from fastapi.testclient import TestClient
from support_views import Athlete, squat


def new_coach(client: TestClient, name: str = "Coach K") -> tuple[str, dict[str, str]]:
    r = client.post("/coaches", json={"name": name}, headers=ADMIN)
    assert r.status_code == 201, r.text
    return r.json()["coach"]["coach_id"], bearer(r.json()["token"])


def status(client: TestClient, method: str, path: str, headers: dict[str, str],
           body: dict[str, Any] | None = None) -> int:
    return client.request(method, path, json=body, headers=headers).status_code


def test_a_coach_plans_only_while_the_athlete_grants_it(client: TestClient) -> None:
    a = Athlete(client, name="Ann")
    coach_id, coach = new_coach(client)
    goal = {"title": "Squat 150", "metric": {"kind": "e1rm", "exercise_id": "squat.back_squats"},
            "target_value": 150, "unit": "kg"}
    plans = f"/athletes/{a.id}/plans"
    a.post(f"/athletes/{a.id}/grants", {"coach_id": coach_id})
    assert status(client, "POST", plans, coach, {"week_start": a.week(1).isoformat()}) == 403

    granted = a.post(f"/athletes/{a.id}/grants/{coach_id}/planning", {})
    assert granted["planner_ids"] == [coach_id]
    r = client.post(f"/athletes/{a.id}/goals", json=goal, headers=coach)
    assert r.status_code == 201, r.text
    goal_id = r.json()["goal_id"]
    r = client.post(plans, json={"week_start": a.week(1).isoformat(),
                                 "objective_ids": [goal_id]}, headers=coach)
    assert r.status_code == 201, r.text
    volume = next(s for s in r.json()["sessions"] if s["role"] == "volume")
    r = client.post(f"{plans}/{a.week(1)}/sessions/{volume['planned_session_id']}/convert",
                    json={"objective_id": goal_id, "force": True,
                          "reason": "coach: the athlete recovers well"}, headers=coach)
    assert r.status_code == 200, r.text
    events = a.post(f"/athletes/{a.id}/events", {}, method="GET")["events"]
    by_coach = [e["type"] for e in events if e["source"].get("principal_id") == coach_id]
    assert by_coach == ["Set", "Planned", "VolumeSessionConverted"]
    # a coach still writes nothing else
    assert status(client, "POST", f"/athletes/{a.id}/sessions", coach,
                  {"started_at": a.at(a.today(), 6).isoformat()}) == 403

    [entry] = client.get(f"/coaches/{coach_id}/athletes", headers=coach).json()
    assert entry == {"athlete_id": a.id, "name": "Ann", "can_plan": True}

    a.post(f"/athletes/{a.id}/grants/{coach_id}/planning", {}, method="DELETE")
    assert status(client, "POST", plans, coach, {"week_start": a.week(2).isoformat()}) == 403
    assert status(client, "PATCH", f"/goals/{goal_id}", coach, {"title": "x"}) == 403
    assert status(client, "GET", f"{plans}/{a.week(1)}", coach) == 200  # reading stays
    assert client.get(f"/coaches/{coach_id}/athletes", headers=coach).json()[0][
        "can_plan"] is False

    # planning needs read access, and goes with it
    a.post(f"/athletes/{a.id}/grants/{coach_id}/planning", {})
    a.post(f"/athletes/{a.id}/grants/{coach_id}", {}, method="DELETE")
    assert status(client, "POST", f"/athletes/{a.id}/grants/{coach_id}/planning", a.me) == 409
    assert client.get(f"/coaches/{coach_id}/athletes", headers=coach).json() == []


def test_a_coach_comments_on_a_session_and_on_the_week(client: TestClient) -> None:
    a = Athlete(client)
    coach_id, coach = new_coach(client)
    a.post(f"/athletes/{a.id}/grants", {"coach_id": coach_id})
    session = a.session(a.at(a.today(), 6), [squat(100)])
    plan = a.plan(a.week())

    r = client.post(f"/sessions/{session['session_id']}/comments",
                    json={"text": "Depth was good"}, headers=coach)
    assert r.status_code == 201, r.text
    [comment] = r.json()["comments"]
    assert comment["text"] == "Depth was good"
    assert comment["by"] == {"kind": "coach", "principal_id": coach_id}
    r = client.post(f"/athletes/{a.id}/plans/{plan['week_start']}/comments",
                    json={"text": "Keep Saturday easy"}, headers=coach)
    assert r.status_code == 201, r.text
    a.post(f"/athletes/{a.id}/plans/{plan['week_start']}/comments", {"text": "Will do"})
    week = a.post(f"/athletes/{a.id}/plans/{plan['week_start']}", {}, method="GET")
    assert [c["text"] for c in week["comments"]] == ["Keep Saturday easy", "Will do"]

    _, stranger = new_coach(client, "S")
    assert status(client, "POST", f"/sessions/{session['session_id']}/comments", stranger,
                  {"text": "hi"}) == 404
    assert status(client, "POST", f"/sessions/{session['session_id']}/comments", coach,
                  {"text": ""}) == 422
