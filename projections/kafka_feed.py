"""Feeds a view from the events topic, as the consumer group ``<namespace>.projection.<name>``.

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
from collections.abc import Callable, Iterator
from typing import Any

from projections import dead_letters
from projections.base import OFFSETS, View, apply_events, create_tracking
from projections.source import Delivery, EventSource, deliver, describe
from projections.transport import Consumer, Transport
from services.tables import ServiceTables, Tx

log = logging.getLogger("trainledger.projections")
GROUP_PREFIX = "trainledger.projection."
TOPIC_CHECK_SECONDS = 5.0
PARTITIONS = 3  # if the feed creates the topic (the relay creates it with as many)
RETENTION = {"retention.ms": "-1"}


class KafkaFeed:
    """``source`` turns the records' stored events into domain events; ``transport`` reads
    the topic (``ingest.kafka_transport.KafkaTransport``: the broker and the key ring);
    ``before_batch`` runs before each poll's records are read (erasures made elsewhere)."""

    def __init__(self, source: EventSource, db: ServiceTables, transport: Transport,
                 view: View, topic: str, group_prefix: str = GROUP_PREFIX,
                 before_batch: Callable[[], None] | None = None) -> None:
        self.before_batch = before_batch or (lambda: None)
        self.source = source
        self.db = db
        self.transport = transport
        self.view = view
        self.topic = topic
        self.group = group_prefix + view.name
        self._consumer: Consumer | None = None
        self._topic_id: str | None = None
        self._checked = 0.0
        create_tracking(db)
        view.create(db)

    def stored_offsets(self) -> dict[int, tuple[int, str | None]]:
        rows = self.db.query(
            f"SELECT partition, next_offset, topic_id FROM {self.db.name(OFFSETS)} "
            "WHERE view = %s AND topic = %s", (self.view.name, self.topic))
        return {int(r["partition"]): (int(r["next_offset"]), r["topic_id"]) for r in rows}

    def _resume(self) -> dict[int, int]:
        """Where assigned partitions resume: the view's own offsets (0 if none yet).  Runs
        on the consumer's thread, during a poll: a local read only, no broker calls."""
        return {partition: offset for partition, (offset, _) in self.stored_offsets().items()}

    def _check_recreated(self) -> None:
        """Before joining: if the topic was recreated, start our offsets over from 0."""
        self._topic_id = self.transport.topic_id(self.topic)
        ends = self.transport.end_offsets(self.topic)
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

    def connect(self) -> Consumer:
        if self._consumer is None:
            self.transport.ensure_topic(self.topic, PARTITIONS, RETENTION)
            self._check_recreated()
            self._consumer = self.transport.make_consumer(self.group,
                                                          self.topic, self._resume)
            self._checked = time.monotonic()
        elif time.monotonic() - self._checked > TOPIC_CHECK_SECONDS:
            self._checked = time.monotonic()
            if self.transport.topic_id(self.topic) != self._topic_id:
                self.close()  # the topic was recreated under us: rejoin from our offsets
                return self.connect()
        return self._consumer

    def close(self) -> None:
        if self._consumer is not None:
            try:
                self.transport.close_consumer(self._consumer)
            finally:
                self._consumer = None

    def poll_once(self, timeout_ms: int = 500) -> int:
        """Apply one poll's worth of records; returns how many events changed the view."""
        consumer = self.connect()
        batches = consumer.poll(timeout_ms=timeout_ms, max_records=1000)
        self.before_batch()
        applied = 0
        for partition, records in batches.items():
            if not records:
                continue
            items = []
            for record in records:
                item = self._deliver(record, partition)
                if item is not None:
                    items.append(item)
            self.view.prepare([item.event for item in items if item.event is not None])
            with self.db.transaction() as tx:
                applied += apply_events(tx, self.view, items)
                self._save_offset(tx, partition, records[-1].offset + 1, self._topic_id)
        return applied

    def _deliver(self, record: Any, partition: int) -> Delivery | None:
        """A record for the view; None if erased or not an event the view handles.  A record
        that can't be opened is parked (it must not stop the view), as nobody's."""
        try:
            stored = self.transport.open(record.value)
        except Exception as exc:
            where = f"{self.topic}/{partition}@{record.offset}"
            log.warning("%s: record %s is not an event: %s", self.view.name, where,
                        describe(exc))
            return dead_letters.unopened(bytes(record.value or b""), where, describe(exc))
        if stored is None or not self.view.wants(stored.topic):
            return None
        return deliver(self.source, stored)

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


def read_topic(source: EventSource, transport: Transport, topic: str,
               chunk: int = 5000) -> Iterator[list[Delivery]]:
    """The whole topic from offset 0 to its current end, as deliveries, a chunk at a time
    (replay from Kafka).  Partitions are read one after another: each holds whole athletes
    (the key is the athlete), in publication order.  Erased athletes' records are skipped."""
    for partition, end in sorted(transport.end_offsets(topic).items()):
        if end <= 0:
            continue
        reader = transport.make_reader(topic, partition, 0)
        try:
            position, events = 0, []
            while position < end:
                for record in reader.poll(timeout_ms=1000, max_records=chunk).get(partition,
                                                                                  []):
                    position = record.offset + 1
                    if record.offset >= end:
                        break
                    try:
                        stored = transport.open(record.value)
                    except Exception as exc:  # parked live as nobody's: left out here
                        log.warning("record %s/%s@%s is not an event: %s", topic, partition,
                                    record.offset, describe(exc))
                        continue
                    item = deliver(source, stored) if stored is not None else None
                    if item is not None:
                        events.append(item)
                if len(events) >= chunk:
                    yield events
                    events = []
            if events:
                yield events
        finally:
            transport.close_consumer(reader)


def topic_size(transport: Transport, topic: str) -> int:
    """Records on the topic, all partitions (the events a topic replay reads)."""
    return sum(transport.end_offsets(topic).values())
