"""A rebuild of the read model settles every athlete from the aggregates it folded in memory:
it writes each row once and reads none of them back (only its own dirty marks), and the
rows equal those the live feed wrote."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from support_oracle import assert_rebuilt_equal
from support_views import Athlete, squat

from projections.read_model import DDL, DIRTY
from projections.replay import replay
from services.api.app import create_app
from services.cli_replay import scratch_tables
from services.config import Settings
from services.runtime import Runtime, open_runtime

BENCH = "bench_press.barbell_bench_press"


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    runtime = open_runtime(settings)
    yield runtime
    runtime.close()


def history(rt: Runtime) -> None:
    """Two athletes: sessions over two months with sets of two exercises (records and
    e1RMs), a goal, weekly plans and morning HRV."""
    with TestClient(create_app(rt), raise_server_exceptions=False) as client:
        for i in range(2):
            athlete = Athlete(client)
            goal = athlete.goal(150)
            for week in range(-8, 1):
                athlete.plan(athlete.week(week), goal)
            start = datetime.now(UTC).replace(hour=8, minute=0, second=0, microsecond=0)
            for day in range(60, 0, -3):
                bench = {**squat(60 + day % 7 + i), "exercise_id": BENCH}
                athlete.session(start - timedelta(days=day), [squat(80 + day % 11), bench],
                                objective_id=goal)
                athlete.post(f"/athletes/{athlete.id}/observations", {
                    "metric": "hrv_rmssd", "value": 55 + day % 9, "unit": "ms",
                    "observed_at": (start - timedelta(days=day, hours=1)).isoformat()})


def test_a_rebuild_reads_back_none_of_the_rows_it_writes(rt: Runtime, tmp_path: Path) -> None:
    history(rt)
    model = rt.views["training"]
    scratch, target = scratch_tables(tmp_path / "rebuilt")
    statements: list[str] = []
    try:
        with target.transaction(commit=False) as tx:  # the connection the rebuild writes with
            connection = tx.cursor.sqlite_cursor.connection
        connection.set_trace_callback(statements.append)
        replay(rt.app, target, [model], hashes=False)
        connection.set_trace_callback(None)
    finally:
        scratch.close()
    rows = [t for t in DDL if t != DIRTY]
    written = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")
             and set(re.findall(r"\btl_rm_\w+", s)) & set(rows)]
    assert len(written) > 10  # the trace saw the rebuild
    assert reads == []


def test_the_rebuilt_rows_equal_the_live_ones(rt: Runtime) -> None:
    history(rt)
    rt.feed.catch_up_all()
    rt.feed.idle()
    assert_rebuilt_equal(rt)
