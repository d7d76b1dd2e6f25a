"""The API answers on both stores: create an athlete, log a set, read it back."""

from __future__ import annotations

from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient


def test_log_a_set_and_read_it_back(client: TestClient) -> None:
    athlete_id, token = new_athlete(client, timezone="Europe/Paris")
    me = bearer(token)
    r = client.post(f"/athletes/{athlete_id}/sessions",
                    json={"started_at": "2026-11-24T18:00:00"}, headers=me)
    assert r.status_code == 201, r.text
    assert r.json()["started_at"] == "2026-11-24T18:00:00+01:00"
    session_id = r.json()["session_id"]
    r = client.post(f"/sessions/{session_id}/sets",
                    json={"exercise_id": "squat.back_squats", "reps": 5, "load": 225,
                          "load_unit": "lb", "rpe": 8}, headers=me)
    assert r.status_code == 201, r.text
    assert r.json()["set"]["load_kg"] == 102.0583
    listed = client.get(f"/athletes/{athlete_id}/sessions", headers=me).json()
    assert [s["session_id"] for s in listed] == [session_id]
    assert listed[0]["sets"][0]["reps"] == 5
    assert client.get("/health", headers=ADMIN).json()["status"] == "ok"
