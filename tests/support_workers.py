"""Helpers for tests that run trainledger's workers as separate processes (the compose
topology: ``trainledger relay``, ``project``, ``intake``) against a real broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from kafka import TopicPartition

from ingest import kafka_io
from services.config import Settings
from services.runtime import Runtime

ROOT = Path(__file__).resolve().parents[1]


def wait_until(check: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or check}")


def worker_env(settings: Settings) -> dict[str, str]:
    env = {**os.environ, "TRAINLEDGER_DATA_DIR": str(settings.data_dir),
           "TRAINLEDGER_ADMIN_TOKEN": settings.admin_token or "",
           "TRAINLEDGER_KAFKA_BOOTSTRAP": settings.kafka_bootstrap or "",
           "TRAINLEDGER_EVENTS_TOPIC": settings.events_topic, "PYTHONPATH": str(ROOT)}
    env.pop("TRAINLEDGER_DATABASE_URL", None)
    env.pop("TRAINLEDGER_MASTER_KEY", None)
    if settings.database_url:
        env["TRAINLEDGER_DATABASE_URL"] = settings.database_url
    if settings.master_key:
        env["TRAINLEDGER_MASTER_KEY"] = settings.master_key
    return env


def spawn(settings: Settings, *args: str, log: Path | None = None) -> subprocess.Popen[bytes]:
    """``python -m services.cli ARGS`` on ``settings``' store (output to ``log`` if given)."""
    out = log.open("ab") if log is not None else subprocess.DEVNULL
    return subprocess.Popen([sys.executable, "-m", "services.cli", *args],
                            env=worker_env(settings), cwd=ROOT, stdout=out,
                            stderr=subprocess.STDOUT)


def published_all(rt: Runtime) -> bool:
    """The relay's position is the store's head."""
    head = int(rt.app.recorder.max_notification_id() or 0)
    rows = rt.tables.query(f"SELECT position FROM {rt.tables.name('tl_relay')} "
                           "WHERE topic = %s", (rt.settings.events_topic,))
    return bool(rows) and int(rows[0]["position"]) >= head


def topic_keys(bootstrap: str, topic: str, since: dict[int, int] | None = None,
               ) -> list[bytes]:
    """The keys of the topic's records, from ``since`` (partition -> offset) to the end."""
    since = since or {}
    keys: list[bytes] = []
    consumer = kafka_io.make_consumer(bootstrap, None)
    try:
        for partition, end in kafka_io.end_offsets(bootstrap, topic).items():
            start = since.get(partition, 0)
            if end <= start:
                continue
            tp = TopicPartition(topic, partition)
            consumer.assign([tp])
            consumer.seek(tp, start)
            seen = start
            while seen < end:
                for record in consumer.poll(timeout_ms=1000).get(tp, []):
                    seen = record.offset + 1
                    keys.append(record.key)
    finally:
        consumer.close()
    return keys


def athlete_rows(rt: Runtime, athlete_id: str) -> dict[str, int]:
    """Rows of the athlete per view table and service table that names athletes."""
    db = rt.tables
    tables = [t for view in rt.views.values() for t in view.tables]
    tables += ["tl_directory", "tl_imports"]
    return {t: int(db.query(f"SELECT COUNT(*) AS n FROM {db.name(t)} WHERE athlete_id = %s",
                            (athlete_id,))[0]["n"]) for t in tables}


def dump(rt: Runtime) -> str:
    """Every row of every service table and view (not the event store), as text."""
    db = rt.tables
    if db.is_postgres:
        tables = [r["table_name"] for r in db.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "AND table_name <> 'stored_events'", (db.schema,))]
    else:
        tables = [r["name"] for r in db.query(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'stored_events'")]
    return "\n".join(str(row) for t in tables for row in db.query(f"SELECT * FROM {db.name(t)}"))
