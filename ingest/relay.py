"""Outbox relay: the event store's notification log, in order, onto the events topic.

Delivery is at least once.  The relay's position lives in our database and advances only
after the broker acknowledged a batch (``acks=all``), so a crash republishes, never skips.
It also remembers each partition's end offset: when the broker hands back offsets lower than
that, or the topic's end offsets fall below it, the topic was lost or recreated, and the relay
republishes everything from the start (views skip what they already applied).

Records are keyed by their owner's opaque key id (:mod:`ingest.topic_keys`), so each owner's
events share a partition.  A topic that an earlier version filled (keyed by athlete id, in
envelope version 1) keeps sending each owner to the partition their athlete id hashes to,
the one their earlier records are in, so that their events stay in order; once that topic is
lost or deleted, the republished one is partitioned by key id (``tl_relay_partitioning``).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import OrderedDict
from typing import Any
from uuid import UUID

from kafka.partitioner.default import murmur2

from ingest import kafka_io
from ingest.envelope import seal
from ingest.topic_keys import TopicKeys
from services.application import TrainingLog
from services.keyring import KeyErased, KeyRing
from services.tables import ServiceTables

TABLE = "tl_relay"
PARTITIONING = "tl_relay_partitioning"
BY_KEY_ID, BY_OWNER = "key_id", "owner"  # BY_OWNER: a topic filled by an earlier version
BATCH = 500
log = logging.getLogger("trainledger.relay")


def create_relay_table(db: ServiceTables) -> None:
    """The relay's position and each partition's end offset, per topic."""
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(TABLE)} (topic TEXT PRIMARY KEY, "
               "position BIGINT NOT NULL, partition_ends TEXT NOT NULL)")
    db.execute(f"CREATE TABLE IF NOT EXISTS {db.name(PARTITIONING)} "
               "(topic TEXT PRIMARY KEY, partition_by TEXT NOT NULL)")


class TopicRecreated(Exception):
    """The topic holds less than we published: republish from the start."""


class Relay:
    def __init__(self, app: TrainingLog, db: ServiceTables, keys: KeyRing,
                 bootstrap: str, topic: str, partitions: int = 3) -> None:
        self.app = app
        self.db = db
        self.keys = keys
        self.bootstrap = bootstrap
        self.topic = topic
        self.partitions = partitions
        self._producer: Any = None
        self._owners: OrderedDict[str, str | None] = OrderedDict()
        self.topic_keys = TopicKeys(db)
        self._partition_by: str | None = None
        create_relay_table(db)

    # ------------------------------------------------------------- state

    def state(self) -> tuple[int, dict[int, int]]:
        rows = self.db.query(f"SELECT position, partition_ends FROM {self.db.name(TABLE)} "
                             "WHERE topic = %s", (self.topic,))
        if not rows:
            return 0, {}
        ends = {int(p): int(o) for p, o in json.loads(rows[0]["partition_ends"]).items()}
        return int(rows[0]["position"]), ends

    def _save(self, position: int, ends: dict[int, int]) -> None:
        self.db.execute(
            f"INSERT INTO {self.db.name(TABLE)} AS r (topic, position, partition_ends) "
            "VALUES (%s, %s, %s) ON CONFLICT (topic) DO UPDATE "
            "SET position = excluded.position, partition_ends = excluded.partition_ends",
            (self.topic, position, json.dumps(ends)),
        )

    def partition_by(self) -> str:
        """BY_OWNER on a topic an earlier version published to (first start after the
        upgrade: the relay had a position, no partitioning row), else BY_KEY_ID."""
        if self._partition_by is None:
            rows = self.db.query(f"SELECT partition_by FROM {self.db.name(PARTITIONING)} "
                                 "WHERE topic = %s", (self.topic,))
            if rows:
                self._partition_by = str(rows[0]["partition_by"])
            else:
                self._set_partitioning(BY_OWNER if self.state()[0] > 0 else BY_KEY_ID)
        assert self._partition_by is not None
        return self._partition_by

    def _set_partitioning(self, by: str) -> None:
        self.db.execute(
            f"INSERT INTO {self.db.name(PARTITIONING)} (topic, partition_by) VALUES (%s, %s) "
            "ON CONFLICT (topic) DO UPDATE SET partition_by = excluded.partition_by",
            (self.topic, by))
        self._partition_by = by

    # ------------------------------------------------------------- owners

    def athlete_of(self, originator_id: UUID | str, state: dict[str, Any]) -> str | None:
        """The athlete an event belongs to (None for coach accounts)."""
        aggregate_id = str(originator_id)
        if aggregate_id in self._owners:
            self._owners.move_to_end(aggregate_id)
            return self._owners[aggregate_id]
        if "athlete_id" in state:
            owner: str | None = state["athlete_id"]
        elif "profile" in state:  # Athlete.Registered
            owner = aggregate_id
        else:
            aggregate: Any = self.app.repository.get(UUID(aggregate_id))
            owner = getattr(aggregate, "athlete_id", None)
            if owner is None and type(aggregate).__name__ == "Athlete":
                owner = aggregate_id
        self._owners[aggregate_id] = owner
        if len(self._owners) > 100_000:
            self._owners.popitem(last=False)
        return owner

    # ------------------------------------------------------------- publishing

    def _connect(self) -> Any:
        if self._producer is None:
            kafka_io.ensure_topic(self.bootstrap, self.topic, self.partitions,
                                  {"retention.ms": "-1"})
            self._producer = kafka_io.make_producer(self.bootstrap)
        return self._producer

    def close(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=5)
            finally:
                self._producer = None

    def check_topic(self) -> None:
        """Raise TopicRecreated if the topic now ends before what we published."""
        _, ends = self.state()
        if not ends:
            return
        current = kafka_io.end_offsets(self.bootstrap, self.topic)
        if any(current.get(p, 0) < end for p, end in ends.items()):
            raise TopicRecreated(f"{self.topic} ends at {current}, we published up to {ends}")

    def publish_batch(self) -> int:
        """Publish the next batch; returns how many events went out (0: caught up)."""
        position, ends = self.state()
        notifications = self.app.recorder.select_notifications(
            start=position, limit=BATCH, inclusive_of_start=False)
        self.keys.refresh()  # erased elsewhere since the last batch: none of theirs goes out
        if not notifications:
            return 0
        producer = self._connect()
        by_owner = self.partition_by() == BY_OWNER
        partitions = len(producer.partitions_for(self.topic)) if by_owner else 0
        records = []  # seal the whole batch first: sends then go out back to back (+24%)
        erased_before = len(self.keys.erased)
        for n in notifications:
            try:
                plain = self.app.keyed_mapper.plain_state(n)
                state = json.loads(plain)  # no need to rebuild the event object
                athlete = self.athlete_of(n.originator_id, state)
                key, value = seal(n, plain, state, athlete, self.keys, self.topic_keys)
            except KeyErased:
                continue  # the athlete was erased: nothing of theirs goes out
            owner = athlete or str(n.originator_id)
            partition = (murmur2(owner.encode()) & 0x7FFFFFFF) % partitions if by_owner else None
            records.append((owner, key, value, partition))
        self.keys.refresh()  # erased while we sealed: theirs stay here too
        gone = set(self.keys.erased[erased_before:])
        futures = [producer.send(self.topic, key=key, value=value, partition=partition)
                   for owner, key, value, partition in records if owner not in gone]
        producer.flush()
        new_ends = dict(ends)
        for future in futures:
            meta = future.get(timeout=30)  # raises if the broker refused it
            if meta.offset < 0:  # a re-sent batch the broker already had (idempotence)
                continue
            if meta.offset < ends.get(meta.partition, 0):
                raise TopicRecreated(f"{self.topic}[{meta.partition}] restarted at "
                                     f"offset {meta.offset}")
            new_ends[meta.partition] = max(new_ends.get(meta.partition, 0), meta.offset + 1)
        self._save(notifications[-1].id, new_ends)
        return len(notifications)

    def republish_all(self) -> None:
        log.warning("topic %s was lost or recreated: republishing from the start", self.topic)
        self._save(0, {})
        self._set_partitioning(BY_KEY_ID)  # a new topic: no earlier records to follow

    def run(self, stop: threading.Event, wake: threading.Event | None = None,
            idle: float = 0.2, check_every: float = 5.0) -> None:
        """Publish until ``stop`` is set; survives broker outages (retries with backoff)."""
        backoff = 0.5
        last_check = 0.0
        while not stop.is_set():
            try:
                if time.monotonic() - last_check > check_every:
                    self._connect()
                    self.check_topic()
                    last_check = time.monotonic()
                sent = self.publish_batch()
                backoff = 0.5
                if not sent:
                    if wake is not None:
                        wake.wait(idle)
                        wake.clear()
                    else:
                        stop.wait(idle)
            except TopicRecreated:
                self.republish_all()
            except Exception as exc:  # broker down or refusing: keep our position, retry
                log.warning("relay: %s; retrying in %.1f s", exc, backoff)
                self.close()
                # The broker may have come back without the topic (Tansu keeps nothing; a
                # cluster can be lost): check before the next batch.  Published first and
                # found out after, that batch sat at the head of the new topic, before the
                # republished history, and a view reading it from offset 0 applied those
                # later versions first, then skipped the earlier ones as already seen
                # (bench/load.py --fault broker-restart: sets missing from the view).
                last_check = 0.0
                stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
        self.close()
