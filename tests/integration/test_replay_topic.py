"""Replay from the Kafka topic (offset 0) gives the same views as replay from the store."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from kafka_broker import TansuBroker, publish_everything

from ingest.kafka_transport import KafkaTransport
from projections.kafka_feed import read_topic, topic_size
from projections.replay import replay
from services.cli_replay import scratch_tables
from services.config import Settings
from services.demo import seed_demo
from services.runtime import open_runtime

pytestmark = pytest.mark.kafka


def test_a_topic_replay_equals_a_store_replay(settings: Settings, kafka_broker: TansuBroker,
                                               tmp_path: Path) -> None:
    topic = f"test.events.{os.urandom(4).hex()}"
    rt = open_runtime(replace(settings, kafka_bootstrap=kafka_broker.bootstrap,
                              events_topic=topic))
    try:
        seed_demo(rt.app, today=date(2026, 10, 1))
        publish_everything(rt, kafka_broker.bootstrap, topic)
        head = int(rt.app.recorder.max_notification_id() or 0)
        transport = KafkaTransport(kafka_broker.bootstrap, rt.keys)
        assert topic_size(transport, topic) == head
        views = list(rt.views.values())
        hashes = {}
        for name, source in (("store", None), ("topic", read_topic(
                rt.app, transport, topic, chunk=300))):
            scratch, target = scratch_tables(tmp_path / name)
            try:
                results = replay(rt.app, target, views, source=source)
            finally:
                scratch.close()
            assert all(r.events == head for r in results)
            hashes[name] = {r.view: r.content_hash for r in results}
        assert hashes["topic"] == hashes["store"]
    finally:
        rt.close()
