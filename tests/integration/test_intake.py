"""Imports go through the intake: queued by the API, applied by the intake worker, answered
imported / duplicate / rejected; in-process by default and over the intake topic with Kafka."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from conftest import bearer, new_athlete
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker

from services.api.app import create_app
from services.config import Settings
from services.runtime import Runtime, open_runtime
from services.workers import Workers

PAST = [
    {"started_at": "2026-11-20T18:00:00+00:00", "title": "Squat",
     "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100}],
     "end": {"ended_at": "2026-11-20T19:00:00+00:00", "session_rpe": 7}},
    {"started_at": "2026-11-22T18:00:00+00:00", "title": "Bench",
     "sets": [{"exercise_id": "bench_press.barbell_bench_press", "reps": 5, "load": 80}]},
]


@pytest.fixture
def served(runtime: Runtime) -> Iterator[TestClient]:
    workers = Workers(runtime).start()
    try:
        with TestClient(create_app(runtime)) as client:
            yield client
    finally:
        workers.stop()


def submit(client: TestClient, athlete_id: str, token: str, sessions: list[Any]) -> str:
    r = client.post(f"/athletes/{athlete_id}/imports", json={"sessions": sessions},
                    headers=bearer(token))
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "pending"
    return str(r.json()["import_id"])


def result(client: TestClient, import_id: str, token: str) -> dict[str, Any]:
    r = client.get(f"/imports/{import_id}", params={"wait": 20}, headers=bearer(token))
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_import_is_applied_once_and_a_duplicate_is_recognised(
    served: TestClient, runtime: Runtime
) -> None:
    athlete_id, token = new_athlete(served)
    first = result(served, submit(served, athlete_id, token, PAST), token)
    assert first["status"] == "imported", first
    ids = first["result"]["session_ids"]
    sessions = [served.get(f"/sessions/{i}", headers=bearer(token)).json() for i in ids]
    assert [s["title"] for s in sessions] == ["Squat", "Bench"]
    assert sessions[0]["status"] == "ended"
    assert sessions[1]["status"] == "open"
    events = runtime.app.recorder.max_notification_id()
    started = runtime.app.events.get(runtime.app.session(ids[0]).id)
    source = next(iter(started)).source  # type: ignore[attr-defined]
    assert source["import_id"] == first["import_id"]
    assert len(source["file_hash"]) == 64

    again = result(served, submit(served, athlete_id, token, PAST), token)
    assert again["status"] == "duplicate"
    assert again["result"]["duplicate_of"] == first["import_id"]
    assert runtime.app.recorder.max_notification_id() == events  # nothing recorded twice


def test_an_invalid_import_is_rejected_whole_with_its_reason(
    served: TestClient, runtime: Runtime
) -> None:
    athlete_id, token = new_athlete(served)
    events = runtime.app.recorder.max_notification_id()
    bad = [PAST[0], {"started_at": "2026-11-22T18:00:00+00:00",
                     "sets": [{"exercise_id": "no.such_exercise", "reps": 5}]}]
    answer = result(served, submit(served, athlete_id, token, bad), token)
    assert answer["status"] == "rejected"
    assert answer["reason"].startswith("sessions[1].sets[0].exercise_id")
    assert runtime.app.recorder.max_notification_id() == events  # not even the valid one


def test_another_athlete_cannot_see_an_import(served: TestClient) -> None:
    athlete_id, token = new_athlete(served)
    _, other = new_athlete(served, "B")
    import_id = submit(served, athlete_id, token, PAST[:1])
    assert served.get(f"/imports/{import_id}", headers=bearer(other)).status_code == 404


@pytest.mark.kafka
def test_imports_travel_over_the_intake_topic_with_kafka(
    settings: Settings, kafka_broker: TansuBroker
) -> None:
    rt = open_runtime(replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                              events_topic=f"test.events.{os.urandom(4).hex()}"))
    workers = Workers(rt).start()
    try:
        with TestClient(create_app(rt)) as client:
            athlete_id, token = new_athlete(client)
            answer = result(client, submit(client, athlete_id, token, PAST), token)
            assert answer["status"] == "imported", answer
        published = rt.tables.query(
            f"SELECT published FROM {rt.tables.name('tl_imports')}")
        assert [r["published"] for r in published] == [1]  # it went through the topic
    finally:
        workers.stop()
        rt.close()
