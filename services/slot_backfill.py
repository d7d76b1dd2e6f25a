"""Upgrading plans: which session fills each slot, for sessions linked before plans said so.

Earlier versions recorded the link on the session only.  On first start, every session
linked to a slot (and not discarded) fills that slot on its plan (event ``SlotFilled``),
unless another session fills it already, so the slot-matching rule sees it as taken.
``tl_upgrades`` remembers that this ran."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID

from eventsourcing.persistence import IntegrityError
from eventsourcing.utils import get_topic

from services.application import TrainingLog
from services.domain.base import Context, Source
from services.domain.errors import DomainError
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.domain.weeks import local_day
from services.tables import ServiceTables

TABLE = "tl_upgrades"
NAME = "plan-slots-filled"
BATCH = 1000


def _started(app: TrainingLog) -> Iterator[UUID | str]:
    """Every session ever started, from the log's creation events (no payload read)."""
    start: int | None = None
    topic = get_topic(TrainingSession.Started)
    while True:
        batch = app.recorder.select_notifications(start, BATCH, topics=[topic],
                                                  inclusive_of_start=start is None)
        if not batch:
            return
        yield from (n.originator_id for n in batch)
        start = batch[-1].id


def fill_linked_slots(app: TrainingLog, tables: ServiceTables) -> int:
    """Run the upgrade once per store; returns how many slots it filled."""
    tables.execute(f"CREATE TABLE IF NOT EXISTS {tables.name(TABLE)} "
                   "(name TEXT PRIMARY KEY, done_at TEXT NOT NULL)")
    if tables.query(f"SELECT name FROM {tables.name(TABLE)} WHERE name = %s", (NAME,)):
        return 0
    ctx = Context(Source("system", principal_id="upgrade"))
    filled = 0
    for session_id in _started(app):
        try:
            session = app.session(session_id)
            if session.planned_session_id is None or session.discarded:
                continue
            athlete = app.athlete(session.athlete_id)
            plans: dict[UUID, WeeklyPlan | None] = {}
            plan = app._week_plan(athlete, local_day(session.started_at, session.timezone),
                                  plans)
            slot = plan.sessions.get(session.planned_session_id) if plan else None
            if plan is None or slot is None or slot.get("session_id"):
                continue
            plan.fill(ctx, session.planned_session_id, str(session.id))
            app.save(plan)
            filled += 1
        except (DomainError, IntegrityError):
            continue  # erased, or a slot cancelled or taken meanwhile: nothing to fill
    tables.execute(f"INSERT INTO {tables.name(TABLE)} (name, done_at) VALUES (%s, %s) "
                   "ON CONFLICT (name) DO NOTHING", (NAME, datetime.now(UTC).isoformat()))
    return filled
