"""The analytic views over HTTP, on both stores: what corrections change, what ``as_of``
answers, and the readiness story of the demo block."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient

from projections.analytics import VIEWS
from projections.base import forget
from projections.facts import plain
from projections.history import entities, load_history
from projections.history_facts import HistoryFacts
from projections.replay import replay
from projections.stored_facts import StoredFacts
from services.cli_replay import scratch_tables
from services.demo import seed_demo
from services.domain.errors import NotFound
from services.runtime import Runtime

SQUAT = "squat.back_squats"


def view(client: TestClient, athlete_id: str, name: str, headers: dict[str, str],
         as_of: str | None = None) -> dict[str, Any]:
    params = {"as_of": as_of} if as_of else {}
    r = client.get(f"/athletes/{athlete_id}/views/{name}", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def squat_session(client: TestClient, athlete_id: str, me: dict[str, str], load: float,
                  days_ago: int, rpe: float = 8) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago, hours=1)
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": start.isoformat(), "title": "Squat",
        "sets": [{"exercise_id": SQUAT, "reps": 5, "load": load, "rpe": rpe,
                  "performed_at": (start + timedelta(minutes=10 + i)).isoformat()}
                 for i in range(3)],
        "end": {"ended_at": (start + timedelta(minutes=60)).isoformat(), "session_rpe": rpe},
    })
    assert r.status_code == 201, r.text
    return r.json()


def test_a_correction_changes_every_affected_view(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, max_hr=190, resting_hr=50)
    me = bearer(token)
    session = squat_session(client, athlete_id, me, 100.0, days_ago=1)
    strength = view(client, athlete_id, "strength", me)["exercises"][0]
    # Epley on reps to failure: 5 reps at RPE 8 = 2 in reserve, 100 × (1 + 7/30) = 123.33
    assert strength["best_e1rm_kg"] == pytest.approx(123.33)
    load = view(client, athlete_id, "load", me)["sessions"][0]
    assert load["volume_load_kg"] == 1500.0  # 3 × 5 × 100
    assert load["srpe_load"] == 480.0  # RPE 8 × 60 min (Foster 2001)
    assert view(client, athlete_id, "fatigue", me)["today"] is not None

    set_id = session["sets"][0]["set_id"]
    r = client.patch(f"/sessions/{session['session_id']}/sets/{set_id}", headers=me,
                     json={"load": 110.0})
    assert r.status_code == 200, r.text
    assert view(client, athlete_id, "strength", me)["exercises"][0]["best_e1rm_kg"] == \
        pytest.approx(135.67)  # 110 × 37/30
    assert view(client, athlete_id, "load", me)["sessions"][0]["volume_load_kg"] == 1550.0

    r = client.post(f"/sessions/{session['session_id']}/discard", headers=me, json={})
    assert r.status_code == 200, r.text
    assert view(client, athlete_id, "strength", me)["exercises"] == []
    assert view(client, athlete_id, "load", me)["sessions"] == []
    assert view(client, athlete_id, "fatigue", me)["series"] == []


def test_as_of_answers_what_the_view_said_then(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    session = squat_session(client, athlete_id, me, 100.0, days_ago=2)
    time.sleep(0.01)
    before_correction = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    set_id = session["sets"][0]["set_id"]
    r = client.patch(f"/sessions/{session['session_id']}/sets/{set_id}", headers=me,
                     json={"load": 120.0})
    assert r.status_code == 200, r.text

    then = view(client, athlete_id, "strength", me, as_of=before_correction)
    now = view(client, athlete_id, "strength", me)
    assert then["exercises"][0]["best_e1rm_kg"] == pytest.approx(123.33)
    assert now["exercises"][0]["best_e1rm_kg"] == pytest.approx(148.0)  # 120 × 37/30
    assert then["recorded_by"] is not None
    # a session recorded now, for a day in the past, is not in an earlier as-of answer
    squat_session(client, athlete_id, me, 140.0, days_ago=3)
    assert view(client, athlete_id, "strength", me, as_of=before_correction)[
        "exercises"][0]["best_e1rm_kg"] == pytest.approx(123.33)
    assert view(client, athlete_id, "strength", me)["exercises"][0]["best_e1rm_kg"] == \
        pytest.approx(172.67)  # 140 × 37/30


def test_views_refuse_bad_as_of_and_strangers(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    other_id, other = new_athlete(client, "Bo")
    me = bearer(token)
    r = client.get(f"/athletes/{athlete_id}/views/fatigue", params={"as_of": "last week"},
                   headers=me)
    assert r.status_code == 422
    assert "as_of" in r.text
    r = client.get(f"/athletes/{athlete_id}/views/fatigue", params={"as_of": "2001-01-01"},
                   headers=me)
    assert r.status_code == 404  # not registered yet then
    assert client.get(f"/athletes/{athlete_id}/views/readiness",
                      headers=bearer(other)).status_code == 404
    assert client.get(f"/athletes/{other_id}/views/goals", headers=ADMIN).status_code == 200


@pytest.fixture(scope="module")
def demo(runtime: Runtime) -> str:
    return seed_demo(runtime.app, today=date(2026, 11, 25)).athlete_id


def test_the_demo_block_tells_a_readiness_story(client: TestClient, demo: str) -> None:
    plans = client.get(f"/athletes/{demo}/plans", headers=ADMIN).json()
    weeks = sorted(date.fromisoformat(p["week_start"]) for p in plans)
    verdicts = {}
    for monday in weeks[1:]:  # each Sunday at 18:00, before the next week is planned at 19:00
        sunday = f"{monday - timedelta(days=1)}T18:00:00"
        answer = view(client, demo, "readiness", ADMIN, as_of=sunday)
        verdicts[sunday] = answer["verdict"]
        assert {c["name"] for c in answer["criteria"]} == {
            "training_adherence_3w", "acwr", "form_pct_of_ctl", "recovery", "session_rpe_trend"}
    ordered = list(verdicts.values())
    conversion_eve = f"{weeks[6] - timedelta(days=1)}T18:00:00"  # plan for week 7 converts
    assert ordered[:4] == ["not yet"] * 4, verdicts  # ACWR needs 28 days, adherence 3 weeks
    assert verdicts[conversion_eve] == "ready", verdicts
    eve = view(client, demo, "readiness", ADMIN, as_of=conversion_eve)
    assert eve["recommended"] is None  # that week's volume session is done, the next unplanned
    assert eve["conversions"] == []
    after = view(client, demo, "readiness", ADMIN, as_of="2026-11-22")
    assert after["conversions"][0]["week_start"] == weeks[6].isoformat()
    assert len(after["conversions"][0]["weeks_after"]) == 4
    assert after["conversions"][0]["response"] == "coping"


def test_the_demo_views_hold_its_block(client: TestClient, demo: str) -> None:
    execution = view(client, demo, "execution", ADMIN, as_of="2026-11-22")
    assert sum(w["planned"] - w["completed"] for w in execution["weeks"]) == 1  # one skipped
    classes = {s["classification"] for s in execution["sessions"]}
    assert classes == {"training", "workout"}
    goals = view(client, demo, "goals", ADMIN, as_of="2026-11-22")["goals"]
    assert {g["metric"]["kind"] for g in goals} >= {"e1rm", "custom"}
    assert all(g["current_value"] is not None for g in goals)
    fatigue = view(client, demo, "fatigue", ADMIN, as_of="2026-11-22")
    assert fatigue["model"] == "trainingpeaks"
    assert fatigue["today"]["ctl"] > 0
    recovery = view(client, demo, "recovery", ADMIN, as_of="2026-11-22")
    assert recovery["status"] in ("normal", "elevated", "suppressed")


def test_stored_views_follow_the_feed_and_rebuild_to_the_same_hash(
    client: TestClient, runtime: Runtime, demo: str
) -> None:
    model = runtime.views["training"]
    runtime.feed.catch_up(model)
    model.idle(runtime.tables)
    day = date(2026, 11, 22)
    stored = StoredFacts(runtime.tables, demo)
    history = load_history(runtime.app, demo, entities(runtime.tables, demo))
    assert history is not None
    for name, compute in VIEWS.items():  # the read model answers what the oracle computes
        assert plain(compute(stored, day)) == compute(HistoryFacts(history), day), name
    before = model.content_hash(runtime.tables)
    with runtime.tables.transaction() as tx:
        forget(tx, model)
    with pytest.raises(NotFound):
        StoredFacts(runtime.tables, demo)
    runtime.feed.catch_up(model)
    model.idle(runtime.tables)
    assert model.content_hash(runtime.tables) == before


def test_replay_until_answers_what_as_of_answers_and_leaves_live_views(
    client: TestClient, runtime: Runtime, demo: str, tmp_path: Path
) -> None:
    model = runtime.views["training"]
    runtime.feed.catch_up(model)
    model.idle(runtime.tables)
    live_before = model.content_hash(runtime.tables)
    scratch, target = scratch_tables(tmp_path)
    try:
        results = replay(runtime.app, target, [model], until="2026-10-11")
        assert {r.view for r in results} == {"training"}
        for name, compute in VIEWS.items():
            rebuilt = compute(StoredFacts(target, demo), date(2026, 10, 11))
            api = view(client, demo, name, ADMIN, as_of="2026-10-11")
            for key in ("athlete_id", "view", "recorded_by", "day"):
                api.pop(key)
            assert plain(rebuilt) == api, name
    finally:
        scratch.close()
    assert model.content_hash(runtime.tables) == live_before


def test_on_evaluates_a_past_day_with_what_is_known_now(client: TestClient) -> None:
    """Last month's sessions entered today count in last month's views with ``on``; ``as_of``
    still answers what the views said then, without them."""
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    day = (datetime.now(UTC) - timedelta(days=30)).date()
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": f"{day}T09:00:00Z",
        "sets": [{"exercise_id": SQUAT, "reps": 5, "load": 100}],
        "end": {"ended_at": f"{day}T10:00:00Z", "session_rpe": 7}})
    assert r.status_code == 201, r.text
    on = client.get(f"/athletes/{athlete_id}/views/load", params={"on": day.isoformat()},
                    headers=me).json()
    assert on["day"] == day.isoformat()
    assert [s["day"] for s in on["sessions"]] == [day.isoformat()]
    assert on["days"] == [{"day": day.isoformat(), "load": 420.0}]
    then = client.get(f"/athletes/{athlete_id}/views/load", params={"as_of": day.isoformat()},
                      headers=me)
    assert then.status_code == 404  # not even registered then
    both = client.get(f"/athletes/{athlete_id}/views/load", headers=me, params={
        "as_of": datetime.now(UTC).isoformat(), "on": day.isoformat()}).json()
    assert both["sessions"] == on["sessions"]
    later = (day + timedelta(days=3)).isoformat()  # the series runs on with rest days
    days = client.get(f"/athletes/{athlete_id}/views/fatigue", params={"on": later},
                      headers=me).json()["series"]
    assert days[-1]["day"] == later
    assert days[-1]["load"] == 0.0
    for bad, reason in (((day - timedelta(days=1)).isoformat(), "first event"),
                        ((datetime.now(UTC) + timedelta(days=400)).date().isoformat(),
                         "366 days ahead"), ("tomorrow", "ISO 8601")):
        r = client.get(f"/athletes/{athlete_id}/views/readiness", params={"on": bad},
                       headers=me)
        assert r.status_code == 422, (bad, r.text)
        assert reason in r.text
