"""What the gym page `/log` needs from the API: late sets, edits, timing, a ranked search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from conftest import bearer, new_athlete
from fastapi.testclient import TestClient

SQUAT = "squat.barbell_back_squat"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).replace(microsecond=0).isoformat()


def test_a_forgotten_set_is_added_after_end_and_sets_are_edited_and_deleted(
    client: TestClient,
) -> None:
    athlete_id, token = new_athlete(client, mass_unit="lb")
    me = bearer(token)
    session = ok(client.post(f"/athletes/{athlete_id}/sessions",
                             json={"started_at": ago(hours=3)}, headers=me), 201)
    sid = session["session_id"]
    first = ok(client.post(f"/sessions/{sid}/sets", json={
        "exercise_id": SQUAT, "reps": 5, "load": 225, "load_unit": "lb",
        "performed_at": ago(hours=2, minutes=30)}, headers=me), 201)
    # ended after the gym: the real end and duration, not "now minus the tap on Start"
    ended = ok(client.post(f"/sessions/{sid}/end", json={
        "ended_at": ago(hours=2), "duration_min": 55, "session_rpe": 7}, headers=me))
    assert ended["duration_min"] == 55
    late = ok(client.post(f"/sessions/{sid}/sets", json={"exercise_id": SQUAT, "reps": 3},
                          headers={**me, "Idempotency-Key": "late-set-1"}), 201)
    assert late["set"]["performed_at"] == ended["ended_at"]
    again = ok(client.post(f"/sessions/{sid}/sets", json={"exercise_id": SQUAT, "reps": 3},
                           headers={**me, "Idempotency-Key": "late-set-1"}), 201)
    assert again["set"]["set_id"] == late["set"]["set_id"]
    edited = ok(client.patch(f"/sessions/{sid}/sets/{first['set']['set_id']}",
                             json={"reps": 4, "load": 230, "load_unit": "lb"}, headers=me))
    kept = {x["set_id"]: x for x in edited["sets"]}[first["set"]["set_id"]]
    assert kept["reps"] == 4
    assert abs(kept["load_kg"] - 230 * 0.45359237) < 1e-3
    after = ok(client.delete(f"/sessions/{sid}/sets/{late['set']['set_id']}", headers=me))
    assert [x["set_id"] for x in after["sets"]] == [first["set"]["set_id"]]
    assert ok(client.patch(f"/sessions/{sid}", json={"duration_min": 62},
                           headers=me))["duration_min"] == 62
    assert after["status"] == "ended"


def test_a_set_after_the_end_time_is_refused_with_a_reason(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    sid = ok(client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": ago(hours=3), "end": {"ended_at": ago(hours=2), "session_rpe": 6}},
        headers=me), 201)["session_id"]
    r = client.post(f"/sessions/{sid}/sets", json={
        "exercise_id": SQUAT, "reps": 3, "performed_at": ago(hours=1)}, headers=me)
    assert r.status_code == 422, r.text
    assert "after the session ended" in r.text


def test_search_ranks_the_athletes_own_lifts_first(client: TestClient) -> None:
    athlete_id, token = new_athlete(client)
    me = bearer(token)
    plain = ok(client.get("/exercises", params={"q": "back squat"}, headers=me))
    assert plain[0]["id"] != SQUAT
    ok(client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": ago(hours=3),
        "sets": [{"exercise_id": SQUAT, "reps": 5, "load": 100}] * 3}, headers=me), 201)
    mine = ok(client.get("/exercises", params={"q": "back squat", "athlete_id": athlete_id},
                         headers=me))
    assert mine[0]["id"] == SQUAT
    for query, expected in (("ohp", "Overhead press"), ("rdl", "Romanian deadlift")):
        found = ok(client.get("/exercises", params={"q": query}, headers=me))
        assert found[0]["name"] == expected
    chin = ok(client.get("/exercises", params={"q": "chin", "limit": 200}, headers=me))
    assert all("machine" not in e["name"].lower() for e in chin)
