"""The right to erasure: after it nothing of the athlete can be read back, from the API, the
store, the views or the topic, while history stays append-only and other athletes untouched."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from fit_fixtures import by_name
from kafka_broker import TansuBroker, publish_everything
from support_workers import dump

from ingest.envelope import open_envelope
from ingest.fit.importer import import_fit
from ingest.kafka_transport import KafkaTransport
from ingest.topic_keys import TopicKeys
from projections.kafka_feed import read_topic
from services.config import Settings
from services.domain.base import Source
from services.keyring import KeyErased
from services.runtime import Runtime, open_runtime

MARKER = "ZEBRA-7731-private-note"


def seed(client: TestClient, runtime: Runtime) -> tuple[str, str, str]:
    """An athlete with a hand-logged session, an observation and an imported FIT file."""
    athlete_id, token = new_athlete(client, f"Erin {MARKER}")
    me = bearer(token)
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
        "started_at": "2026-11-20T18:00:00Z", "title": f"Squat {MARKER}", "notes": MARKER,
        "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100,
                  "performed_at": "2026-11-20T18:10:00Z"}],
        "end": {"ended_at": "2026-11-20T19:00:00Z", "session_rpe": 7}})
    assert r.status_code == 201, r.text
    session_id = r.json()["session_id"]
    r = client.post(f"/athletes/{athlete_id}/observations", headers=me, json={
        "metric": "sleep_hours", "value": 7.5, "unit": "h",
        "observed_at": "2026-11-21T07:00:00Z", "note": MARKER})
    assert r.status_code == 201, r.text
    run = by_name("run")
    imported = import_fit(runtime.app, runtime.artifacts, Source("athlete", athlete_id),
                          athlete_id, run.data, run.filename)
    assert imported.status == "imported"
    return athlete_id, token, session_id


def stored_rows(runtime: Runtime, ids: list[str]) -> list[Any]:
    out = []
    for entity in ids:
        out += list(runtime.app.recorder.select_events(entity))
    return out


def test_erasure_leaves_nothing_readable(client: TestClient, runtime: Runtime) -> None:
    athlete_id, token, session_id = seed(client, runtime)
    bystander, other_token = new_athlete(client, "Bystander")
    runtime.feed.catch_up_all()
    owned = [r["entity_id"] for kind in ("session", "observation")
             for r in runtime.directory.list(kind, athlete_id)]
    assert len(owned) == 3
    artifact = runtime.app.session(owned[0]).device or runtime.app.session(owned[1]).device
    assert artifact is not None
    digest = artifact["artifact_sha256"]
    assert runtime.artifacts.get(digest) is not None
    events_before = stored_rows(runtime, [athlete_id, *owned])

    r = client.delete(f"/athletes/{athlete_id}", headers=bearer(token))
    assert r.status_code == 200, r.text
    assert r.json()["artifacts_deleted"] == 1

    # the API: the athlete, their session and views are gone, their token no longer works
    assert client.get(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 404
    assert client.get(f"/sessions/{session_id}", headers=ADMIN).status_code == 404
    assert client.get(f"/athletes/{athlete_id}/views/load", headers=ADMIN).status_code == 404
    assert client.get("/me", headers=bearer(token)).status_code == 401
    assert client.delete(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 404
    # the store: nothing rewritten (same events, same versions), none of it decrypts
    events_after = stored_rows(runtime, [athlete_id, *owned])
    assert [(e.originator_id, e.originator_version, e.state) for e in events_after] == \
        [(e.originator_id, e.originator_version, e.state) for e in events_before]
    for stored in events_after:
        assert stored.state.startswith(b"tl1:")
        assert MARKER.encode() not in stored.state
        with pytest.raises(KeyErased):
            runtime.app.mapper.to_domain_event(stored)
    # the views and service tables: no row of theirs, the marker nowhere in clear
    assert runtime.directory.list("session", athlete_id) == []
    runtime.feed.catch_up_all()
    assert MARKER not in dump(runtime)
    if not runtime.tables.is_postgres:  # not even in the database file's free pages
        store = runtime.settings.data_dir / "trainledger.sqlite3"
        for path in (store, store.with_name(store.name + "-wal")):
            assert not path.exists() or MARKER.encode() not in path.read_bytes(), path
    assert runtime.artifacts.get(digest) is None
    # everyone else is untouched, and the feeds keep running past the erased events
    assert client.get(f"/athletes/{bystander}", headers=bearer(other_token)).status_code == 200
    assert client.get(f"/athletes/{bystander}/views/readiness",
                      headers=bearer(other_token)).status_code == 200


def test_every_read_model_table_forgets_the_athlete(client: TestClient, runtime: Runtime,
                                                   ) -> None:
    """Each table of each view has rows of the athlete before, and none after, erasure."""
    athlete_id, token = new_athlete(client, f"Rita {MARKER}")
    me = bearer(token)
    goal = client.post(f"/athletes/{athlete_id}/goals", headers=me, json={
        "title": f"Squat {MARKER}", "metric": {"kind": "e1rm", "exercise_id":
                                               "squat.back_squats"},
        "direction": "increase", "target_value": 150, "unit": "kg"})
    assert goal.status_code == 201, goal.text
    monday = (datetime.now(UTC) - timedelta(days=datetime.now(UTC).weekday())).date()
    r = client.post(f"/athletes/{athlete_id}/plans", headers=me, json={
        "week_start": monday.isoformat(), "objective_ids": [goal.json()["goal_id"]] * 3})
    assert r.status_code == 201, r.text
    for days in (9, 2):
        day = datetime.now(UTC) - timedelta(days=days)
        r = client.post(f"/athletes/{athlete_id}/sessions", headers=me, json={
            "started_at": day.isoformat(), "title": MARKER,
            "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100 + days,
                      "performed_at": day.isoformat()}],
            "end": {"ended_at": (day + timedelta(hours=1)).isoformat(), "session_rpe": 7}})
        assert r.status_code == 201, r.text
    r = client.post(f"/athletes/{athlete_id}/observations", headers=me, json={
        "metric": "resting_hr", "value": 50, "unit": "bpm",
        "observed_at": (datetime.now(UTC) - timedelta(days=1)).isoformat()})
    assert r.status_code == 201, r.text
    assert client.get(f"/athletes/{athlete_id}/views/readiness", headers=me).status_code == 200

    def rows() -> dict[str, int]:
        db = runtime.tables
        return {table: int(db.query(f"SELECT COUNT(*) AS n FROM {db.name(table)} "
                                    "WHERE athlete_id = %s", (athlete_id,))[0]["n"])
                for view in runtime.views.values() for table in view.tables}

    before = rows()
    assert {t for t, n in before.items() if n == 0} <= {"tl_rm_dirty"}, before
    assert client.delete(f"/athletes/{athlete_id}", headers=me).status_code == 200
    runtime.feed.catch_up_all()
    runtime.feed.idle()
    assert rows() == dict.fromkeys(before, 0)
    assert MARKER not in dump(runtime)


@pytest.mark.kafka
def test_the_topics_copies_are_unreadable_after_erasure(
    settings: Settings, kafka_broker: TansuBroker, client: TestClient, runtime: Runtime,
) -> None:
    topic = f"test.events.{os.urandom(4).hex()}"
    athlete_id, _, _ = seed(client, runtime)
    publish_everything(runtime, kafka_broker.bootstrap, topic)
    transport = KafkaTransport(kafka_broker.bootstrap, runtime.keys)
    before = [d.event for chunk in read_topic(runtime.app, transport, topic) for d in chunk]
    assert any(getattr(e, "athlete_id", None) == athlete_id for e in before)

    key_id = TopicKeys(runtime.tables).key_id(athlete_id).encode()  # their records' key
    assert client.delete(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 200
    from kafka import TopicPartition

    from ingest import kafka_io

    consumer = kafka_io.make_consumer(kafka_broker.bootstrap, None)
    erased = 0
    try:
        for partition, end in kafka_io.end_offsets(kafka_broker.bootstrap, topic).items():
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, 0)
            seen = 0
            while seen < end:
                for record in consumer.poll(timeout_ms=1000).get(tp, []):
                    seen = record.offset + 1
                    assert MARKER.encode() not in record.value
                    if key_id == record.key:
                        erased += 1
                        with pytest.raises(KeyErased):
                            open_envelope(record.value, runtime.keys,
                                          TopicKeys(runtime.tables))
    finally:
        consumer.close()
    assert erased > 0
    # a fresh process reading the topic (keys from the database) sees none of it either
    fresh = open_runtime(replace(runtime.settings))
    try:
        fresh_transport = KafkaTransport(kafka_broker.bootstrap, fresh.keys)
        after = [d.event for chunk in read_topic(fresh.app, fresh_transport, topic)
                 for d in chunk]
    finally:
        fresh.close()
    assert not any(getattr(e, "athlete_id", None) == athlete_id or
                   str(e.originator_id) == athlete_id for e in after)
    assert len(after) < len(before)
