"""The topic envelope: in clear only the schema version, an opaque key id and the ciphertext;
after an erasure nothing on the topics names the athlete, a training time or a file hash
(RELIABILITY.md, Hardening II: Kafka names and the topic envelope)."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker, publish_everything
from support_topic import (
    envelope_schema,
    raw_records,
    schema_errors,
    seal_v1,
)
from support_workers import wait_until

from ingest import kafka_io
from ingest.envelope import open_envelope
from ingest.kafka_transport import KafkaTransport
from ingest.relay import BY_KEY_ID, BY_OWNER, PARTITIONING, Relay
from ingest.topic_keys import TABLE as TOPIC_KEYS
from ingest.topic_keys import TopicKeys
from projections.kafka_feed import read_topic
from projections.replay import replay
from services.api.app import create_app
from services.cli_replay import scratch_tables
from services.config import Settings
from services.keyring import KeyErased
from services.runtime import Runtime, open_runtime
from services.workers import Workers

pytestmark = pytest.mark.kafka
LOGGED_AT = "2026-11-20T18:00"
IMPORTED_AT = "2026-10-05T06:30"
IMPORT = [{"started_at": f"{IMPORTED_AT}:00+00:00", "title": "Row",
           "sets": [{"exercise_id": "squat.back_squats", "reps": 3, "load": 90}],
           "end": {"ended_at": "2026-10-05T07:30:00+00:00", "session_rpe": 6}}]


def kafka_settings(settings: Settings, broker: TansuBroker) -> Settings:
    return replace(settings, kafka_bootstrap=broker.bootstrap,
                   namespace=f"t{os.urandom(4).hex()}", events_topic="")


def log_session(client: TestClient, athlete_id: str, token: str, at: str) -> str:
    r = client.post(f"/athletes/{athlete_id}/sessions", headers=bearer(token), json={
        "started_at": f"{at}:00Z", "title": "Squat",
        "sets": [{"exercise_id": "squat.back_squats", "reps": 5, "load": 100,
                  "performed_at": f"{at}:00Z"}]})
    assert r.status_code == 201, r.text
    return str(r.json()["session_id"])


def relayed(rt: Runtime) -> bool:
    head = int(rt.app.recorder.max_notification_id() or 0)
    rows = rt.tables.query(f"SELECT position FROM {rt.tables.name('tl_relay')}")
    return bool(rows) and int(rows[0]["position"]) == head


def clear_bytes(bootstrap: str, *topics: str) -> list[bytes]:
    return [(r.key or b"") + b" " + r.value for t in topics for r in raw_records(bootstrap, t)]


def test_after_erasure_no_record_names_the_athlete_a_time_or_a_file_hash(
    settings: Settings, kafka_broker: TansuBroker
) -> None:
    rt = open_runtime(kafka_settings(settings, kafka_broker))
    topics = (rt.settings.events_topic, rt.settings.intake_topic)
    workers = Workers(rt, views=[]).start()
    try:
        with TestClient(create_app(rt)) as client:
            athlete_id, token = new_athlete(client, "Erin")
            log_session(client, athlete_id, token, LOGGED_AT)
            r = client.post(f"/athletes/{athlete_id}/imports", headers=bearer(token),
                            json={"sessions": IMPORT})
            import_id = r.json()["import_id"]
            r = client.get(f"/imports/{import_id}", params={"wait": 20}, headers=bearer(token))
            assert r.json()["status"] == "imported", r.json()
            record = rt.imports.get(import_id)
            assert record is not None
            wait_until(lambda: relayed(rt), what="the relay caught up")
            secrets = [athlete_id, LOGGED_AT, IMPORTED_AT, record.content_hash]

            # they travel, but only inside the ciphertext
            keys = TopicKeys(rt.tables)
            metas = [open_envelope(r.value, rt.keys, keys).meta
                     for r in raw_records(kafka_broker.bootstrap, topics[0])]
            inside = json.dumps(metas)
            assert all(secret in inside for secret in secrets)
            assert any((m["source"] or {}).get("file_hash") == record.content_hash
                       for m in metas)
            for raw in clear_bytes(kafka_broker.bootstrap, *topics):
                assert not [s for s in secrets if s.encode() in raw], raw[:200]

            assert client.delete(f"/athletes/{athlete_id}", headers=ADMIN).status_code == 200
    finally:
        workers.stop()
    try:
        raws = clear_bytes(kafka_broker.bootstrap, *topics)
        assert raws
        for raw in raws:
            assert not [s for s in secrets if s.encode() in raw], raw[:200]
        # the key id cannot be linked back: no row maps it, no salt recomputes it
        assert not rt.tables.query(f"SELECT * FROM {rt.tables.name(TOPIC_KEYS)} "
                                   "WHERE owner_id = %s", (athlete_id,))
        fresh = TopicKeys(rt.tables)
        for r in raw_records(kafka_broker.bootstrap, topics[0]):
            with pytest.raises(KeyErased):
                open_envelope(r.value, rt.keys, fresh)
    finally:
        rt.close()


def test_records_follow_the_published_schema(settings: Settings,
                                             kafka_broker: TansuBroker) -> None:
    rt = open_runtime(kafka_settings(settings, kafka_broker))
    try:
        with TestClient(create_app(rt)) as client:
            athlete_id, token = new_athlete(client, "Sam")
            log_session(client, athlete_id, token, LOGGED_AT)
        publish_everything(rt, kafka_broker.bootstrap, rt.settings.events_topic)
        schema = envelope_schema()
        records = raw_records(kafka_broker.bootstrap, rt.settings.events_topic)
        assert len(records) == rt.app.recorder.max_notification_id()
        keys = TopicKeys(rt.tables)
        for record in records:
            value = json.loads(record.value)
            assert schema_errors(value, schema) == []
            assert set(value) == {"schema_version", "key_id", "payload"}
            assert record.key.decode() == value["key_id"] == keys.key_id(athlete_id)
            meta = open_envelope(record.value, rt.keys, keys).meta
            assert schema_errors(meta, schema["$defs"]["metadata"]) == []
        # the checker is not blind: a clear athlete id, or no payload, breaks the schema
        value = json.loads(records[0].value)
        assert schema_errors({**value, "athlete_id": athlete_id}, schema)
        assert schema_errors({k: v for k, v in value.items() if k != "payload"}, schema)
        n = rt.app.recorder.select_notifications(start=1, limit=1)[0]
        plain = rt.app.keyed_mapper.plain_state(n)
        _, legacy = seal_v1(n, plain, json.loads(plain), athlete_id, rt.keys)
        assert schema_errors(json.loads(legacy), schema) == []
    finally:
        rt.close()


def publish_as_version_1(rt: Runtime, bootstrap: str, topic: str) -> None:
    """What the relay of an earlier version did: every event as envelope version 1, keyed by
    its owner's id, and the relay's position and partition ends saved."""
    relay = Relay(rt.app, rt.tables, rt.keys, bootstrap, topic)  # for athlete_of
    kafka_io.ensure_topic(bootstrap, topic, 3, {"retention.ms": "-1"})
    producer = kafka_io.make_producer(bootstrap)
    try:
        futures = []
        for n in rt.app.recorder.select_notifications(start=1, limit=100_000):
            plain = rt.app.keyed_mapper.plain_state(n)
            state = json.loads(plain)
            key, value = seal_v1(n, plain, state, relay.athlete_of(n.originator_id, state),
                                 rt.keys)
            futures.append(producer.send(topic, key=key, value=value))
        producer.flush()
        ends: dict[int, int] = {}
        for future in futures:
            meta = future.get(timeout=30)
            ends[meta.partition] = max(ends.get(meta.partition, 0), meta.offset + 1)
    finally:
        producer.close()
    relay._save(int(rt.app.recorder.max_notification_id() or 0), ends)


def test_a_topic_an_earlier_version_filled_is_still_read_in_order(
    settings: Settings, kafka_broker: TansuBroker, tmp_path: Path
) -> None:
    """Upgrade: the store and topic as an earlier version left them (version 1 records keyed
    by athlete id; no key-id or partitioning table), then this version carries on."""
    kafka = kafka_settings(settings, kafka_broker)
    topic = kafka.events_topic
    old = open_runtime(kafka)
    people: list[tuple[str, str]] = []
    try:
        with TestClient(create_app(old)) as client:
            for i in range(6):
                athlete_id, token = new_athlete(client, f"U{i}")
                people.append((athlete_id, token))
                log_session(client, athlete_id, token, LOGGED_AT)
        publish_as_version_1(old, kafka_broker.bootstrap, topic)
        for table in (TOPIC_KEYS, PARTITIONING):
            old.tables.execute(f"DROP TABLE {old.tables.name(table)}")
    finally:
        old.close()

    rt = open_runtime(kafka)
    try:
        with TestClient(create_app(rt)) as client:
            for athlete_id, token in people:
                log_session(client, athlete_id, token, "2026-11-27T09:00")
        publish_everything(rt, kafka_broker.bootstrap, topic)
        assert Relay(rt.app, rt.tables, rt.keys, kafka_broker.bootstrap,
                     topic).partition_by() == BY_OWNER
        head = int(rt.app.recorder.max_notification_id() or 0)
        records = raw_records(kafka_broker.bootstrap, topic)
        assert len(records) == head
        keys = TopicKeys(rt.tables)
        versions: dict[int, int] = {}
        partitions: dict[str, set[int]] = {}
        for record in records:
            version = json.loads(record.value)["schema_version"]
            versions[version] = versions.get(version, 0) + 1
            owner = open_envelope(record.value, rt.keys, keys).meta["key_owner"]
            partitions.setdefault(owner, set()).add(record.partition)
        assert set(versions) == {1, 2}
        assert all(len(found) == 1 for found in partitions.values()), partitions
        assert len({p for found in partitions.values() for p in found}) > 1

        transport = KafkaTransport(kafka_broker.bootstrap, rt.keys)
        views = list(rt.views.values())
        hashes: dict[str, dict[str, str]] = {}
        for name, source in (("store", None), ("topic", read_topic(rt.app, transport, topic))):
            scratch, target = scratch_tables(tmp_path / name)
            try:
                results = replay(rt.app, target, views, source=source)
            finally:
                scratch.close()
            assert all(r.events == head for r in results)
            hashes[name] = {r.view: r.content_hash for r in results}
        assert hashes["topic"] == hashes["store"]

        relay = Relay(rt.app, rt.tables, rt.keys, kafka_broker.bootstrap, topic)
        relay.republish_all()  # the topic was deleted: the new one is partitioned by key id
        assert relay.partition_by() == BY_KEY_ID
    finally:
        rt.close()
