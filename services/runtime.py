"""Wiring: the application, its service tables and token store for a given configuration."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
from psycopg import sql

from ingest.fit.artifacts import ArtifactStore, upgrade_device_files
from ingest.fit.importer import fit_handler
from ingest.fit.quarantine import Quarantine
from ingest.fit.seen_files import SeenFiles
from ingest.intake import ImportStore, IntakeProcessor
from ingest.relay import create_relay_table
from ingest.topic_keys import create_topic_keys_table
from projections import dead_letters
from projections.base import OFFSETS, View
from projections.directory import Directory, DirectoryView
from projections.log_feed import LogFeed
from projections.registry import all_views, retire_old_views
from services.application import TrainingLog
from services.config import ConfigError, Settings
from services.erasure import finish_pending
from services.erasure_watch import ErasureWatch
from services.key_file import KeyFile, master_key
from services.keyring import KeyRing
from services.private_files import make_process_private, tighten
from services.slot_backfill import fill_linked_slots
from services.tables import ServiceTables
from services.tokens import TokenStore


@dataclass
class Runtime:
    settings: Settings
    app: TrainingLog
    tables: ServiceTables
    tokens: TokenStore
    feed: LogFeed
    directory: Directory
    views: dict[str, View]  # fed by the transport: the log here, or Kafka (services.workers)
    keys: KeyRing
    imports: ImportStore
    intake: IntakeProcessor
    artifacts: ArtifactStore
    seen_files: SeenFiles

    def view_lag(self) -> dict[str, int]:
        """Per view: the stored events it has not applied yet, plus the work it deferred
        (``View.pending``) and the events parked (``projections.dead_letters``).  Zero
        means every read reflects every stored event."""
        parked = dead_letters.counts(self.tables)
        lag = self.feed.lag() if not self.settings.kafka_bootstrap else {
            name: behind + self.views[name].pending(self.tables)
            for name, behind in self.unread().items()}
        return {name: behind + parked.get(name, 0) for name, behind in lag.items()}

    def unread(self) -> dict[str, int]:
        """Per view: the stored events it has not applied yet.

        With Kafka, from our own bookkeeping (no broker call): events not yet published, plus,
        per partition, what the relay published beyond the view's next offset."""
        if not self.settings.kafka_bootstrap:
            return self.feed.unread()
        head = int(self.app.recorder.max_notification_id() or 0)
        topic = self.settings.events_topic
        relay = self.tables.query(f"SELECT position, partition_ends FROM "
                                  f"{self.tables.name('tl_relay')} WHERE topic = %s", (topic,))
        published, ends = 0, {}
        if relay:
            published = int(relay[0]["position"])
            ends = {int(p): int(o) for p, o in json.loads(relay[0]["partition_ends"]).items()}
        unread = {}
        for name in self.views:
            rows = self.tables.query(
                f"SELECT partition, next_offset FROM {self.tables.name(OFFSETS)} "
                "WHERE view = %s AND topic = %s", (name, topic))
            read = {int(r["partition"]): int(r["next_offset"]) for r in rows}
            behind = sum(max(end - read.get(p, 0), 0) for p, end in ends.items())
            unread[name] = (head - published) + behind
        return unread

    def close(self) -> None:
        self.app.close()


def ensure_postgres_schema(env: dict[str, str]) -> None:
    """Create the configured schema (the library creates tables, not schemas)."""
    schema = env.get("POSTGRES_SCHEMA")
    if not schema:
        return
    try:
        with psycopg.connect(
            dbname=env["POSTGRES_DBNAME"],
            host=env["POSTGRES_HOST"],
            port=int(env["POSTGRES_PORT"]),
            user=env["POSTGRES_USER"],
            password=env["POSTGRES_PASSWORD"] or None,
            connect_timeout=5,
            autocommit=True,
        ) as conn:
            conn.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema)))
    except psycopg.OperationalError as exc:
        raise ConfigError(f"cannot reach PostgreSQL: {exc}".strip()) from exc


@contextmanager
def startup_lock(env: dict[str, str]) -> Iterator[None]:
    """On PostgreSQL, one process at a time creates the schema's tables, indexes and
    functions (a session advisory lock per schema, released when the process dies).

    The API, the relay and the projection workers start together; their ``CREATE ... IF NOT
    EXISTS`` and ``CREATE OR REPLACE FUNCTION`` statements, run at once on the same catalog
    rows, failed one of them with "tuple concurrently updated" (a worker dead at start:
    bench/load.py with Kafka on PostgreSQL, about one start in six)."""
    if env.get("PERSISTENCE_MODULE") != "eventsourcing.postgres":
        yield
        return
    name = f"trainledger:startup:{env['POSTGRES_DBNAME']}:{env.get('POSTGRES_SCHEMA', '')}"
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)
    try:
        conn = psycopg.connect(dbname=env["POSTGRES_DBNAME"], host=env["POSTGRES_HOST"],
                               port=int(env["POSTGRES_PORT"]), user=env["POSTGRES_USER"],
                               password=env["POSTGRES_PASSWORD"] or None, connect_timeout=5,
                               autocommit=True)
    except psycopg.OperationalError as exc:
        raise ConfigError(f"cannot reach PostgreSQL: {exc}".strip()) from exc
    with conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (key,))
        try:
            yield
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def open_runtime(settings: Settings, finish_erasures: bool = True) -> Runtime:
    """The runtime for ``settings``; ``finish_erasures``: finish erasures that failed
    half-way (``services.erasure``; a restore does it itself, once its rows are in).  What
    this process writes from now on is private to its user, and the data directory written
    before (database, keys, files) is made so too."""
    make_process_private()
    tighten(settings.data_dir)
    env = settings.store_env()
    with startup_lock(env):
        rt = _open_runtime(settings, env)
    if finish_erasures:
        finish_pending(rt)
    return rt


def _open_runtime(settings: Settings, env: dict[str, str]) -> Runtime:
    if settings.backend == "postgres":
        ensure_postgres_schema(env)
    app = TrainingLog(env=env)
    tables = ServiceTables(app)
    admin_token, _ = settings.ensure_admin_token()
    directory = DirectoryView()
    keys = KeyRing(tables, KeyFile(settings.data_dir, master_key(settings.master_key)))
    app.keyed_mapper.keys = keys  # stored payloads are encrypted with their athlete's key
    views = all_views()
    fed_here = [directory] if settings.kafka_bootstrap else [directory, *views.values()]
    feed = LogFeed(app, tables, fed_here)
    feed.before_batch = ErasureWatch(keys, tables, fed_here)
    for view in views.values():  # present even before a projection worker first runs
        view.create(tables)
    retire_old_views(tables)
    create_relay_table(tables)  # read by view_lag even where no relay runs
    create_topic_keys_table(tables)  # erasure deletes from it, with or without Kafka
    upgrade_device_files(app, tables, settings.data_dir)  # reads imports as they were
    fill_linked_slots(app, tables)
    imports = ImportStore(tables)
    artifacts = ArtifactStore(tables, Quarantine(
        settings.data_dir / "quarantine", settings.quarantine_bytes, settings.quarantine_days),
        settings.data_dir)
    intake = IntakeProcessor(app, imports, {"fit": fit_handler(artifacts)},
                             before=keys.refresh)
    return Runtime(settings, app, tables, TokenStore(tables, admin_token), feed,
                   Directory(feed, directory), views, keys, imports, intake,
                   artifacts, SeenFiles(tables))
