"""The rules of a goal (objective): its deadline, its metric's name, and correcting its
metric while it has no values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from support_views import Athlete

from services.runtime import Runtime

RULE = "a lower-case letter, then up to 62 lower-case letters, digits or _"


def custom_goal(name: str, **fields: Any) -> dict[str, Any]:
    return {"title": f"Improve {name}", "metric": {"kind": "custom", "name": name},
            "target_value": 20, "unit": "min", "direction": "decrease", **fields}


def refused(client: TestClient, runtime: Runtime, method: str, path: str, body: dict[str, Any],
            headers: dict[str, str], status: int = 422) -> dict[str, Any]:
    """A refused write: the status, a reason naming the field, nothing recorded."""
    before = runtime.app.recorder.max_notification_id()
    r = client.request(method, path, json=body, headers=headers)
    assert r.status_code == status, r.text
    assert runtime.app.recorder.max_notification_id() == before
    answer: dict[str, Any] = r.json()
    return answer


def test_a_deadline_already_past_is_refused(client: TestClient, runtime: Runtime) -> None:
    a = Athlete(client)
    yesterday = (a.today() - timedelta(days=1)).isoformat()
    answer = refused(client, runtime, "POST", f"/athletes/{a.id}/goals",
                     custom_goal("time_5k_min", deadline=yesterday), a.me)
    assert answer["errors"][0]["field"] == "deadline"
    assert "already past" in answer["errors"][0]["message"]
    a.post(f"/athletes/{a.id}/goals", custom_goal("time_5k_min", deadline=a.today().isoformat()))


def test_a_deadline_before_the_goal_was_set_is_refused(client: TestClient,
                                                       runtime: Runtime) -> None:
    a = Athlete(client)
    goal = a.post(f"/athletes/{a.id}/goals", custom_goal("time_5k_min"))
    before = (a.today() - timedelta(days=3)).isoformat()
    answer = refused(client, runtime, "PATCH", f"/goals/{goal['goal_id']}",
                     {"deadline": before}, a.me)
    assert answer["errors"][0]["field"] == "deadline"
    assert "before the goal was set" in answer["errors"][0]["message"]


def test_one_rule_for_metric_names_stated_in_the_error(client: TestClient,
                                                       runtime: Runtime) -> None:
    a = Athlete(client)
    goal = refused(client, runtime, "POST", f"/athletes/{a.id}/goals",
                   custom_goal("5k_time_min"), a.me)
    assert goal["errors"][0]["field"] == "metric.name"
    assert RULE in goal["errors"][0]["message"]
    observation = refused(client, runtime, "POST", f"/athletes/{a.id}/observations", {
        "metric": "5k_time_min", "value": 24, "unit": "min",
        "observed_at": a.at(a.today(), 7).isoformat()}, a.me)
    assert observation["errors"][0]["field"] == "metric"
    assert RULE in observation["errors"][0]["message"]


def test_a_goal_metric_is_corrected_while_it_has_no_values(client: TestClient,
                                                           runtime: Runtime) -> None:
    a = Athlete(client)
    goal = a.post(f"/athletes/{a.id}/goals", custom_goal("time_5_km"))
    fixed = a.post(f"/goals/{goal['goal_id']}",
                   {"metric": {"kind": "custom", "name": "time_5k_min"}}, method="PATCH")
    assert fixed["metric"] == {"kind": "custom", "name": "time_5k_min"}
    a.post(f"/athletes/{a.id}/observations", {
        "metric": "time_5k_min", "value": 24, "unit": "min",
        "observed_at": a.at(a.today(), 7).isoformat()})
    [view] = [g for g in a.view("goals")["goals"] if g["goal_id"] == goal["goal_id"]]
    assert view["current_value"] == 24

    answer = refused(client, runtime, "PATCH", f"/goals/{goal['goal_id']}",
                     {"metric": {"kind": "custom", "name": "run_5k_min"}}, a.me, 409)
    assert answer["errors"][0]["field"] == "metric"
    assert "no values" in answer["errors"][0]["message"]
    bad = refused(client, runtime, "PATCH", f"/goals/{goal['goal_id']}",
                  {"metric": {"kind": "custom", "name": "Run"}}, a.me)
    assert RULE in bad["errors"][0]["message"]
