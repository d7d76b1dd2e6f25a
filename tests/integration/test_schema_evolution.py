"""Schema evolution of ``TrainingSession.SetLogged``: version 2 added ``side``, version 3
``candidates`` (a device's guesses for a set it could not identify), version 4
``wkt_step_index`` (the device workout's step a set was done for).

Version-1 events are written straight into the recorder, as the release before would have
stored them (their state JSON has no ``side`` and no ``class_version``), on both stores; the
session is then read back through the application, the API, a view and the audit trail,
each seeing them upcast (``side`` None, ``candidates`` None, ``wkt_step_index`` None).  New
events are stored with ``class_version`` 4.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

import pytest
from conftest import bearer, new_athlete
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import get_topic
from fastapi.testclient import TestClient

from services.domain.base import Context, Source
from services.domain.errors import InvalidValue
from services.domain.session import TrainingSession
from services.runtime import Runtime

SQUAT = "squat.back_squats"
LUNGE = "lunge.dumbbell_bulgarian_split_squat"


def iso(moment: datetime) -> dict[str, str]:
    """A datetime as the library's JSON transcoder writes it."""
    return {"_type_": "datetime_iso", "_data_": moment.isoformat()}


def v1_set_logged(session_id: UUID, version: int, at: datetime, athlete_id: str,
                  set_id: str, reps: int, load_kg: float, rpe: float) -> StoredEvent:
    """A SetLogged event as release 1 stored it: no ``side``, no ``class_version``."""
    state = {
        "timestamp": iso(at), "occurred_at": iso(at),
        "source": {"kind": "athlete", "principal_id": athlete_id, "token_id": "old-token-id"},
        "set_id": set_id, "exercise_id": SQUAT, "reps": reps, "load_kg": load_kg, "rpe": rpe,
        "rir": None, "set_type": "working", "tempo": None, "rest_s": None,
        "duration_s": None, "notes": None,
    }
    return StoredEvent(originator_id=session_id, originator_version=version,
                       topic=get_topic(TrainingSession.SetLogged),
                       state=json.dumps(state, separators=(",", ":")).encode())


def stored_state(runtime: Runtime, session_id: UUID, version: int) -> dict[str, Any]:
    """The state of one stored event as the transcoder wrote it (unsealed when the store
    encrypts payloads per athlete; payloads stored before that are read as they are)."""
    stored = runtime.app.recorder.select_events(session_id, gt=version - 1, lte=version)
    assert len(stored) == 1
    unseal = getattr(runtime.app.mapper, "plain_state", None)
    state = unseal(stored[0]) if unseal is not None else stored[0].state
    return dict(json.loads(state))


def v2_set_logged(session_id: UUID, version: int, at: datetime, athlete_id: str,
                  set_id: str) -> StoredEvent:
    """A SetLogged event as release 2 stored it: ``side`` and ``class_version`` 2, no
    ``candidates``; an unidentified set (exercise ``unknown``) as its FIT import wrote it."""
    state = {
        "timestamp": iso(at), "occurred_at": iso(at),
        "source": {"kind": "athlete", "principal_id": athlete_id, "token_id": None},
        "set_id": set_id, "exercise_id": "unknown", "reps": 8, "load_kg": 60.0, "rpe": None,
        "rir": None, "set_type": "working", "tempo": None, "rest_s": None,
        "duration_s": None, "notes": None, "side": None, "class_version": 2,
    }
    return StoredEvent(originator_id=session_id, originator_version=version,
                       topic=get_topic(TrainingSession.SetLogged),
                       state=json.dumps(state, separators=(",", ":")).encode())


def test_version_2_sets_read_without_candidates_and_unknown_ones_leave_e1rm(
        client: TestClient, runtime: Runtime) -> None:
    app = runtime.app
    athlete_id, token = new_athlete(client, "Release two")
    started_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    session = app.start_session(Context(Source("athlete", athlete_id)), athlete_id,
                                started_at, title="From release 2")
    set_id = str(uuid5(NAMESPACE_URL, f"v2-set:{session.id}"))
    app.recorder.insert_events([v2_set_logged(session.id, 2, started_at, athlete_id, set_id)])
    again = app.session(session.id)
    assert "candidates" not in again.sets[set_id]
    assert "wkt_step_index" not in again.sets[set_id]
    (logged,) = [e for e in app.events.get(session.id) if type(e).__name__ == "SetLogged"]
    assert logged.wkt_step_index is None  # type: ignore[attr-defined]
    got = client.get(f"/sessions/{session.id}", headers=bearer(token)).json()
    assert got["sets"][0]["unidentified"] is True
    assert got["sets"][0]["candidates"] is None
    strength = client.get(f"/athletes/{athlete_id}/views/strength", headers=bearer(token))
    assert strength.json()["exercises"] == []  # once pooled as "Unknown", with its e1RM


def test_version_1_sets_are_upcast_and_new_ones_stored_as_version_3(
        client: TestClient, runtime: Runtime) -> None:
    app = runtime.app
    assert app.mapper.cipher is None  # release 1 stored plain JSON states, as written below
    assert app.mapper.compressor is None
    athlete_id, token = new_athlete(client, "Old timer")
    me = bearer(token)
    started_at = (datetime.now(UTC) - timedelta(days=1)).replace(microsecond=0)
    ctx = Context(Source("athlete", athlete_id))
    session = app.start_session(ctx, athlete_id, started_at, title="From release 1")
    session_id = session.id
    old_sets = [str(uuid5(NAMESPACE_URL, f"old-set:{session_id}:{i}")) for i in range(2)]
    app.recorder.insert_events([
        v1_set_logged(session_id, 2, started_at + timedelta(minutes=5), athlete_id,
                      old_sets[0], 5, 100.0, 8),
        v1_set_logged(session_id, 3, started_at + timedelta(minutes=9), athlete_id,
                      old_sets[1], 5, 105.0, 8.5),
    ])
    assert "class_version" not in stored_state(runtime, session_id, 2)
    assert "side" not in stored_state(runtime, session_id, 2)

    # through the application: upcast on reading, the stored state left as it was
    again = app.session(session_id)
    assert again.version == 3
    assert [again.sets[s]["side"] for s in old_sets] == [None, None]
    assert again.sets[old_sets[0]]["load_kg"] == 100.0
    events = list(app.events.get(session_id))
    assert [type(e).__name__ for e in events] == ["Started", "SetLogged", "SetLogged"]
    assert events[1].side is None  # type: ignore[attr-defined]
    assert "class_version" not in stored_state(runtime, session_id, 2)

    # a new set, on the same session: stored as version 2, with its side
    r = client.post(f"/sessions/{session_id}/sets", headers=me, json={
        "exercise_id": LUNGE, "reps": 8, "load": 20, "side": "left",
        "performed_at": (started_at + timedelta(minutes=20)).isoformat()})
    assert r.status_code == 201, r.text
    assert r.json()["set"]["side"] == "left"
    new_state = stored_state(runtime, session_id, 4)
    assert new_state["class_version"] == 4
    assert new_state["side"] == "left"
    assert new_state["candidates"] is None
    assert new_state["wkt_step_index"] is None

    # amending an old set's side: a correction event on an upcast set
    r = client.patch(f"/sessions/{session_id}/sets/{old_sets[1]}", headers=me,
                     json={"side": "right"})
    assert r.status_code == 200, r.text

    # through the API
    got = client.get(f"/sessions/{session_id}", headers=me).json()
    assert [(s["set_id"], s["side"]) for s in got["sets"]] == [
        (old_sets[0], None), (old_sets[1], "right"), (r.json()["sets"][2]["set_id"], "left")]

    # through a view: the version-1 sets count (Epley, 5 @ RPE 8.5 with 105 kg best)
    strength = client.get(f"/athletes/{athlete_id}/views/strength", headers=me).json()
    squat = next(e for e in strength["exercises"] if e["exercise_id"] == SQUAT)
    assert squat["sets"] == 2
    assert squat["best_e1rm_kg"] == pytest.approx(round(105 * (1 + 6.5 / 30), 2))
    assert squat["best_e1rm_set"]["set_id"] == old_sets[1]
    load = client.get(f"/athletes/{athlete_id}/views/load", headers=me).json()
    assert load["sessions"][0]["volume_load_kg"] == 5 * 100 + 5 * 105 + 8 * 20

    # through the audit trail: old events upcast, and nothing of the old token id
    trail = client.get(f"/athletes/{athlete_id}/events", params={"type": "SetLogged"},
                       headers=me).json()["events"]
    assert [(e["version"], e["payload"]["side"]) for e in trail] == [
        (2, None), (3, None), (4, "left")]
    assert "old-token-id" not in json.dumps(trail)


def test_side_is_validated(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token = new_athlete(client, "Sided")
    me = bearer(token)
    started = (datetime.now(UTC) - timedelta(hours=1)).replace(microsecond=0).isoformat()
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": started, "sets": [{"exercise_id": LUNGE, "reps": 8, "side": "right"}]})
    assert r.status_code == 201, r.text
    session_id, set_id = r.json()["session_id"], r.json()["sets"][0]["set_id"]
    assert r.json()["sets"][0]["side"] == "right"
    bad = client.post(f"/sessions/{session_id}/sets", headers=me,
                      json={"exercise_id": LUNGE, "reps": 8, "side": "middle"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "side"
    bad = client.patch(f"/sessions/{session_id}/sets/{set_id}", headers=me,
                       json={"side": "both"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "side"
    cleared = client.patch(f"/sessions/{session_id}/sets/{set_id}", headers=me,
                           json={"side": None})
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["sets"][0]["side"] is None
    # the domain checks it too, for callers that are not the API (importers, the CLI)
    with pytest.raises(InvalidValue) as raised:
        runtime.app.log_set(Context(Source("admin")), session_id,
                            {"exercise_id": LUNGE, "reps": 8, "side": "up"})
    assert raised.value.field == "side"
