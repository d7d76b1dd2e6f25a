"""The week in the 3+1 structure, with days: the default and the athlete's own template,
repeating a week, and moving, retitling or re-purposing a slot as plan events of their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from fastapi.testclient import TestClient
from support_views import Athlete

from services.runtime import Runtime


def days(plan: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(s["role"], s["day"]) for s in plan["sessions"]]


def on(monday: date, *offsets: int) -> list[str]:
    return [(monday + timedelta(days=k)).isoformat() for k in offsets]


def week_row(a: Athlete, monday: date, day: date) -> dict[str, Any]:
    weeks = a.view("execution", on=day.isoformat())["weeks"]
    return next(w for w in weeks if w["week_start"] == monday.isoformat())


def test_the_default_template_trains_on_days_1_3_5_and_volume_on_day_6(
        client: TestClient) -> None:
    a = Athlete(client, first_day_of_week="sunday")
    sunday = a.week(1) - timedelta(days=1)
    plan = a.plan(sunday)
    assert days(plan) == list(zip(["training"] * 3 + ["volume"], on(sunday, 0, 2, 4, 5),
                                  strict=True))
    template = a.post(f"/athletes/{a.id}/week-template", {}, method="GET")
    assert template["custom"] is False
    assert [(s["role"], s["day"]) for s in template["sessions"]] == [
        ("training", 1), ("training", 3), ("training", 5), ("volume", 6)]


def test_a_volume_session_is_missed_only_after_its_day(client: TestClient) -> None:
    a = Athlete(client)
    monday = a.week(1)
    plan = a.plan(monday)
    thursday = monday + timedelta(days=3)
    assert week_row(a, monday, thursday)["missed"] == ["training", "training"]
    wednesday = monday + timedelta(days=2)  # its slot is not missed while the day lasts
    assert week_row(a, monday, wednesday)["missed"] == ["training"]

    volume = next(s for s in plan["sessions"] if s["role"] == "volume")
    a.post(f"/athletes/{a.id}/plans/{monday}/sessions/{volume['planned_session_id']}",
           {"day": on(monday, 1)[0]}, method="PATCH")
    assert sorted(week_row(a, monday, thursday)["missed"]) == ["training", "training", "volume"]


def test_moving_retitling_and_re_purposing_a_slot_are_plan_events(
        client: TestClient, runtime: Runtime) -> None:
    a = Athlete(client)
    goal = a.goal(150)
    monday = a.week(1)
    plan = a.plan(monday)
    slot = plan["sessions"][0]["planned_session_id"]
    path = f"/athletes/{a.id}/plans/{monday}/sessions/{slot}"
    revised = a.post(path, {"day": on(monday, 1)[0], "title": "Heavy squat",
                            "sport": "strength_training", "objective_id": goal},
                     method="PATCH")
    moved = revised["sessions"][0]
    assert (moved["day"], moved["title"], moved["sport"], moved["objective_id"]) == (
        on(monday, 1)[0], "Heavy squat", "strength_training", goal)
    history = a.post(f"/athletes/{a.id}/plans/{monday}/history", {}, method="GET")
    assert [e["type"] for e in history] == [
        "Planned", "SessionMoved", "SessionRetitled", "SessionSportChanged",
        "SessionObjectiveChanged"]
    assert history[1]["payload"] == {"planned_session_id": slot, "day": on(monday, 1)[0]}

    before = runtime.app.recorder.max_notification_id()
    for body, field in (({"day": on(monday, 7)[0]}, "session.day"),
                        ({"title": "Heavy squat"}, "changes"),
                        ({"color": "red"}, None)):
        r = client.patch(path, json=body, headers=a.me)
        assert r.status_code == 422, r.text
        if field:
            assert r.json()["errors"][0]["field"] == field
    volume = plan["sessions"][3]["planned_session_id"]
    r = client.patch(f"/athletes/{a.id}/plans/{monday}/sessions/{volume}",
                     json={"objective_id": goal}, headers=a.me)
    assert r.status_code == 422, r.text
    assert runtime.app.recorder.max_notification_id() == before


def test_the_athletes_own_template_and_repeating_last_week(client: TestClient) -> None:
    a = Athlete(client)
    goal = a.goal(150)
    saved = a.post(f"/athletes/{a.id}/week-template", {"sessions": [
        {"role": "training", "day": 2, "title": "Squat", "sport": "strength_training",
         "objective_id": goal},
        {"role": "training", "day": 4, "title": "Run", "sport": "running"},
        {"role": "volume", "day": 7, "title": "Long easy"}]}, method="PUT")
    assert saved["custom"] is True
    monday = a.week(1)
    plan = a.plan(monday)
    assert [(s["day"], s["title"], s.get("sport"), s["objective_id"])
            for s in plan["sessions"]] == [
        (on(monday, 1)[0], "Squat", "strength_training", goal),
        (on(monday, 3)[0], "Run", "running", None),
        (on(monday, 6)[0], "Long easy", None, None)]

    a.post(f"/athletes/{a.id}/plans/{monday}/sessions/"
           f"{plan['sessions'][1]['planned_session_id']}/cancel", {"reason": "travel"})
    repeated = a.post(f"/athletes/{a.id}/plans", {
        "week_start": a.week(2).isoformat(), "repeat_from": monday.isoformat()})
    assert [(s["day"], s["title"]) for s in repeated["sessions"]] == [
        (on(a.week(2), 1)[0], "Squat"), (on(a.week(2), 6)[0], "Long easy")]

    r = client.put(f"/athletes/{a.id}/week-template", json={"sessions": [
        {"role": "volume", "day": 8}]}, headers=a.me)
    assert r.status_code == 422, r.text
    r = client.post(f"/athletes/{a.id}/plans", json={
        "week_start": a.week(3).isoformat(), "repeat_from": a.week(5).isoformat()},
        headers=a.me)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "repeat_from"
