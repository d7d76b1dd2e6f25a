"""The analytic views by name, and their two time axes.

- ``on=DAY``: the view evaluated for that day with everything known now (from the read
  model's stored series: cheap).  Any day from the athlete's first event to a year ahead.
- ``as_of=INSTANT|DATE``: what the view said then: built from the events *recorded* by that
  instant (a correction recorded later is left out), with the athlete's settings as they
  stood, evaluated for that day (or for ``on``).  A bare date means the end of that day in
  the athlete's time zone.  This is the audit path: it folds the history recorded by then.

Without either: everything recorded, evaluated today.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from projections.execution import execution
from projections.facts import Facts
from projections.fatigue import fatigue
from projections.goals import goals
from projections.history import AthleteHistory, entities, fold, load_history
from projections.load import load
from projections.readiness import readiness
from projections.recovery import recovery
from projections.source import EventSource
from projections.strength import strength
from services.domain.athlete import Athlete
from services.domain.errors import InvalidValue, NotFound
from services.domain.weeks import local_day
from services.tables import ServiceTables

VIEWS: dict[str, Callable[[Facts, date], dict[str, Any]]] = {
    "load": load,
    "strength": strength,
    "fatigue": fatigue,
    "recovery": recovery,
    "goals": goals,
    "execution": execution,
    "readiness": readiness,
}


MAX_DAYS_AHEAD = 366


def parse_as_of(as_of: str | None, timezone: str) -> tuple[datetime | None, date]:
    """(recorded_by, day) for an ``as_of`` parameter; None: now, evaluated today.

    Refused (InvalidValue): not ISO 8601; past the range of dates (9999-12-31, or
    0001-01-01 with a positive offset); more than a year ahead (a view walks every day up to
    it: 9999-12-30 held a core for a minute)."""
    if as_of is None or as_of == "":
        return None, local_day(datetime.now(UTC), timezone)
    zone = ZoneInfo(timezone)
    try:
        if len(as_of) == 10:
            day = date.fromisoformat(as_of)
            end = datetime.combine(day + timedelta(days=1), time(), zone) - timedelta(
                microseconds=1)
            recorded_by, day = end.astimezone(UTC), day
        else:
            moment = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            recorded_by, day = moment.astimezone(UTC), local_day(moment, timezone)
    except ValueError:
        raise InvalidValue("as_of must be an ISO 8601 date or date-time "
                           "(e.g. 2026-11-01 or 2026-11-01T18:00:00Z)", "as_of") from None
    except OverflowError:
        raise InvalidValue("out of the range of dates", "as_of") from None
    if day > datetime.now(UTC).date() + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidValue(f"at most {MAX_DAYS_AHEAD} days ahead", "as_of")
    return recorded_by, day


def parse_on(on: str | None) -> date | None:
    """The ``on`` parameter: a day (ISO 8601 date), or None."""
    if on is None or on == "":
        return None
    try:
        return date.fromisoformat(on)
    except ValueError:
        raise InvalidValue("on must be an ISO 8601 date (e.g. 2026-11-01)", "on") from None


def check_on(day: date, first: date) -> None:
    """A view is evaluated from the athlete's first event to a year ahead of today."""
    if day < first:
        raise InvalidValue(f"before the athlete's first event ({first.isoformat()})", "on")
    if day > datetime.now(UTC).date() + timedelta(days=MAX_DAYS_AHEAD):
        raise InvalidValue(f"at most {MAX_DAYS_AHEAD} days ahead", "on")


def history_as_of(source: EventSource, db: ServiceTables, catch_up: Callable[[], Any],
                  athlete_id: str, as_of: str | None) -> tuple[date, datetime | None,
                                                               AthleteHistory]:
    """(day, recorded_by, history) of an athlete for the views ``as_of`` a moment;
    NotFound for an unknown or erased athlete, or one not registered yet then.  ``catch_up``
    brings the directory view up to date (it lists the athlete's aggregates)."""
    try:
        athlete = fold(source, athlete_id)
    except ValueError:  # not a UUID
        athlete = None
    if not isinstance(athlete, Athlete):
        raise NotFound("no such athlete")
    recorded_by, day = parse_as_of(as_of, athlete.profile["timezone"])
    catch_up()
    history = load_history(source, athlete_id, entities(db, athlete_id, recorded_by),
                           recorded_by)
    if history is None:
        raise NotFound("the athlete was not registered yet at as_of", "as_of")
    return day, recorded_by, history
