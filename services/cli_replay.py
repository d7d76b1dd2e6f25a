"""``trainledger replay``: rebuild views from the event store and compare them with the live ones.

  trainledger replay [--view NAME ...] [--until DATE] [--in-place] [--from-topic] [--data-dir D]

By default the views are rebuilt into a scratch SQLite database (deleted afterwards), so the
live views are never touched; the table shows, per view, the events read, events/s and the
rebuilt content hash beside the live one (equal when the live view is sound).  ``--until``
rebuilds what the views said at that moment (recorded by then, evaluated for that day, as the
API's ``as_of``).  ``--in-place`` replaces the live views instead (stop the workers first).
``--from-topic`` reads the events from the Kafka topic, offset 0 to its end, instead of the
store (Kafka must be configured).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from projections.base import View
from projections.parallel_replay import Parallel
from projections.replay import replay
from services.application import TrainingLog
from services.config import Settings
from services.key_file import KeyFile, master_key
from services.keyring import KeyRing
from services.tables import ServiceTables


def scratch_tables(directory: Path) -> tuple[TrainingLog, ServiceTables]:
    """An empty SQLite database to rebuild views into."""
    directory.mkdir(parents=True, exist_ok=True)
    app = TrainingLog(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                           "SQLITE_DBNAME": str(directory / "replay.sqlite3")})
    return app, ServiceTables(app)


def sqlite_file(path: Path) -> tuple[ServiceTables, Callable[[], None]]:
    """A rebuild worker's SQLite database (its scratch one, or the target), and how to
    close it."""
    app = TrainingLog(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite",
                           "SQLITE_DBNAME": str(path)})
    return ServiceTables(app), app.close


def source_opener(settings: Settings) -> Callable[[], tuple[TrainingLog, Callable[[], None]]]:
    """How a rebuild worker opens the store of ``settings`` (with the key ring), read only."""
    def open_source() -> tuple[TrainingLog, Callable[[], None]]:
        app = TrainingLog(env={**settings.store_env(), "CREATE_TABLE": "false"})
        app.keyed_mapper.keys = KeyRing(ServiceTables(app), KeyFile(
            settings.data_dir, master_key(settings.master_key)))
        return app, app.close
    return open_source


def in_parts(settings: Settings, jobs: int | None) -> Parallel:
    """Rebuild workers: ``jobs``, by default one per core."""
    return Parallel(jobs or os.cpu_count() or 1, source_opener(settings), sqlite_file)


def progress(done: int, total: int, seconds: float) -> None:
    rate = done / seconds if seconds else 0.0
    bar = "#" * (30 * done // max(total, 1))
    print(f"\r[{bar:<30}] {done:,}/{total:,} events  {rate:,.0f} events/s", end="",
          file=sys.stderr, flush=True)


def cmd_replay(args: argparse.Namespace, runtime: Any) -> int:
    from services.cli import CliError

    if args.in_place and args.until:
        raise CliError("--in-place rebuilds the live views from everything: drop --until")
    rt = runtime(args)
    try:
        names = args.view or list(rt.views)
        unknown = sorted(set(names) - set(rt.views))
        if unknown:
            raise CliError(f"unknown view {unknown[0]!r}; views: {', '.join(rt.views)}")
        views: list[View] = [rt.views[n] for n in names]
        live = {v.name: v.content_hash(rt.tables) for v in views}
        source, total = None, None
        if args.from_topic:
            from ingest.kafka_transport import KafkaTransport
            from projections.kafka_feed import read_topic, topic_size

            bootstrap, topic = rt.settings.kafka_bootstrap, rt.settings.events_topic
            if not bootstrap:
                raise CliError("--from-topic needs Kafka: set TRAINLEDGER_KAFKA_BOOTSTRAP")
            transport = KafkaTransport(bootstrap, rt.keys)
            source = read_topic(rt.app, transport, topic)
            total = topic_size(transport, topic)
        with tempfile.TemporaryDirectory(prefix="trainledger-replay-") as tmp:
            if args.in_place:
                results = replay(rt.app, rt.tables, views, progress=progress, source=source,
                                 total=total, parallel=in_parts(rt.settings, args.jobs))
            else:
                scratch, target = scratch_tables(Path(tmp))
                try:
                    results = replay(rt.app, target, views, args.until, progress,
                                     source=source, total=total,
                                     parallel=in_parts(rt.settings, args.jobs))
                finally:
                    scratch.close()
        print(file=sys.stderr)
        print(f"{'view':10s} {'events':>10s} {'events/s':>10s}  rebuilt hash  "
              f"{'live hash' if not args.until else ''}")
        for r in results:
            rate = r.events / r.seconds if r.seconds else 0.0
            same = "" if args.until or args.in_place else (
                "  equal" if live[r.view] == r.content_hash else "  DIFFERENT")
            print(f"{r.view:10s} {r.events:>10,} {rate:>10,.0f}  {r.content_hash[:12]}  "
                  f"{'' if args.until else live[r.view][:12]}{same}")
    finally:
        rt.close()
    return 0


def add_parser(sub: Any, runtime: Any) -> None:
    replay_cmd = sub.add_parser("replay", help="rebuild views from the event store")
    replay_cmd.add_argument("--view", action="append", metavar="NAME",
                            help="a view to rebuild (repeatable; default: all)")
    replay_cmd.add_argument("--until", metavar="DATE",
                            help="as of this ISO date or date-time (recorded by then)")
    replay_cmd.add_argument("--in-place", action="store_true",
                            help="replace the live views instead of a scratch copy")
    replay_cmd.add_argument("--from-topic", action="store_true",
                            help="read the events from the Kafka topic (offset 0) instead")
    replay_cmd.add_argument("--jobs", type=int, metavar="N",
                            help="processes rebuilding the athletes (default: one per core)")
    replay_cmd.add_argument("--data-dir", default=argparse.SUPPRESS)
    replay_cmd.set_defaults(func=lambda args: cmd_replay(args, runtime))
