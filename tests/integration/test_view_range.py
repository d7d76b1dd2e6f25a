"""``from``/``to`` on the view routes: the dashboard's date range.  Long series (days, weeks,
sessions, records, a lift's e1RM points, a goal's values) keep only the entries inside the
range; everything else, and the whole answer without the parameters, is unchanged."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from support_views import Athlete, squat


def dated(rows: list[dict[str, object]]) -> list[str]:
    return [str(r.get("day") or r.get("week_start")) for r in rows]


def test_the_range_keeps_the_series_inside_it(client: TestClient) -> None:
    ada = Athlete(client)
    today = ada.today()
    goal = ada.goal(200)
    for weeks_ago in (6, 4, 2, 0):
        day = today - timedelta(weeks=weeks_ago)
        ada.session(ada.at(day, 7), [squat(100 - weeks_ago)], objective_id=goal,
                    planned_role="training")
    start, end = today - timedelta(weeks=5), today - timedelta(weeks=1)
    rng = {"from": start.isoformat(), "to": end.isoformat()}
    inside = [(today - timedelta(weeks=w)).isoformat() for w in (4, 2)]

    full = ada.view("load")
    assert len(full["sessions"]) == 4
    part = ada.view("load", **rng)
    assert dated(part["sessions"]) == inside
    assert all(start.isoformat() <= d <= end.isoformat() for d in dated(part["days"]))
    assert dated(part["days"]) == [d for d in dated(full["days"])
                                   if start.isoformat() <= d <= end.isoformat()]

    strength = ada.view("strength", **rng)
    assert dated(strength["exercises"][0]["e1rm_series"]) == inside
    records = [r["set"]["day"] for r in strength["records"]]
    assert records
    assert all(start.isoformat() <= d <= end.isoformat() for d in records)
    goals = ada.view("goals", **rng)
    assert dated(goals["goals"][0]["values"]) == inside
    # what the range does not touch: today's figures and the goal's standing
    assert goals["goals"][0]["current_value"] == ada.view("goals")["goals"][0]["current_value"]
    assert ada.view("fatigue", **rng)["today"] == ada.view("fatigue")["today"]
    assert dated(ada.view("execution", **rng)["sessions"]) == inside


def test_a_week_the_period_starts_or_ends_in_is_kept(client: TestClient) -> None:
    ada = Athlete(client)
    for offset in (-3, -2, -1):
        ada.plan(ada.week(offset))
    weeks = [w["week_start"] for w in ada.view("execution")["weeks"]]
    assert weeks[:3] == [ada.week(o).isoformat() for o in (-3, -2, -1)]
    # from the middle of 3 weeks ago to the middle of last week: all three weeks
    rng = {"from": (ada.week(-3) + timedelta(days=3)).isoformat(),
           "to": (ada.week(-1) + timedelta(days=3)).isoformat()}
    assert dated(ada.view("execution", **rng)["weeks"]) == weeks[:3]
    rng = {"from": (ada.week(-2) + timedelta(days=6)).isoformat(),
           "to": (ada.week(-2) + timedelta(days=6)).isoformat()}
    assert dated(ada.view("execution", **rng)["weeks"]) == [ada.week(-2).isoformat()]


@pytest.mark.parametrize(("params", "reason"), [
    ({"from": "yesterday"}, "from must be an ISO 8601 date"),
    ({"to": "2026-13-01"}, "to must be an ISO 8601 date"),
    ({"from": "2026-05-02", "to": "2026-05-01"}, "from is after to"),
])
def test_a_bad_range_is_refused_with_a_reason(client: TestClient, params: dict[str, str],
                                              reason: str) -> None:
    ada = Athlete(client)
    r = client.get(f"/athletes/{ada.id}/views/load", params=params, headers=ada.me)
    assert r.status_code == 422, r.text
    assert reason in r.text
