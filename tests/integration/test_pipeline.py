"""The Kafka pipeline against a real broker: relay, consumer groups, outages and crashes."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from conftest import ADMIN, bearer, new_athlete
from fastapi.testclient import TestClient
from kafka_broker import TansuBroker
from support_workers import spawn, wait_until

from ingest import kafka_io
from ingest.envelope import open_envelope
from ingest.topic_keys import TopicKeys
from projections.base import forget
from projections.log_feed import LogFeed
from projections.read_model import SESSIONS
from services.api.app import create_app
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime
from services.workers import Workers

pytestmark = pytest.mark.kafka
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def kafka_settings(settings: Settings, kafka_broker: TansuBroker) -> Settings:
    return replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                   events_topic=f"test.events.{os.urandom(4).hex()}")


@pytest.fixture
def kafka_runtime(kafka_settings: Settings) -> Iterator[Runtime]:
    rt = open_runtime(kafka_settings)
    yield rt
    rt.close()


def view_sets(rt: Runtime, session_id: str) -> int:
    rows = rt.tables.query(f"SELECT row_json FROM {rt.tables.name(SESSIONS)} "
                           "WHERE session_id = %s", (session_id,))
    return int(json.loads(rows[0]["row_json"])["sets"]) if rows else -1


def start_session(client: TestClient, athlete_id: str, token: str) -> str:
    r = client.post(f"/athletes/{athlete_id}/sessions",
                    json={"started_at": "2026-11-24T10:00:00Z"}, headers=bearer(token))
    assert r.status_code == 201, r.text
    return str(r.json()["session_id"])


def log_sets(client: TestClient, session_id: str, token: str, n: int, tag: str) -> None:
    for i in range(n):
        r = client.post(f"/sessions/{session_id}/sets",
                        json={"exercise_id": "squat.back_squats", "reps": 5, "load": 100},
                        headers=bearer(token, **{"Idempotency-Key": f"{tag}-{i}"}))
        assert r.status_code == 201, r.text


def rebuilt_hash(rt: Runtime) -> tuple[str, str]:
    """(live hash, hash after rebuilding the read model from the event store)."""
    view = rt.views["training"]
    live = view.content_hash(rt.tables)
    with rt.tables.transaction() as tx:
        forget(tx, view)
    LogFeed(rt.app, rt.tables, [view]).catch_up(view)
    view.idle(rt.tables)
    return live, view.content_hash(rt.tables)


def test_a_set_logged_through_the_api_reaches_the_view_via_kafka(kafka_runtime: Runtime) -> None:
    workers = Workers(kafka_runtime).start()
    try:
        with TestClient(create_app(kafka_runtime)) as client:
            athlete_id, token = new_athlete(client)
            session_id = start_session(client, athlete_id, token)
            log_sets(client, session_id, token, 3, "e2e")
            wait_until(lambda: view_sets(kafka_runtime, session_id) == 3, what="3 sets in view")
            health = client.get("/health", headers=ADMIN).json()
            assert health["delivery"] == "kafka"
            wait_until(lambda: client.get("/health", headers=bearer(token)).json()
                       ["view_lag"]["training"] == 0)
    finally:
        workers.stop()
    # nothing was fed in-process: the rows came through the topic
    offsets = kafka_runtime.tables.query(
        f"SELECT SUM(next_offset) AS n FROM {kafka_runtime.tables.name('tl_view_offsets')} "
        "WHERE view = 'training'")
    assert int(offsets[0]["n"]) >= 5  # athlete, session start, 3 sets


def test_broker_down_loses_nothing_and_counts_nothing_twice(
    kafka_runtime: Runtime, kafka_broker: TansuBroker
) -> None:
    workers = Workers(kafka_runtime).start()
    try:
        with TestClient(create_app(kafka_runtime)) as client:
            athlete_id, token = new_athlete(client)
            session_id = start_session(client, athlete_id, token)
            log_sets(client, session_id, token, 5, "before")
            wait_until(lambda: view_sets(kafka_runtime, session_id) == 5, what="first sets")

            kafka_broker.stop()
            began = time.monotonic()
            log_sets(client, session_id, token, 200, "down")  # every one accepted
            assert time.monotonic() - began < 30, "writes must not wait for the broker"
            assert view_sets(kafka_runtime, session_id) == 5

            kafka_broker.start()  # empty: as after losing the cluster
            wait_until(lambda: view_sets(kafka_runtime, session_id) == 205, timeout=90,
                       what="205 sets after the broker came back")
            time.sleep(3)  # republished duplicates keep arriving: they must not count
            assert view_sets(kafka_runtime, session_id) == 205
    finally:
        workers.stop()
    live, rebuilt = rebuilt_hash(kafka_runtime)
    assert live == rebuilt


def write_in_background(rt: Runtime, session_id: str, n: int, stop: threading.Event,
                        resume: threading.Event | None = None) -> threading.Thread:
    """``n`` sets, a steady stream; with ``resume``, the second half waits for it (so that
    whatever the machine's speed, half the stream comes after what the test does between)."""
    source = Source("system", principal_id="test")

    def write() -> None:
        for i in range(n):
            if i == n // 2 and resume is not None:
                resume.wait(timeout=120)
            if stop.is_set():
                return
            rt.app.log_set(Context(source, f"bg-{i}", "f"), session_id,
                           {"exercise_id": "squat.back_squats", "reps": 3, "load": 80.0})
            time.sleep(0.03)  # a steady stream, so the kill lands mid-way

    thread = threading.Thread(target=write)
    thread.start()
    return thread


def seeded_session(rt: Runtime) -> str:
    with TestClient(create_app(rt)) as client:
        athlete_id, token = new_athlete(client)
        return start_session(client, athlete_id, token)


@pytest.mark.parametrize("killed", ["project", "relay"])
def test_a_worker_killed_mid_stream_leaves_the_view_equal_to_a_rebuild(
    kafka_runtime: Runtime, kafka_settings: Settings, killed: str
) -> None:
    session_id = seeded_session(kafka_runtime)
    # the other half of the pipeline runs in this process
    in_process = (Workers(kafka_runtime, relay=True, views=[], log_feed=False) if killed ==
                  "project" else Workers(kafka_runtime, relay=False, log_feed=False))
    in_process.start()
    args = ("project", "training") if killed == "project" else ("relay",)
    worker = spawn(kafka_settings, *args)
    stop, killed = threading.Event(), threading.Event()
    writer = write_in_background(kafka_runtime, session_id, 300, stop, resume=killed)
    try:
        wait_until(lambda: view_sets(kafka_runtime, session_id) > 20, what="view moving")
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        killed.set()  # the second half of the stream arrives while the worker is dead
        assert view_sets(kafka_runtime, session_id) <= 150, "killed after the first half"
        worker = spawn(kafka_settings, *args)
        writer.join(timeout=60)
        wait_until(lambda: view_sets(kafka_runtime, session_id) == 300, timeout=90,
                   what="all 300 sets after the restart")
        time.sleep(2)
        assert view_sets(kafka_runtime, session_id) == 300
    finally:
        stop.set()
        writer.join(timeout=60)
        worker.terminate()
        worker.wait(timeout=15)
        in_process.stop()
    live, rebuilt = rebuilt_hash(kafka_runtime)
    assert live == rebuilt


def test_each_athletes_events_arrive_in_store_order(kafka_runtime: Runtime) -> None:
    workers = Workers(kafka_runtime, views=[], log_feed=False).start()
    try:
        with TestClient(create_app(kafka_runtime)) as client:
            people = [new_athlete(client, name=f"P{i}") for i in range(6)]
            sessions = [(start_session(client, a, t), t) for a, t in people]
            for round_ in range(10):
                for session_id, token in sessions:
                    log_sets(client, session_id, token, 1, f"r{round_}")
        head = int(kafka_runtime.app.recorder.max_notification_id() or 0)
        wait_until(lambda: int(kafka_runtime.tables.query(
            f"SELECT position FROM {kafka_runtime.tables.name('tl_relay')}")[0]["position"])
            == head, what="relay caught up")
    finally:
        workers.stop()
    consumer = kafka_io.make_consumer(kafka_runtime.settings.kafka_bootstrap or "", None)
    try:
        from kafka import TopicPartition

        topic = kafka_runtime.settings.events_topic
        parts = [TopicPartition(topic, p) for p in
                 kafka_io.topic_partitions(consumer, topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        records: list[Any] = []
        deadline = time.monotonic() + 20
        while len(records) < head and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=500).values():
                records.extend(batch)
    finally:
        consumer.close()
    assert len(records) == head
    by_athlete: dict[str, list[tuple[int, int]]] = {}
    partition_of: dict[str, set[int]] = {}
    keys = TopicKeys(kafka_runtime.tables)
    for record in records:
        meta = open_envelope(record.value, kafka_runtime.keys, keys).meta
        owner = meta["key_owner"]
        assert record.key.decode() == keys.key_id(owner)
        by_athlete.setdefault(owner, []).append((record.offset, meta["position"]))
        partition_of.setdefault(owner, set()).add(record.partition)
    assert len({p for ps in partition_of.values() for p in ps}) > 1, "spread over partitions"
    for owner, seen in by_athlete.items():
        assert len(partition_of[owner]) == 1, f"{owner} split across partitions"
        positions = [pos for _, pos in sorted(seen)]
        assert positions == sorted(positions), f"{owner}'s events out of store order"


def test_view_lag_counts_every_partitions_backlog(kafka_runtime: Runtime) -> None:
    """Lag is what the relay has not published plus, per partition, what the view has not read."""
    with TestClient(create_app(kafka_runtime)) as client:
        people = [new_athlete(client, name=f"L{i}") for i in range(4)]
        for athlete_id, token in people:
            log_sets(client, start_session(client, athlete_id, token), token, 2, athlete_id)
    head = int(kafka_runtime.app.recorder.max_notification_id() or 0)
    assert kafka_runtime.view_lag()["training"] == head  # nothing published yet
    relay_only = Workers(kafka_runtime, views=[], log_feed=False, intake=False).start()
    try:
        wait_until(lambda: kafka_runtime.view_lag()["training"] == head, what="published, unread")
    finally:
        relay_only.stop()
    feed = Workers(kafka_runtime, relay=False, log_feed=False, intake=False).start()
    try:
        wait_until(lambda: kafka_runtime.view_lag()["training"] == 0, what="every partition read")
    finally:
        feed.stop()
