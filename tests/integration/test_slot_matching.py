"""One slot-matching rule for every way a session arrives: hand-logged (``/log``, the API) and
imported sessions fill the same slot; a late session fills the earliest open slot of its
week, never one of another week; the athlete relinks or unlinks; a discarded session frees
its slot."""

from __future__ import annotations

from datetime import timedelta

from conftest import bearer, new_athlete
from support_slots import (
    at,
    import_sessions,
    log,
    ok,
    past_monday,
    plan,
    served,
    slots_of,
)

from services.runtime import Runtime

WEEK = [  # Monday running, Monday anything, Wednesday volume, Thursday training
    {"role": "training", "day": 0, "sport": "running"},
    {"role": "training", "day": 0},
    {"role": "volume", "day": 2},
    {"role": "training", "day": 3},
]
SESSIONS = [  # (day, sport): which slot (index in WEEK) each fills, in turn
    (0, "cycling", 1), (0, "running", 0), (4, "running", 2), (4, "running", 3),
    (5, "running", None),
]


def test_hand_logged_and_imported_sessions_fill_the_same_slots(runtime: Runtime) -> None:
    monday = past_monday()
    with served(runtime) as client:
        hand, hand_token = new_athlete(client, "Hand")
        device, device_token = new_athlete(client, "Device")
        hand_slots = plan(client, hand, hand_token, monday, [dict(s) for s in WEEK])
        device_slots = plan(client, device, device_token, monday, [dict(s) for s in WEEK])

        logged = [log(client, hand, hand_token, monday + timedelta(days=d), sport=sport)
                  for d, sport, _ in SESSIONS]
        done = import_sessions(client, device, device_token, [
            {"started_at": at(monday + timedelta(days=d)), "sport": sport,
             "end": {"ended_at": at(monday + timedelta(days=d), 19)}}
            for d, sport, _ in SESSIONS])
        assert done["status"] == "imported", done["reason"]
        imported = [ok(client.get(f"/sessions/{i}", headers=bearer(device_token)))
                    for i in done["result"]["session_ids"]]

        for (_, _, index), mine, theirs in zip(SESSIONS, logged, imported, strict=True):
            want = None if index is None else hand_slots[index]
            assert mine["planned_session_id"] == want
            assert theirs["planned_session_id"] == (
                None if index is None else device_slots[index])
            assert mine["planned_role"] == theirs["planned_role"]
        filled = slots_of(client, device, device_token, monday)
        assert {s.get("session_id") for s in filled.values()} == {
            x["session_id"] for x in imported if x["planned_session_id"]}
        assert [s["load_source"] for s in done["result"]["sessions"]] == ["none"] * 5
        assert {s["status"] for s in done["result"]["sessions"]} == {"created"}


def test_a_late_session_never_fills_a_slot_of_another_week(runtime: Runtime) -> None:
    monday = past_monday(2)
    with served(runtime) as client:
        athlete_id, token = new_athlete(client)
        (slot,) = plan(client, athlete_id, token, monday, [{"role": "training", "day": 4}])
        next_week = log(client, athlete_id, token, monday + timedelta(days=7))
        assert next_week["planned_session_id"] is None
        assert next_week["planned_role"] == "unplanned"
        early = log(client, athlete_id, token, monday + timedelta(days=3))
        assert early["planned_session_id"] is None  # the slot's day has not come yet
        assert slots_of(client, athlete_id, token, monday)[slot].get("session_id") is None


def test_unplanned_and_role_narrow_the_match(runtime: Runtime) -> None:
    monday = past_monday()
    with served(runtime) as client:
        athlete_id, token = new_athlete(client)
        training, volume = plan(client, athlete_id, token, monday,
                                [{"role": "training", "day": 0}, {"role": "volume", "day": 1}])
        day = monday + timedelta(days=1)
        assert log(client, athlete_id, token, day,
                   planned_role="unplanned")["planned_session_id"] is None
        assert log(client, athlete_id, token, day,
                   planned_role="training")["planned_session_id"] == training
        assert log(client, athlete_id, token, day,
                   planned_role="volume")["planned_session_id"] == volume


def test_the_athlete_relinks_and_unlinks(runtime: Runtime) -> None:
    monday = past_monday()
    with served(runtime) as client:
        athlete_id, token = new_athlete(client)
        headers = bearer(token)
        first, second = plan(client, athlete_id, token, monday,
                             [{"role": "training", "day": 0}, {"role": "training", "day": 1}])
        (other_week,) = plan(client, athlete_id, token, monday - timedelta(days=7),
                             [{"role": "training", "day": 0}])
        session = log(client, athlete_id, token, monday)
        assert session["planned_session_id"] == first
        link = f"/sessions/{session['session_id']}/link"

        moved = ok(client.post(link, json={"planned_session_id": second}, headers=headers))
        assert moved["planned_session_id"] == second
        slots = slots_of(client, athlete_id, token, monday)
        assert slots[first].get("session_id") is None
        assert slots[second]["session_id"] == session["session_id"]

        refused = client.post(link, json={"planned_session_id": other_week}, headers=headers)
        assert refused.status_code == 422, refused.text
        assert "week of" in refused.text

        rival = log(client, athlete_id, token, monday + timedelta(days=1), sport="cycling",
                    planned_role="unplanned")
        taken = client.post(f"/sessions/{rival['session_id']}/link",
                            json={"planned_session_id": second}, headers=headers)
        assert taken.status_code == 409, taken.text
        assert "unlink it first" in taken.text

        unlinked = ok(client.post(link, json={}, headers=headers))
        assert unlinked["planned_session_id"] is None
        assert unlinked["planned_role"] == "unplanned"
        assert all(s.get("session_id") is None
                   for s in slots_of(client, athlete_id, token, monday).values())
        assert ok(client.post(f"/sessions/{rival['session_id']}/link",
                              json={"planned_session_id": second},
                              headers=headers))["planned_session_id"] == second


def test_a_discarded_session_frees_its_slot(runtime: Runtime) -> None:
    monday = past_monday()
    with served(runtime) as client:
        athlete_id, token = new_athlete(client)
        (slot,) = plan(client, athlete_id, token, monday, [{"role": "training", "day": 0}])
        session = log(client, athlete_id, token, monday)
        assert session["planned_session_id"] == slot
        assert log(client, athlete_id, token, monday)["planned_session_id"] is None
        ok(client.post(f"/sessions/{session['session_id']}/discard", json={},
                       headers=bearer(token)))
        assert slots_of(client, athlete_id, token, monday)[slot].get("session_id") is None
        assert log(client, athlete_id, token, monday)["planned_session_id"] == slot
