"""Converting a volume session into training: it needs an objective, and readiness (or a
reason to override it), and the session done in the converted slot counts as training."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from conftest import bearer, new_athlete
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient
from support_views import Athlete, squat

from services.domain.plan import WeeklyPlan
from services.runtime import Runtime


def volume_slot(plan: dict[str, Any]) -> str:
    return str(next(s["planned_session_id"] for s in plan["sessions"] if s["role"] == "volume"))


def convert_path(a: Athlete, plan: dict[str, Any]) -> str:
    return (f"/athletes/{a.id}/plans/{plan['week_start']}/sessions/{volume_slot(plan)}"
            "/convert")


def events_of(client: TestClient, a: Athlete, kind: str) -> list[dict[str, Any]]:
    r = client.get(f"/athletes/{a.id}/events", params={"type": kind}, headers=a.me)
    assert r.status_code == 200, r.text
    return list(r.json()["events"])


def test_a_conversion_without_an_objective_is_refused(client: TestClient,
                                                      runtime: Runtime) -> None:
    a = Athlete(client)
    plan = a.plan(a.week())
    before = runtime.app.recorder.max_notification_id()
    r = client.post(convert_path(a, plan), json={"force": True, "reason": "test"},
                    headers=a.me)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "objective_id"
    assert "objective" in r.json()["errors"][0]["message"]
    assert runtime.app.recorder.max_notification_id() == before


def test_a_conversion_while_not_ready_is_refused_with_the_verdict(client: TestClient,
                                                                  runtime: Runtime) -> None:
    a = Athlete(client)
    goal = a.goal(150)
    plan = a.plan(a.week(), goal)
    line = a.view("readiness")["line"]
    assert line.startswith("Not yet")
    before = runtime.app.recorder.max_notification_id()

    r = client.post(convert_path(a, plan), json={"objective_id": goal}, headers=a.me)
    assert r.status_code == 409, r.text
    assert line in r.json()["detail"]
    assert "force" in r.json()["detail"]
    r = client.post(convert_path(a, plan), json={"objective_id": goal, "force": True},
                    headers=a.me)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "reason"
    assert runtime.app.recorder.max_notification_id() == before
    assert events_of(client, a, "VolumeSessionConverted") == []


def test_a_forced_conversion_keeps_its_reason_and_its_session_counts_as_training(
        client: TestClient) -> None:
    a = Athlete(client)
    goal = a.goal(150)
    monday = a.week(-1)  # last week: every day of it is past
    plan = a.plan(monday, goal)
    slot = volume_slot(plan)
    converted = a.post(convert_path(a, plan), {
        "objective_id": goal, "force": True, "reason": "coach's call: a deload follows"})
    done = next(s for s in converted["sessions"] if s["planned_session_id"] == slot)
    assert (done["role"], done["converted"], done["objective_id"]) == ("training", True, goal)
    assert done["conversion"] == {"readiness": "not yet",
                                  "reason": "coach's call: a deload follows"}

    [event] = events_of(client, a, "VolumeSessionConverted")
    assert event["payload"]["reason"] == "coach's call: a deload follows"
    assert event["payload"]["readiness"] == "not yet"
    assert event["payload"]["objective_id"] == goal
    r = client.get(f"/athletes/{a.id}/views/readiness/explain", headers=a.me)
    assert r.status_code == 200, r.text
    slots = [s for w in r.json()["criteria"][0]["inputs"]["weeks"]
             for s in w["training_slots"] if s["planned_session_id"] == slot]
    assert slots[0]["conversion"]["reason"] == "coach's call: a deload follows"

    session = a.session(a.at(monday + timedelta(days=5), 10), [squat(100)] * 5,
                        planned_session_id=slot)
    rows = [r for r in a.view("execution", on=(monday + timedelta(days=6)).isoformat())
            ["sessions"] if r["session_id"] == session["session_id"]]
    assert [(r["classification"], r["planned_role"]) for r in rows] == [("training", "training")]


def test_a_coach_with_read_access_cannot_convert(client: TestClient) -> None:
    """Converting is a plan write: the athlete's own token can, a stranger cannot."""
    a = Athlete(client)
    goal = a.goal(150)
    plan = a.plan(a.week(), goal)
    _, other = new_athlete(client, "Eve")
    r = client.post(convert_path(a, plan), json={"objective_id": goal, "force": True,
                                                 "reason": "x"}, headers=bearer(other))
    assert r.status_code in (403, 404), r.text


def test_a_conversion_stored_before_the_guard_still_reads(client: TestClient,
                                                           runtime: Runtime) -> None:
    """Version 1 of VolumeSessionConverted (no readiness, no reason) upcast on reading."""
    a = Athlete(client)
    goal = a.goal(150)
    plan = a.plan(a.week(-1), goal)
    slot = volume_slot(plan)
    at = {"_type_": "datetime_iso", "_data_": datetime.now(UTC).isoformat()}
    state = {"timestamp": at, "occurred_at": at, "source": {"kind": "athlete"},
             "planned_session_id": slot, "objective_id": goal}
    runtime.app.recorder.insert_events([StoredEvent(
        originator_id=UUID(plan["plan_id"]), originator_version=2,
        topic=get_topic(WeeklyPlan.VolumeSessionConverted),
        state=json.dumps(state).encode())])

    read = a.post(f"/athletes/{a.id}/plans/{plan['week_start']}", {}, method="GET")
    done = next(s for s in read["sessions"] if s["planned_session_id"] == slot)
    assert (done["role"], done["converted"], done["objective_id"]) == ("training", True, goal)
    assert "conversion" not in done
    [event] = events_of(client, a, "VolumeSessionConverted")
    assert (event["payload"]["readiness"], event["payload"]["reason"]) == (None, None)
    assert a.view("readiness")["conversions"][0]["week_start"] == plan["week_start"]
