"""A broker that comes back without the topic, mid-stream: the relay republishes in order.

Found by ``bench/load.py --fault broker-restart``: the relay, already running, failed a batch
when the broker went away, then published its next batch onto the topic the broker came back
with (created empty by a view's consumer) before it checked that topic; only the offsets of
that batch told it the topic was new, and it republished the history after it.  A view
reading the new topic from offset 0 then applied those later versions first and skipped the
earlier ones as already seen: sets missing from the view for good, with a lag of 0.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kafka import TopicPartition
from kafka_broker import TansuBroker

from ingest import kafka_io
from ingest.envelope import open_envelope
from ingest.relay import Relay
from ingest.topic_keys import TopicKeys
from services.config import Settings
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime

pytestmark = pytest.mark.kafka


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def write_sets(rt: Runtime, session_id: str, n: int, tag: str) -> None:
    source = Source("system", principal_id="test")
    for i in range(n):
        rt.app.log_set(Context(source, f"{tag}-{i}", "f"), session_id,
                       {"exercise_id": "squat.back_squats", "reps": 5, "load": 100.0})


def topic_positions(rt: Runtime, topic: str, count: int) -> dict[int, list[int]]:
    """Store positions of the topic's records, per partition, in offset order."""
    bootstrap = rt.settings.kafka_bootstrap or ""
    keys = TopicKeys(rt.tables)
    consumer = kafka_io.make_consumer(bootstrap, None)
    try:
        parts = [TopicPartition(topic, p) for p in kafka_io.topic_partitions(consumer, topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        seen: dict[int, list[Any]] = {}
        deadline = time.monotonic() + 20
        while sum(len(v) for v in seen.values()) < count and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=300).items():
                seen.setdefault(tp.partition, []).extend(records)
    finally:
        consumer.close()
    return {p: [open_envelope(r.value, rt.keys, keys).meta["position"]
                for r in sorted(rs, key=lambda r: r.offset)] for p, rs in seen.items()}


def test_a_topic_lost_mid_stream_is_republished_in_store_order(
    settings: Settings, kafka_broker: TansuBroker
) -> None:
    topic = f"test.events.{os.urandom(4).hex()}"
    rt = open_runtime(replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                              events_topic=topic))
    stop, wake = threading.Event(), threading.Event()
    relay = Relay(rt.app, rt.tables, rt.keys, kafka_broker.bootstrap, topic)
    runner = threading.Thread(target=relay.run, args=(stop, wake))
    try:
        athlete = rt.app.register_athlete(Context(Source("admin")), {"name": "Ada"})
        session = rt.app.start_session(Context(Source("admin")), str(athlete.id),
                                       datetime.now(UTC) - timedelta(hours=1))
        write_sets(rt, str(session.id), 20, "before")
        runner.start()
        head = int(rt.app.recorder.max_notification_id() or 0)
        wait_until(lambda: relay.state()[0] == head, 30, "the first events published")

        kafka_broker.restart()  # back empty, on the same port
        kafka_io.ensure_topic(kafka_broker.bootstrap, topic, 3)  # as a view's consumer does
        write_sets(rt, str(session.id), 20, "after")
        wake.set()
        head = int(rt.app.recorder.max_notification_id() or 0)
        wait_until(lambda: relay.state()[0] == head, 60, "everything published again")
        stop.set()
        runner.join(timeout=30)
        positions = topic_positions(rt, topic, head)
    finally:
        stop.set()
        wake.set()
        if runner.is_alive():
            runner.join(timeout=30)
        rt.close()
    records = [p for ps in positions.values() for p in ps]
    assert set(records) == set(range(1, head + 1)), "every event on the new topic"
    for partition, seq in positions.items():
        assert seq == sorted(seq), f"partition {partition} out of store order: {seq}"
