"""The event topic as the Kafka feed sees it: the interface projections own, ingest implements.

:mod:`projections.kafka_feed` reads the events topic only through a :class:`Transport`
(``ingest.kafka_transport.KafkaTransport`` over kafka-python and the envelope, bound to a
broker and the key ring), which the services side builds and passes in.  Nothing here knows
a broker address, a client library or how an envelope is sealed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

from eventsourcing.persistence import StoredEvent


class Record(Protocol):
    """One record of a partition."""

    @property
    def offset(self) -> int: ...

    @property
    def value(self) -> bytes: ...


class Consumer(Protocol):
    def poll(self, timeout_ms: int, max_records: int) -> Mapping[int, Sequence[Record]]:
        """The records fetched, by partition, each partition's in offset order."""
        ...


class Transport(Protocol):
    def ensure_topic(self, topic: str, partitions: int, config: Mapping[str, str]) -> None:
        """Create the topic unless it exists (then leave it as it is)."""
        ...

    def topic_id(self, topic: str) -> str | None:
        """The topic's id, new on every creation; None if it does not exist or has none."""
        ...

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Per partition, the offset the next record will get; {} if there is no topic."""
        ...

    def make_consumer(self, group: str, topic: str,
                      resume: Callable[[], Mapping[int, int]]) -> Consumer:
        """A member of consumer group ``group`` subscribed to ``topic``.  Each partition it is
        assigned is read from ``resume()[partition]`` (0 if absent); ``resume`` may run on the
        consumer's own thread, during a poll, so it must not call the broker."""
        ...

    def make_reader(self, topic: str, partition: int, offset: int) -> Consumer:
        """A consumer in no group reading one partition of ``topic`` from ``offset``."""
        ...

    def close_consumer(self, consumer: Consumer) -> None:
        ...

    def open(self, value: bytes) -> StoredEvent | None:
        """The stored event a record carries; None if its athlete's data was erased."""
        ...
