"""The demo seeder and the command line, on real stores."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from support_cli import run_cli

from services.config import Settings
from services.demo import TZ, WEEKS, seed_demo
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.weeks import week_start
from services.runtime import Runtime, open_runtime


def event_count(rt: Runtime) -> int:
    return int(rt.app.recorder.max_notification_id() or 0)


def test_demo_seeds_a_12_week_block_once(runtime: Runtime) -> None:
    first = seed_demo(runtime.app)
    events = event_count(runtime)
    assert first.created
    assert first.sessions >= (WEEKS - 1) * 4 - 2
    second = seed_demo(runtime.app)
    assert not second.created
    assert event_count(runtime) == events  # nothing duplicated

    sessions = [runtime.app.session(r["entity_id"]) for r in
                runtime.directory.list("session", first.athlete_id, limit=1000)]
    assert len(sessions) == first.sessions
    assert all(isinstance(s, TrainingSession) and s.status == "ended" for s in sessions)
    # three training sessions tied to objectives each week, plus the volume session
    roles = Counter(s.planned_role for s in sessions)
    assert roles["training"] >= WEEKS * 3 - 1
    assert roles["volume"] >= 1
    assert all(s.objective_id for s in sessions if s.planned_role == "training")
    # each event was recorded as if entered on the day (not at seeding time)
    oldest = min(sessions, key=lambda s: s.started_at)
    assert (oldest.modified_on - oldest.started_at).total_seconds() < 3 * 3600
    # volume sessions are converted to training later in the block
    plans = [runtime.app.load(WeeklyPlan, r["entity_id"], "plan") for r in
             runtime.directory.list("plan", first.athlete_id, newest_first=False)]
    converted = [any(slot["converted"] for slot in p.sessions.values()) for p in plans]
    assert converted[0] is False
    assert converted[-1] is True


def days_of_sessions(rt: Runtime, athlete_id: str) -> list[date]:
    return sorted(rt.app.session(r["entity_id"]).started_at.astimezone(ZoneInfo(TZ)).date()
                  for r in rt.directory.list("session", athlete_id, limit=1000))


@pytest.mark.parametrize("weekday", range(7))
def test_the_demo_ends_today_and_catches_up_on_a_later_day(settings: Settings,
                                                            weekday: int) -> None:
    """Whatever the day: the current week is planned, the last session is yesterday's (or
    today's), and the block ends with a conversion and the weeks after it."""
    rt = open_runtime(settings)
    try:
        later = datetime.now(ZoneInfo(TZ)).date()
        today = later - timedelta(days=10 + weekday)  # seven days: every day of the week
        demo = seed_demo(rt.app, today=today)
        assert rt.app.plan(demo.athlete_id, week_start(today))  # this week is planned
        assert days_of_sessions(rt, demo.athlete_id)[-1] in (today - timedelta(days=1), today)
        plans = [rt.app.load(WeeklyPlan, r["entity_id"], "plan") for r in
                 rt.directory.list("plan", demo.athlete_id, newest_first=False)]
        assert len(plans) == WEEKS
        assert [any(s["converted"] for s in p.sessions.values()) for p in plans] == [
            False] * 6 + [True] * (WEEKS - 6)
        if weekday:
            return
        before = days_of_sessions(rt, demo.athlete_id)
        again = seed_demo(rt.app, today=later)
        assert again.athlete_id == demo.athlete_id
        assert rt.app.plan(demo.athlete_id, week_start(later))
        after = days_of_sessions(rt, demo.athlete_id)
        assert after[-1] in (later - timedelta(days=1), later)
        assert [d for d in after if d < today] == [d for d in before if d < today]
    finally:
        rt.close()


def test_cli_adds_an_athlete_and_lists_its_sessions(settings: Settings) -> None:
    added = run_cli(settings, "athletes", "add", "Bo", "--timezone", "Europe/Oslo",
                    "--body-mass", "176", "--mass-unit", "lb")
    assert added.returncode == 0, added.stderr
    assert "token:" in added.stdout
    assert "tlk_" in added.stdout
    listed = run_cli(settings, "athletes", "list")
    assert "Bo" in listed.stdout
    sessions = run_cli(settings, "sessions")  # single athlete: no --athlete needed
    assert sessions.returncode == 0, sessions.stderr


def test_cli_errors_are_one_line_and_exit_non_zero(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, admin_token="x")
    bad_zone = run_cli(settings, "athletes", "add", "Cy", "--timezone", "Mars/Olympus")
    assert bad_zone.returncode == 2
    assert bad_zone.stderr.strip() == "trainledger: timezone: unknown time zone 'Mars/Olympus'"
    none_yet = run_cli(settings, "sessions")
    assert none_yet.returncode == 2
    assert "no athlete yet" in none_yet.stderr
    bad_url = run_cli(Settings(data_dir=tmp_path, database_url="mysql://x/y"), "athletes", "list")
    assert bad_url.returncode == 2
    assert "TRAINLEDGER_DATABASE_URL" in bad_url.stderr
    assert "Traceback" not in bad_zone.stderr + none_yet.stderr + bad_url.stderr
