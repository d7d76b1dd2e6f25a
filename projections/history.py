"""One athlete's history, as the domain aggregates folded from the events recorded by a moment.

Every analytic view (fatigue, strength, recovery, goals, execution, readiness) is a pure
function of an :class:`AthleteHistory` and a day.  The history is read from the event store:
each of the athlete's aggregates (listed by the directory view) is folded from its own events,
keeping only those *recorded* by ``recorded_by`` when it is given.  So an as-of answer uses
exactly what was known then: a correction recorded later is not in it, and the athlete's
profile and settings are as they were.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from projections.source import EventSource, deliveries
from services.domain.athlete import Athlete
from services.domain.goal import Goal
from services.domain.observation import Observation
from services.domain.plan import WeeklyPlan
from services.domain.session import TrainingSession
from services.tables import ServiceTables

DIRECTORY = "tl_directory"
KINDS = ("session", "goal", "plan", "observation")
log = logging.getLogger("trainledger.projections")


@dataclass
class AthleteHistory:
    athlete: Athlete
    sessions: list[TrainingSession] = field(default_factory=list)  # by start, discarded out
    goals: list[Goal] = field(default_factory=list)
    plans: list[WeeklyPlan] = field(default_factory=list)  # by week
    observations: list[Observation] = field(default_factory=list)  # retracted ones out
    recorded_by: datetime | None = None
    cache: dict[str, Any] = field(default_factory=dict)  # derived data shared by the views

    @property
    def athlete_id(self) -> str:
        return str(self.athlete.id)

    @property
    def timezone(self) -> str:
        if "timezone" not in self.cache:
            self.cache["timezone"] = str(self.athlete.profile["timezone"])
        zone: str = self.cache["timezone"]
        return zone

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self.athlete.settings)

    def profile_on(self, moment: datetime) -> dict[str, Any]:
        return self.athlete.profile_on(moment)


def fold(source: EventSource, entity_id: str, recorded_by: datetime | None = None) -> Any:
    """The aggregate as it stood when ``recorded_by`` was reached (None: as it is now), folded
    from its stored events; None if it did not exist yet, or its athlete's data was erased.
    An event that can't be read or folded ends the fold there (the read model parks it:
    ``projections.dead_letters``)."""
    aggregate: Any = None
    for item in deliveries(source, source.recorder.select_events(UUID(entity_id))):
        event = item.event
        if event is None:
            log.warning("%s v%s can't be read: %s", entity_id,
                        item.stored.originator_version, item.error)
            break
        if recorded_by is not None and event.timestamp > recorded_by:
            break
        try:
            aggregate = event.mutate(aggregate)
        except Exception as exc:
            log.warning("%s v%s can't be folded: %s", entity_id, event.originator_version, exc)
            break
    return aggregate


def entities(db: ServiceTables, athlete_id: str,
             recorded_by: datetime | None = None) -> list[tuple[str, str]]:
    """(kind, id) of the athlete's aggregates, from the directory view (caught up first)."""
    where, params = "athlete_id = %s", [athlete_id]
    if recorded_by is not None:
        where += " AND recorded_at <= %s"
        params.append(recorded_by.astimezone(UTC).isoformat())
    marks = ", ".join(["%s"] * len(KINDS))
    rows = db.query(f"SELECT kind, entity_id FROM {db.name(DIRECTORY)} WHERE {where} "
                    f"AND kind IN ({marks}) ORDER BY entity_id", (*params, *KINDS))
    return [(r["kind"], r["entity_id"]) for r in rows]


def assemble(athlete: Athlete, owned: Iterable[tuple[str, Any]],
             recorded_by: datetime | None = None) -> AthleteHistory:
    """An athlete's history from their aggregates, as (kind, aggregate) pairs."""
    history = AthleteHistory(athlete, recorded_by=recorded_by)
    for kind, aggregate in owned:
        if kind == "session" and not aggregate.discarded:
            history.sessions.append(aggregate)
        elif kind == "goal":
            history.goals.append(aggregate)
        elif kind == "plan":
            history.plans.append(aggregate)
        elif kind == "observation" and not aggregate.retracted:
            history.observations.append(aggregate)
    history.sessions.sort(key=lambda s: (s.started_at, str(s.id)))
    history.plans.sort(key=lambda p: p.week_start)
    history.goals.sort(key=lambda g: (g.created_on, str(g.id)))
    history.observations.sort(key=lambda o: (o.observed_at, str(o.id)))
    return history


def load_history(source: EventSource, athlete_id: str, owned: list[tuple[str, str]],
                 recorded_by: datetime | None = None) -> AthleteHistory | None:
    """The athlete's history as recorded by then, or None if the athlete did not exist yet.

    ``owned``: (kind, id) of the athlete's aggregates, e.g. from :func:`entities`.
    """
    athlete = fold(source, athlete_id, recorded_by)
    if athlete is None:
        return None
    folded = ((kind, fold(source, entity_id, recorded_by)) for kind, entity_id in owned)
    return assemble(athlete, ((k, a) for k, a in folded if a is not None), recorded_by)
