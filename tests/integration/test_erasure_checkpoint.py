"""SQLite: after an erasure the write-ahead log is checkpointed and truncated, even when a
reader held the database meanwhile, so neither the key nor the plaintext stays in it."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import ADMIN_TOKEN

from services.config import Settings
from services.domain.base import Context, Source
from services.erasure import ErasureIncomplete, erase_athlete
from services.runtime import Runtime, open_runtime

NAME = "Quentin WAL-TRACE-9127"


@pytest.fixture
def rt(tmp_path: Path) -> Iterator[Runtime]:
    runtime = open_runtime(Settings(data_dir=tmp_path, admin_token=ADMIN_TOKEN))
    yield runtime
    runtime.close()


@contextmanager
def reader(rt: Runtime) -> Iterator[sqlite3.Connection]:
    """A second connection in a read transaction: it pins the log's current snapshot."""
    conn = sqlite3.connect(rt.settings.data_dir / "trainledger.sqlite3", isolation_level=None,
                           check_same_thread=False)  # released from a timer thread
    try:
        conn.execute("BEGIN")
        conn.execute("SELECT COUNT(*) FROM tl_directory").fetchone()
        yield conn
    finally:
        conn.close()


def athlete(rt: Runtime) -> str:
    athlete_id = str(rt.app.register_athlete(Context(Source("admin")), {"name": NAME}).id)
    rt.feed.catch_up_all()
    return athlete_id


def wal(rt: Runtime) -> Path:
    return rt.settings.data_dir / "trainledger.sqlite3-wal"


def assert_no_trace(rt: Runtime) -> None:
    assert wal(rt).stat().st_size == 0
    assert NAME.encode() not in (rt.settings.data_dir / "trainledger.sqlite3").read_bytes()


def test_the_checkpoint_waits_for_a_reader_and_truncates_the_log(rt: Runtime) -> None:
    athlete_id = athlete(rt)
    with reader(rt) as conn:
        threading.Timer(1.0, conn.rollback).start()  # the reader lets go a second later
        erase_athlete(rt, athlete_id)
    assert_no_trace(rt)


def test_a_reader_that_never_lets_go_fails_the_erasure_and_a_retry_finishes(
        rt: Runtime) -> None:
    athlete_id = athlete(rt)
    with reader(rt), pytest.raises(ErasureIncomplete, match="checkpoint"):
        erase_athlete(rt, athlete_id)
    assert NAME.encode() in wal(rt).read_bytes()  # the old page images are still there
    erase_athlete(rt, athlete_id)
    assert_no_trace(rt)
