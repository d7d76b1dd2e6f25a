"""The events topic over kafka-python: :class:`projections.transport.Transport` for the feeds.

One :class:`KafkaTransport` is bound to a broker (``bootstrap``) and to the key ring (and the
key ids of :mod:`ingest.topic_keys`, from the same database) that open the envelopes
(:mod:`ingest.envelope`); the services side builds it and hands it to
``projections.kafka_feed`` (the projection workers, ``trainledger replay --from-topic``).
Consumers are made with :mod:`ingest.kafka_io`'s settings and closed with its
``close_consumer`` (a consumer still joining its group leaves without LeaveGroup).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from eventsourcing.persistence import StoredEvent
from kafka import TopicPartition
from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener

from ingest import kafka_io
from ingest.envelope import open_envelope
from ingest.topic_keys import TopicKeys
from projections.transport import Consumer
from services.keyring import KeyErased, KeyRing


class PartitionConsumer:
    """A kafka-python consumer whose ``poll`` gives the records by partition number."""

    def __init__(self, consumer: Any) -> None:
        self.consumer = consumer

    def poll(self, timeout_ms: int, max_records: int) -> dict[int, list[Any]]:
        batches = self.consumer.poll(timeout_ms=timeout_ms, max_records=max_records)
        return {tp.partition: records for tp, records in batches.items()}


class KafkaTransport:
    def __init__(self, bootstrap: kafka_io.Bootstrap, keys: KeyRing) -> None:
        self.bootstrap = bootstrap
        self.keys = keys
        self.topic_keys = TopicKeys(keys.db)

    def ensure_topic(self, topic: str, partitions: int, config: Mapping[str, str]) -> None:
        kafka_io.ensure_topic(self.bootstrap, topic, partitions, config)

    def topic_id(self, topic: str) -> str | None:
        return kafka_io.topic_id(self.bootstrap, topic)

    def end_offsets(self, topic: str) -> dict[int, int]:
        return kafka_io.end_offsets(self.bootstrap, topic)

    def make_consumer(self, group: str, topic: str,
                      resume: Callable[[], Mapping[int, int]]) -> PartitionConsumer:
        consumer = kafka_io.make_consumer(self.bootstrap, group)

        class SeekToResume(AsyncConsumerRebalanceListener):  # type: ignore[misc]
            """Assigned partitions resume where ``resume`` says (0 if it has no offset).
            Runs on the consumer's IO loop: only ``resume`` and seeks, no broker calls."""

            async def on_partitions_revoked(self, revoked: Any) -> None:
                return None

            async def on_partitions_assigned(self, assigned: Any) -> None:
                offsets = resume()
                for tp in assigned:
                    consumer.seek(tp, offsets.get(tp.partition, 0))

        consumer.subscribe([topic], listener=SeekToResume())
        return PartitionConsumer(consumer)

    def make_reader(self, topic: str, partition: int, offset: int) -> PartitionConsumer:
        consumer = kafka_io.make_consumer(self.bootstrap, None)
        tp = TopicPartition(topic, partition)
        consumer.assign([tp])
        consumer.seek(tp, offset)
        return PartitionConsumer(consumer)

    def close_consumer(self, consumer: Consumer) -> None:
        kafka_io.close_consumer(
            consumer.consumer if isinstance(consumer, PartitionConsumer) else consumer)

    def open(self, value: bytes) -> StoredEvent | None:
        try:
            return open_envelope(value, self.keys, self.topic_keys).stored
        except KeyErased:
            return None  # the athlete's data was erased: nothing to read
