"""Feeds a view from the events topic, as the consumer group ``trainledger.projection.<name>``.

Partitions break the global order of notification positions, so the view keeps, in the same
transaction as its rows, the next offset of every (topic, partition) it reads and the last
applied version of every aggregate (see :mod:`projections.base`).  On assignment it seeks to
its own stored offsets, unless the topic was recreated (its end offset is below the stored
one, or its topic id changed): then it reads the new topic from the start, and the version
bookkeeping skips what the view already holds.  A recreation while running shows up as an
out-of-range offset (the consumer then resets to the earliest) or, within
``TOPIC_CHECK_SECONDS``, as a new topic id (the feed rejoins).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from eventsourcing.application import Application

from ingest import kafka_io
from ingest.envelope import open_envelope
from projections.base import OFFSETS, View, apply_events, create_tracking
from services.keyring import KeyErased, KeyRing
from services.tables import ServiceTables, Tx

log = logging.getLogger("trainledger.projections")
GROUP_PREFIX = "trainledger.projection."
TOPIC_CHECK_SECONDS = 5.0


class KafkaFeed:
    def __init__(self, app: Application[Any], db: ServiceTables, keys: KeyRing, view: View,
                 bootstrap: str, topic: str) -> None:
        self.app = app
        self.db = db
        self.keys = keys
        self.view = view
        self.bootstrap = bootstrap
        self.topic = topic
        self.wanted = set(view.topics)
        self._consumer: Any = None
        self._topic_id: str | None = None
        self._checked = 0.0
        create_tracking(db)
        view.create(db)

    def stored_offsets(self) -> dict[int, tuple[int, str | None]]:
        rows = self.db.query(
            f"SELECT partition, next_offset, topic_id FROM {self.db.name(OFFSETS)} "
            "WHERE view = %s AND topic = %s", (self.view.name, self.topic))
        return {int(r["partition"]): (int(r["next_offset"]), r["topic_id"]) for r in rows}

    def _check_recreated(self) -> None:
        """Before joining: if the topic was recreated, start our offsets over from 0."""
        self._topic_id = kafka_io.topic_id(self.bootstrap, self.topic)
        ends = kafka_io.end_offsets(self.bootstrap, self.topic)
        stored = self.stored_offsets()
        recreated = [
            p for p, (offset, known_id) in stored.items()
            if ends.get(p, 0) < offset
            or (self._topic_id and known_id and known_id != self._topic_id)
        ]
        if recreated:
            log.warning("%s: topic %s was recreated; reading it from the start",
                        self.view.name, self.topic)
            with self.db.transaction() as tx:
                for partition in stored:
                    self._save_offset(tx, partition, 0, self._topic_id)

    def connect(self) -> Any:
        if self._consumer is None:
            from kafka.consumer.subscription_state import AsyncConsumerRebalanceListener

            feed = self

            class SeekToStored(AsyncConsumerRebalanceListener):  # type: ignore[misc]
                """Assigned partitions resume at the view's own offsets (0 if none yet).
                Runs on the consumer's IO loop: only a local read and seeks, no broker calls."""

                async def on_partitions_revoked(self, revoked: Any) -> None:
                    return None

                async def on_partitions_assigned(self, assigned: Any) -> None:
                    stored = feed.stored_offsets()
                    for tp in assigned:
                        feed._consumer.seek(tp, stored.get(tp.partition, (0, None))[0])

            kafka_io.ensure_topic(self.bootstrap, self.topic, 3, {"retention.ms": "-1"})
            self._check_recreated()
            self._consumer = kafka_io.make_consumer(self.bootstrap,
                                                    GROUP_PREFIX + self.view.name)
            self._consumer.subscribe([self.topic], listener=SeekToStored())
            self._checked = time.monotonic()
        elif time.monotonic() - self._checked > TOPIC_CHECK_SECONDS:
            self._checked = time.monotonic()
            if kafka_io.topic_id(self.bootstrap, self.topic) != self._topic_id:
                self.close()  # the topic was recreated under us: rejoin from our offsets
                return self.connect()
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            try:
                kafka_io.close_consumer(self._consumer)
            finally:
                self._consumer = None

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Apply one poll's worth of records; returns how many events changed the view."""
        consumer = self.connect()
        batches = consumer.poll(timeout_ms=timeout_ms, max_records=1000)
        applied = 0
        for tp, records in batches.items():
            events = []
            for record in records:
                try:
                    envelope = open_envelope(record.value, self.keys)
                except KeyErased:
                    continue  # the athlete's data was erased: nothing to read
                if envelope.stored.topic in self.wanted:
                    events.append(self.app.mapper.to_domain_event(envelope.stored))
            self.view.prepare(events)
            with self.db.transaction() as tx:
                applied += apply_events(tx, self.view, events)
                self._save_offset(tx, tp.partition, records[-1].offset + 1, self._topic_id)
        return applied

    def _save_offset(self, tx: Tx, partition: int, next_offset: int,
                     topic_id: str | None) -> None:
        tx.execute(
            f"INSERT INTO {tx.name(OFFSETS)} (view, topic, partition, next_offset, topic_id) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (view, topic, partition) DO UPDATE "
            "SET next_offset = excluded.next_offset, topic_id = excluded.topic_id",
            (self.view.name, self.topic, partition, next_offset, topic_id),
        )

    def run(self, stop: threading.Event) -> None:
        backoff = 0.5
        while not stop.is_set():
            try:
                self.poll_once()
                self.view.idle(self.db)  # settle what the poll changed
                backoff = 0.5
            except Exception as exc:  # broker down: our offsets are safe in the database
                log.warning("%s: %s; retrying in %.1f s", self.view.name, exc, backoff)
                self.close()
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.close()


def read_topic(app: Application[Any], keys: KeyRing, bootstrap: str, topic: str,
               chunk: int = 5000) -> Iterator[list[Any]]:
    """The whole topic from offset 0 to its current end, as domain events, a chunk at a time
    (replay from Kafka).  Partitions are read one after another: each holds whole athletes
    (the key is the athlete), in publication order.  Erased athletes' records are skipped."""
    from kafka import TopicPartition

    ends = kafka_io.end_offsets(bootstrap, topic)
    consumer = kafka_io.make_consumer(bootstrap, None)
    try:
        for partition, end in sorted(ends.items()):
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, 0)
            position, events = 0, []
            while position < end:
                for record in consumer.poll(timeout_ms=1000, max_records=chunk).get(tp, []):
                    position = record.offset + 1
                    if record.offset >= end:
                        break
                    try:
                        envelope = open_envelope(record.value, keys)
                    except KeyErased:
                        continue
                    events.append(app.mapper.to_domain_event(envelope.stored))
                if len(events) >= chunk:
                    yield events
                    events = []
            if events:
                yield events
    finally:
        consumer.close()


def topic_size(bootstrap: str, topic: str) -> int:
    return sum(kafka_io.end_offsets(bootstrap, topic).values())
