"""The analytic views per athlete, on two time axes: ``on`` (a day, with everything known
now, from the read model) and ``as_of`` (what the view said at a moment: the audit path)."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from projections import dead_letters
from projections.analytics import VIEWS, check_on, history_as_of, parse_on
from projections.facts import Facts, dumps
from projections.history import entities, load_history
from projections.history_facts import HistoryFacts
from projections.stored_facts import StoredFacts
from services.api.routes_dashboard import revision_of
from services.api.security import CallerDep
from services.api.view_range import check_range, clip, parse_day
from services.domain.errors import NotFound
from services.domain.weeks import local_day
from services.runtime import Runtime

router = APIRouter(tags=["views"])

AS_OF = ("An ISO 8601 instant, or a date (the end of that day in the athlete's time zone): "
         "the answer built from the events recorded by then, evaluated for that day (or for "
         "`on`). The audit path: it folds the history recorded by then. At most a year ahead.")
ON = ("A day (ISO 8601 date): the view evaluated for that day with everything known now "
      "(with `as_of`: known then), from the stored series. From the athlete's first event to "
      "366 days ahead; after the last event the series runs on with rest days. Default: "
      "today in the athlete's time zone.")
FROM = ("A day (ISO 8601 date): the long series (days, weeks, sessions, records, e1RM points, "
        "goal values) keep only their entries on or after it. Default: all.")
TO = "A day (ISO 8601 date): the long series keep only their entries up to it. Default: all."
KAFKA_WAIT_SECONDS = 2.0
CATCH_UP_AT_READ = 1000


def current(rt: Runtime, athlete_id: str) -> tuple[HistoryFacts | None, dict[str, Any]]:
    """Bring the read model up to the athlete's stored events, and say what the answer will
    note of its source.  In-process, the feed is caught up and the athlete settled; when the
    read model is far behind (``CATCH_UP_AT_READ`` events: the first start after an upgrade,
    a large import) the athlete's history is folded instead (returned), as the audit path
    does, rather than making this read wait for everyone's events.  With Kafka the read waits
    up to ``KAFKA_WAIT_SECONDS`` for the consumer group, then answers ``stale`` with the
    revision its answer reflects."""
    model = rt.views["training"]
    behind = rt.unread().get(model.name, 0)
    if rt.settings.kafka_bootstrap:
        deadline = time.monotonic() + KAFKA_WAIT_SECONDS
        while behind > 0 and time.monotonic() < deadline:
            time.sleep(0.02)
            behind = rt.unread().get(model.name, 0)
    elif behind > CATCH_UP_AT_READ:
        rt.directory.feed.catch_up(rt.directory.view)
        history = load_history(rt.app, athlete_id, entities(rt.tables, athlete_id))
        if history is None:
            raise NotFound("no such athlete")
        return HistoryFacts(history), {"served_from": "history"}
    else:
        rt.feed.catch_up(model)
    model.settle(rt.tables, athlete_id)  # type: ignore[attr-defined]
    parked = dead_letters.held(rt.tables, model.name, athlete_id)
    if parked:  # the view holds back events it failed on (GET /health, dead-letters)
        return None, {"stale": True, "parked": parked, "revision": revision_of(rt, athlete_id)}
    if behind > 0 and rt.settings.kafka_bootstrap:
        return None, {"stale": True, "revision": revision_of(rt, athlete_id)}
    return None, {}


def first_day(facts: Facts) -> date:
    """The day of the athlete's first event: registration, or an earlier session."""
    registered = local_day(facts.athlete.created_on, facts.timezone)
    sessions = facts.first_day()
    return min(registered, sessions) if sessions else registered


def answer(caller: CallerDep, name: str, athlete_id: str, as_of: str | None,
           on: str | None) -> dict[str, Any]:
    caller.check_read(athlete_id)
    rt = caller.runtime
    asked = parse_on(on)
    if as_of:
        day, recorded_by, history = history_as_of(
            rt.app, rt.tables, lambda: rt.directory.feed.catch_up(rt.directory.view),
            athlete_id, as_of)
        head = {"recorded_by": recorded_by.isoformat() if recorded_by else None}
        return evaluate(HistoryFacts(history), name, athlete_id, asked or day, head)
    folded, note = current(rt, athlete_id)
    if folded is not None:
        return evaluate(folded, name, athlete_id, asked, {"recorded_by": None, **note})
    try:
        with rt.tables.transaction(commit=False) as tx:  # every read of the answer in one snapshot
            return evaluate(StoredFacts(tx, athlete_id), name, athlete_id, asked,
                            {"recorded_by": None, **note})
    except NotFound:  # not in the read model yet (a Kafka feed behind): fold the athlete's own
        rt.directory.feed.catch_up(rt.directory.view)
        found = load_history(rt.app, athlete_id, entities(rt.tables, athlete_id))
        if found is None:
            raise
        return evaluate(HistoryFacts(found), name, athlete_id, asked,
                        {"recorded_by": None, "served_from": "history"})


def evaluate(facts: Facts, name: str, athlete_id: str, day: date | None,
             head: dict[str, Any]) -> dict[str, Any]:
    """The view for ``day`` (default: today in the athlete's zone), checked to lie between
    the athlete's first event and a year ahead."""
    if day is None:
        day = local_day(datetime.now(UTC), facts.timezone)
    else:
        check_on(day, first_day(facts))
    return {"athlete_id": athlete_id, "view": name, "day": day.isoformat(), **head,
            **VIEWS[name](facts, day)}


def _route(name: str) -> Callable[..., Response]:
    def endpoint(athlete_id: str, caller: CallerDep,
                 as_of: str | None = Query(None, description=AS_OF),
                 on: str | None = Query(None, description=ON),
                 start: str | None = Query(None, alias="from", description=FROM),
                 end: str | None = Query(None, alias="to", description=TO)) -> Response:
        first, last = parse_day(start, "from"), parse_day(end, "to")
        check_range(first, last)
        body = clip(answer(caller, name, athlete_id, as_of, on), first, last)
        return Response(dumps(body), media_type="application/json")

    endpoint.__name__ = f"{name}_view"
    return endpoint


for _name, _compute in VIEWS.items():
    router.add_api_route(
        f"/athletes/{{athlete_id}}/views/{_name}", _route(_name), methods=["GET"],
        summary=f"The {_name} view", description=inspect.getdoc(inspect.getmodule(_compute)),
        responses={200: {"content": {"application/json": {"schema": {"type": "object"}}}}},
    )
