"""ingest.kafka_io against a real Kafka-compatible broker (Tansu, one per test).

Besides checking the helpers, these tests pin the broker and client behaviour the relay and
the projection runner rely on: ordering per key, high watermarks, what a broker restart
loses, and how long a producer blocks when the broker is gone.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError, KafkaTimeoutError
from kafka_broker import TansuBroker, free_port

from ingest import kafka_io

pytestmark = pytest.mark.kafka

# Short client timeouts for the broker-down tests, and the slack allowed on top of them.
FAST = {"max_block_ms": 1000, "request_timeout_ms": 1000, "delivery_timeout_ms": 2000}
SLACK_S = 1.5


def _topic() -> str:
    return f"t-{uuid.uuid4().hex[:8]}"


def _elapsed(start: float) -> float:
    return time.monotonic() - start


def _consume(consumer: Any, count: int, timeout_s: float) -> list[Any]:
    records: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while len(records) < count and time.monotonic() < deadline:
        for batch in consumer.poll(timeout_ms=200).values():
            records.extend(batch)
    return records


def test_ensure_topic_is_idempotent(kafka_broker: TansuBroker) -> None:
    topic = _topic()
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic)
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic)  # exists: fine
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic, partitions=5)  # left as it is
    assert kafka_io.topic_partitions(kafka_broker.bootstrap, topic) == [0, 1, 2]

    other = _topic()
    kafka_io.ensure_topic(kafka_broker.bootstrap, other, 1, {"retention.ms": "-1"})
    assert kafka_io.topic_partitions(kafka_broker.bootstrap, other) == [0]
    assert kafka_io.topic_partitions(kafka_broker.bootstrap, "missing") == []

    consumer = kafka_io.make_consumer(kafka_broker.bootstrap, None)
    try:
        assert kafka_io.topic_partitions(consumer, topic) == [0, 1, 2]
        assert kafka_io.topic_partitions(consumer, "missing") == []
    finally:
        consumer.close()
    # Asking about a missing topic did not create it.
    assert kafka_io.topic_partitions(kafka_broker.bootstrap, "missing") == []

    tid = kafka_io.topic_id(kafka_broker.bootstrap, topic)
    assert tid is not None
    assert uuid.UUID(tid).int != 0
    assert kafka_io.topic_id(kafka_broker.bootstrap, topic) == tid
    assert kafka_io.topic_id(kafka_broker.bootstrap, other) != tid
    assert kafka_io.topic_id(kafka_broker.bootstrap, "missing") is None


def test_keyed_messages_come_back_in_order_per_key(kafka_broker: TansuBroker) -> None:
    topic = _topic()
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic)
    keys = [f"athlete-{i}".encode() for i in range(10)]

    producer = kafka_io.make_producer(kafka_broker.bootstrap)
    try:
        assert producer.config["enable_idempotence"] is True  # the broker accepted it
        assert producer.config["acks"] == -1
        futures = [
            (key, seq, producer.send(topic, key=key, value=f"{key.decode()}:{seq}".encode()))
            for seq in range(30)
            for key in keys
        ]
        producer.flush()
        acked = [(key, seq, f.get(timeout=5)) for key, seq, f in futures]
    finally:
        producer.close(timeout=5)
    assert len(acked) == 300
    partition_of = {key: meta.partition for key, _, meta in acked}
    assert all(meta.partition == partition_of[key] for key, _, meta in acked)
    assert len(set(partition_of.values())) > 1  # keys spread over the partitions
    per_partition: dict[int, int] = defaultdict(int)
    for _, _, meta in acked:
        per_partition[meta.partition] += 1

    ends = kafka_io.end_offsets(kafka_broker.bootstrap, topic)
    assert ends == {p: per_partition.get(p, 0) for p in range(3)}

    consumer = kafka_io.make_consumer(kafka_broker.bootstrap, "test-group")
    try:
        consumer.subscribe([topic])
        records = _consume(consumer, 300, timeout_s=15)
        assert len(records) == 300
        consumer.commit()
        committed = {p: consumer.committed(TopicPartition(topic, p)) for p in range(3)}
    finally:
        consumer.close()
    assert all(committed[p] == ends[p] for p in range(3) if ends[p])

    seen: dict[bytes, list[int]] = defaultdict(list)
    for record in records:
        assert record.partition == partition_of[record.key]
        name, seq = record.value.decode().split(":")
        assert name.encode() == record.key
        seen[record.key].append(int(seq))
    assert seen == {key: list(range(30)) for key in keys}
    offsets: dict[int, list[int]] = defaultdict(list)
    for record in records:
        offsets[record.partition].append(record.offset)
    assert all(o == list(range(ends[p])) for p, o in offsets.items())


def test_end_offsets_count_every_record_of_a_batch(kafka_broker: TansuBroker) -> None:
    topic = _topic()
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic)
    assert kafka_io.end_offsets(kafka_broker.bootstrap, topic) == {0: 0, 1: 0, 2: 0}
    assert kafka_io.end_offsets(kafka_broker.bootstrap, "missing") == {}

    # linger_ms makes the ten records one batch: Tansu's ListOffsets then reports the batch's
    # base offset + 1 instead of 10; end_offsets reads the high watermark from a fetch.
    producer = kafka_io.make_producer(kafka_broker.bootstrap, linger_ms=100)
    try:
        futures = [producer.send(topic, value=b"x", partition=1) for _ in range(10)]
        producer.flush()
        assert [f.get(timeout=5).offset for f in futures] == list(range(10))
        producer.send(topic, value=b"y", partition=2).get(timeout=5)
    finally:
        producer.close(timeout=5)
    assert kafka_io.end_offsets(kafka_broker.bootstrap, topic) == {0: 0, 1: 10, 2: 1}

    consumer = kafka_io.make_consumer(kafka_broker.bootstrap, None)
    try:
        listed = consumer.end_offsets([TopicPartition(topic, 1)])[TopicPartition(topic, 1)]
    finally:
        consumer.close()
    assert listed <= 10  # 1 on Tansu 0.6 (why end_offsets does not trust ListOffsets)


def test_broker_restart_loses_topics(kafka_broker: TansuBroker) -> None:
    bootstrap = kafka_broker.bootstrap
    topic = _topic()
    kafka_io.ensure_topic(bootstrap, topic)
    producer = kafka_io.make_producer(bootstrap, **FAST)
    for i in range(5):
        producer.send(topic, key=b"k", value=str(i).encode()).get(timeout=5)
    assert sum(kafka_io.end_offsets(bootstrap, topic).values()) == 5
    first_id = kafka_io.topic_id(bootstrap, topic)
    assert first_id is not None

    kafka_broker.restart(grace_s=0.2)
    assert kafka_broker.bootstrap == bootstrap  # same port
    try:
        assert kafka_io.topic_partitions(bootstrap, topic) == []
        assert kafka_io.topic_id(bootstrap, topic) is None
        assert kafka_io.end_offsets(bootstrap, topic) == {}

        kafka_io.ensure_topic(bootstrap, topic)
        assert kafka_io.end_offsets(bootstrap, topic) == {0: 0, 1: 0, 2: 0}
        second_id = kafka_io.topic_id(bootstrap, topic)
        assert second_id is not None
        assert second_id != first_id

        # The producer made before the restart carries an idempotent-producer id the new
        # broker never issued.  Tansu 0.6 fails its send (UnknownProducerId) and every send
        # after it (its InitProducerId retry gets UnknownError): it must be replaced.
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(KafkaError):
                producer.send(topic, key=b"k", value=b"after").get(timeout=10)
            assert _elapsed(start) < FAST["delivery_timeout_ms"] / 1000 + SLACK_S
    finally:
        producer.close(timeout=1)
    fresh = kafka_io.make_producer(bootstrap)
    try:
        assert fresh.send(topic, key=b"k", value=b"after").get(timeout=5).offset == 0
    finally:
        fresh.close(timeout=5)


def test_broker_available(kafka_broker: TansuBroker) -> None:
    assert kafka_io.broker_available(kafka_broker.bootstrap, 2.0)
    kafka_io.wait_for_broker(kafka_broker.bootstrap, 2.0)

    closed = f"127.0.0.1:{free_port()}"
    start = time.monotonic()
    assert not kafka_io.broker_available(closed, 2.0)
    assert _elapsed(start) < 0.5  # connection refused: no need to wait
    assert not kafka_io.broker_available("no-such-host.invalid:9092", 0.5)
    assert not kafka_io.broker_available("127.0.0.1:notaport", 0.5)
    assert not kafka_io.broker_available("", 0.5)

    start = time.monotonic()
    with pytest.raises(TimeoutError):
        kafka_io.wait_for_broker(closed, 0.5)
    assert _elapsed(start) < 0.5 + SLACK_S


def test_no_topic_is_created_by_sending(kafka_broker: TansuBroker) -> None:
    producer = kafka_io.make_producer(kafka_broker.bootstrap, max_block_ms=500)
    try:
        start = time.monotonic()
        with pytest.raises(KafkaTimeoutError):
            producer.send("never-created", value=b"x")
        assert 0.4 < _elapsed(start) < 0.5 + SLACK_S
    finally:
        producer.close(timeout=1)
    assert kafka_io.topic_partitions(kafka_broker.bootstrap, "never-created") == []


def test_producer_blocking_is_bounded_when_the_broker_is_down(kafka_broker: TansuBroker) -> None:
    topic = _topic()
    kafka_io.ensure_topic(kafka_broker.bootstrap, topic)
    producer = kafka_io.make_producer(kafka_broker.bootstrap, **FAST)
    try:
        producer.send(topic, key=b"k", value=b"up").get(timeout=5)
        kafka_broker.stop(grace_s=0.2)
        delivery_s = FAST["delivery_timeout_ms"] / 1000

        # Topic metadata is cached: send() returns at once, the future fails after
        # delivery_timeout_ms with KafkaTimeoutError ("Expiring 1 record(s) ...").
        start = time.monotonic()
        future = producer.send(topic, key=b"k", value=b"down-1")
        assert _elapsed(start) < 0.2
        with pytest.raises(KafkaTimeoutError, match="Expiring"):
            future.get(timeout=30)
        assert delivery_s - 0.2 < _elapsed(start) < delivery_s + SLACK_S

        # flush() waits as long, then returns without raising: only the futures tell.
        future = producer.send(topic, key=b"k", value=b"down-2")
        start = time.monotonic()
        producer.flush()
        assert delivery_s - 0.2 < _elapsed(start) < delivery_s + SLACK_S
        assert future.is_done
        assert isinstance(future.exception, KafkaTimeoutError)

        # flush(timeout) gives up first, with KafkaTimeoutError.
        producer.send(topic, key=b"k", value=b"down-3")
        start = time.monotonic()
        with pytest.raises(KafkaTimeoutError):
            producer.flush(timeout=0.5)
        assert _elapsed(start) < 0.5 + SLACK_S

        # No metadata for the topic: send() itself blocks max_block_ms, then raises.
        start = time.monotonic()
        with pytest.raises(KafkaTimeoutError, match="metadata"):
            producer.send(_topic(), key=b"k", value=b"down-4")
        assert 0.9 < _elapsed(start) < FAST["max_block_ms"] / 1000 + SLACK_S
    finally:
        producer.close(timeout=1)

    # A new client cannot bootstrap: KafkaTimeoutError after bootstrap_timeout_ms.
    start = time.monotonic()
    with pytest.raises(KafkaTimeoutError):
        kafka_io.make_producer(kafka_broker.bootstrap, bootstrap_timeout_ms=1000)
    assert 0.9 < _elapsed(start) < 1 + SLACK_S
    assert not kafka_io.broker_available(kafka_broker.bootstrap, 0.5)
