"""Upgrading a store of an earlier version: the retired views' tables go, and the read model
builds itself from the log on first start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from conftest import ADMIN
from fastapi.testclient import TestClient

from projections.base import TRACKING
from projections.read_model import LAYOUT_TABLE, SESSIONS
from projections.registry import RETIRED
from projections.stored_facts import StoredFacts
from services import slot_backfill
from services.api import routes_views
from services.api.app import create_app
from services.config import Settings
from services.domain.base import Context, Source
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.weeks import week_start
from services.runtime import Runtime, open_runtime


def athlete_with_a_session(settings: Settings) -> tuple[Runtime, str]:
    rt = open_runtime(settings)
    ctx = Context(Source("admin"))
    athlete_id = str(rt.app.register_athlete(ctx, {"name": "Ada"}).id)
    rt.app.start_session(ctx, athlete_id, datetime.now(UTC) - timedelta(days=2),
                         sets=[{"exercise_id": "squat.back_squats", "reps": 5, "load": 100}],
                         end={"session_rpe": 7, "duration_min": 60})
    return rt, athlete_id


def test_an_old_store_loses_its_retired_tables_and_gets_its_read_model(
        settings: Settings) -> None:
    rt, athlete_id = athlete_with_a_session(settings)
    with rt.tables.transaction() as tx:  # what the earlier version left behind
        for tables in RETIRED.values():
            for table in tables:
                tx.execute(f"CREATE TABLE {tx.name(table)} (athlete_id TEXT)")
        tx.execute(f"INSERT INTO {tx.name(TRACKING)} (view, position) VALUES ('analytics', 9)")
    rt.close()

    rt = open_runtime(settings)
    try:
        assert not any(rt.tables.exists(t) for tables in RETIRED.values() for t in tables)
        assert not rt.tables.query(f"SELECT view FROM {rt.tables.name(TRACKING)} "
                                   "WHERE view = 'analytics'")
        rt.feed.catch_up_all()
        rt.feed.idle()
        facts = StoredFacts(rt.tables, athlete_id)
        assert [r.sets for r in facts.sessions(datetime.now(UTC).date())] == [1]
    finally:
        rt.close()


def test_while_the_read_model_builds_reads_fold_the_history(settings: Settings) -> None:
    """Far behind (more than ``CATCH_UP_AT_READ`` events of others, as after an upgrade), a
    read folds the athlete's history instead of waiting for everyone's events; once caught
    up, the read model gives the same answer."""
    rt, athlete_id = athlete_with_a_session(settings)
    ctx = Context(Source("admin"))
    other = str(rt.app.register_athlete(ctx, {"name": "Busy"}).id)
    morning = datetime.now(UTC) - timedelta(days=1)
    rt.app.save(*(Observation.record(ctx, other, "resting_hr", 50, "bpm",
                                     morning - timedelta(minutes=i))
                  for i in range(routes_views.CATCH_UP_AT_READ + 1)))
    try:
        with TestClient(create_app(rt)) as client:
            url = f"/athletes/{athlete_id}/views/strength"
            folded = client.get(url, headers=ADMIN).json()
            assert folded.pop("served_from") == "history"
            assert rt.view_lag()["training"] > 0  # nothing was caught up for it
            rt.feed.catch_up_all()
            stored = client.get(url, headers=ADMIN).json()
            assert "served_from" not in stored
            assert stored == folded
    finally:
        rt.close()


def test_a_read_model_of_another_layout_is_built_again(settings: Settings) -> None:
    """Tables of an earlier layout of the read model are dropped with its position on start,
    and the feed builds it again from the log."""
    rt, athlete_id = athlete_with_a_session(settings)
    rt.feed.catch_up_all()
    rt.feed.idle()
    before = rt.views["training"].content_hash(rt.tables)
    with rt.tables.transaction() as tx:  # as an earlier layout left it
        tx.execute(f"UPDATE {tx.name(LAYOUT_TABLE)} SET layout = 'older'")
        tx.execute(f"DROP TABLE {tx.name(SESSIONS)}")
        tx.execute(f"CREATE TABLE {tx.name(SESSIONS)} (session_id TEXT)")
    rt.close()
    rt = open_runtime(settings)
    try:
        assert rt.view_lag()["training"] > 0  # to be built again
        rt.feed.catch_up_all()
        rt.feed.idle()
        assert rt.views["training"].content_hash(rt.tables) == before
        assert [r.sets for r in StoredFacts(rt.tables, athlete_id).sessions(
            datetime.now(UTC).date())] == [1]
    finally:
        rt.close()


def test_slots_linked_before_plans_recorded_it_count_as_filled(settings: Settings) -> None:
    """An earlier version linked a session to its slot on the session only: on first start
    the plan learns that the slot is filled, so a second session of that day is not put in
    it; a discarded session's slot stays open."""
    rt = open_runtime(settings)
    ctx = Context(Source("admin"))
    athlete_id = str(rt.app.register_athlete(ctx, {"name": "Old"}).id)
    monday = week_start(datetime.now(UTC).date() - timedelta(days=7), "monday")
    plan = WeeklyPlan.plan(ctx, athlete_id, monday, [{"role": "training", "day": monday},
                                                     {"role": "training", "day": monday}])
    first, second = plan.sessions
    started = datetime(monday.year, monday.month, monday.day, 18, tzinfo=UTC)
    linked = TrainingSession.start(ctx, athlete_id, started, "UTC", "training", None, first)
    gone = TrainingSession.start(ctx, athlete_id, started, "UTC", "training", None, second)
    gone.discard(ctx, None)
    rt.app.save(plan, linked, gone)  # as the earlier version wrote them
    rt.tables.execute(f"DROP TABLE {rt.tables.name(slot_backfill.TABLE)}")
    rt.close()

    rt = open_runtime(settings)
    try:
        slots = rt.app.plan(athlete_id, monday).sessions
        assert slots[first]["session_id"] == str(linked.id)
        assert "session_id" not in slots[second]
        late = rt.app.start_session(ctx, athlete_id, started)
        assert late.planned_session_id == second
        assert slot_backfill.fill_linked_slots(rt.app, rt.tables) == 0  # once only
    finally:
        rt.close()
