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


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


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


def test_a_session_logged_after_the_gym_gets_its_real_start_and_duration(
    client: TestClient,
) -> None:
    athlete_id, token = new_athlete(client, timezone="UTC")
    me = bearer(token)
    # tapped Start, a set and End at home, minutes ago
    sid = ok(client.post(f"/athletes/{athlete_id}/sessions",
                         json={"started_at": ago(minutes=10)}, headers=me), 201)["session_id"]
    ok(client.post(f"/sessions/{sid}/sets", json={
        "exercise_id": SQUAT, "reps": 5, "load": 100, "performed_at": ago(minutes=8)},
        headers=me), 201)
    # while open: only the start moves; an end or a duration waits for End
    r = client.patch(f"/sessions/{sid}", json={"ended_at": ago(minutes=5)}, headers=me)
    assert (r.status_code, "has not ended" in r.text) == (409, True), r.text
    start = ago(hours=3)
    moved = ok(client.patch(f"/sessions/{sid}", json={"started_at": start}, headers=me))
    assert (instant(moved["started_at"]), moved["status"]) == (instant(start), "open")
    ok(client.post(f"/sessions/{sid}/end", json={"session_rpe": 7}, headers=me))
    # ended: the real end, and the duration follows (end - start) unless given
    end = ago(hours=2)
    fixed = ok(client.patch(f"/sessions/{sid}", json={"ended_at": end, "title": "Legs"},
                            headers=me))
    assert (instant(fixed["started_at"]), instant(fixed["ended_at"]), fixed["duration_min"],
            fixed["title"]) == (instant(start), instant(end), 60, "Legs")
    # the set logged at home falls after the real end: it is placed at the end
    assert [instant(x["performed_at"]) for x in fixed["sets"]] == [instant(end)]
    timed = ok(client.patch(f"/sessions/{sid}", json={
        "started_at": ago(hours=3, minutes=15), "duration_min": 70}, headers=me))
    assert timed["duration_min"] == 70
    for bad, field in (({"ended_at": ago(hours=4)}, "ended_at"),
                       ({"started_at": ago(minutes=-30)}, "started_at")):
        r = client.patch(f"/sessions/{sid}", json=bad, headers=me)
        assert (r.status_code, field in r.text) == (422, True), r.text
    # one Retimed event per correction, and the views count the real minutes, live and as
    # recorded (the read model agrees with the history)
    events = ok(client.get(f"/athletes/{athlete_id}/events?limit=500", headers=me))
    types = [e["type"] for e in events["events"] if e["aggregate_id"] == sid]
    assert types.count("Retimed") == 3
    assert "DetailsAmended" in types
    # the list puts it by its real start: before a session started since
    other = ok(client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": ago(hours=1), "end": {"duration_min": 30, "session_rpe": 5}},
        headers=me), 201)["session_id"]
    listed = ok(client.get(f"/athletes/{athlete_id}/sessions", headers=me))
    assert [x["session_id"] for x in listed] == [other, sid]
    for query in ("", f"?as_of={datetime.now(UTC).isoformat()}"):
        row = next(x for x in ok(client.get(
            f"/athletes/{athlete_id}/views/load{query.replace('+', '%2B')}",
            headers=me))["sessions"] if x["session_id"] == sid)
        assert (row["minutes"], row["srpe_load"]) == (70, 490), query


def test_a_session_that_fills_a_slot_keeps_to_its_week(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, timezone="UTC")
    me = bearer(token)
    today = datetime.now(UTC).date()
    monday = today - timedelta(days=today.weekday())
    ok(client.post(f"/athletes/{athlete_id}/plans", json={"week_start": monday.isoformat()},
                   headers=me), 201)
    session = ok(client.post(f"/athletes/{athlete_id}/sessions", json={
        "started_at": ago(minutes=1), "planned_role": "training"}, headers=me), 201)
    assert session["planned_session_id"]
    sid = session["session_id"]
    r = client.patch(f"/sessions/{sid}", json={"started_at": ago(days=8)}, headers=me)
    assert r.status_code == 422, r.text
    assert "started_at" in r.text
    assert f"week of {monday.isoformat()}: unlink it first" in r.text
    start = datetime.combine(monday, datetime.min.time(), UTC).isoformat()
    moved = ok(client.patch(f"/sessions/{sid}", json={"started_at": start}, headers=me))
    assert instant(moved["started_at"]) == instant(start)
    assert moved["planned_session_id"] == session["planned_session_id"]
