"""Helpers that hold the read model to the oracle: the views it serves against the same
views folded from the athlete's history, and the live read model against one rebuilt from
the log."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from projections.analytics import VIEWS
from projections.facts import plain
from projections.history import entities, load_history
from projections.history_facts import HistoryFacts
from projections.replay import replay
from projections.stored_facts import StoredFacts
from services.cli_replay import scratch_tables
from services.domain.weeks import local_day
from services.runtime import Runtime


def settle(rt: Runtime, athlete_id: str) -> None:
    model = rt.views["training"]
    rt.feed.catch_up(model)
    model.settle(rt.tables, athlete_id)  # type: ignore[attr-defined]


def check_views(rt: Runtime, athlete_id: str, days: list[int], catch_up: bool = True,
                ) -> int:
    """Every view, today and ``days`` back, served and folded alike; returns how many
    prescribed slots (``execution`` weeks' ``prescribed``) they compared."""
    if catch_up:
        settle(rt, athlete_id)
    rt.feed.catch_up(rt.directory.view)  # the oracle lists the aggregates from it
    stored = StoredFacts(rt.tables, athlete_id)
    history = load_history(rt.app, athlete_id, entities(rt.tables, athlete_id))
    assert history is not None
    oracle = HistoryFacts(history)
    today = local_day(datetime.now(UTC), stored.timezone)
    prescribed = 0
    for offset in [0, *days]:
        day = today - timedelta(days=offset)
        for name, compute in VIEWS.items():
            got, want = plain(compute(stored, day)), compute(oracle, day)
            assert got == want, (name, day.isoformat(), _diff(got, want))
            if name == "execution":
                prescribed += sum(len(w["prescribed"]) for w in want["weeks"])
    return prescribed


def _diff(got: Any, want: Any, path: str = "") -> str:
    """Where two answers first differ."""
    if isinstance(got, dict) and isinstance(want, dict):
        for key in sorted(set(got) | set(want)):
            if got.get(key) != want.get(key):
                return _diff(got.get(key), want.get(key), f"{path}.{key}")
    if isinstance(got, list) and isinstance(want, list) and len(got) == len(want):
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            if g != w:
                return _diff(g, w, f"{path}[{i}]")
    return f"{path}: {got!r} != {want!r}"


def assert_rebuilt_equal(runtime: Runtime) -> None:
    """The live read model equals one rebuilt from the log, row for row."""
    model = runtime.views["training"]
    scratch, target = scratch_tables(Path(tempfile.mkdtemp()))
    try:
        replay(runtime.app, target, [model])
        for table in model.tables:  # table by table, to say which differs
            rows = sorted(map(repr, target.query(f"SELECT * FROM {target.name(table)}")))
            live = sorted(map(repr, runtime.tables.query(
                f"SELECT * FROM {runtime.tables.name(table)}")))
            assert rows == live, (table, sorted(set(rows) ^ set(live))[:4])
        assert model.content_hash(target) == model.content_hash(runtime.tables)
    finally:
        scratch.close()
