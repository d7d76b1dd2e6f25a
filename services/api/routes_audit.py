"""Audit and export: an athlete's events (paged, filtered), why a view says what it says,
and exports (events as JSON Lines, each view's main table as CSV).

Readable by whoever may read the athlete (``security.Caller.check_read``): the athlete, the
admin, and coaches the athlete granted; others get 404.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from projections.analytics import VIEWS
from projections.explain import EXPLAINERS, EventIndex
from projections.history_facts import HistoryFacts
from services.api.routes_views import AS_OF
from services.api.security import CallerDep
from services.audit import (
    MAX_LIMIT,
    TYPE_NAMES,
    AuditQuery,
    decode_cursor,
    json_lines,
    owned_aggregates,
    page,
    parse_instant,
    parse_types,
    read_events,
)
from services.domain.errors import InvalidValue
from services.export import (
    CSV_MEDIA_TYPE,
    JSONL_MEDIA_TYPE,
    athlete_history,
    check_view,
    csv_chunks,
    table,
)

router = APIRouter(tags=["audit"])


class SourceOut(BaseModel):
    entry: Literal["hand", "import", "system"] = Field(
        ..., description="hand: entered by a token's holder; import: from a file or an import "
                         "request; system: seeded or derived by trainledger")
    kind: str | None = Field(None, description="Role of who recorded it", examples=["athlete"])
    principal_id: str | None = Field(None, description="The athlete's or coach's id")
    import_id: str | None = None
    file_hash: str | None = Field(None, description="SHA-256 of the imported file")
    request_id: str | None = Field(None, description="From the request's Idempotency-Key")


class EventOut(BaseModel):
    event_id: str = Field(..., description="<aggregate_id>:<version>")
    type: str = Field(..., examples=["SetLogged"])
    aggregate_kind: Literal["athlete", "session", "goal", "plan", "observation"]
    aggregate_id: str
    version: int
    occurred_at: str = Field(..., description="When it happened (UTC)")
    recorded_at: str = Field(..., description="When it was recorded (UTC)")
    source: SourceOut
    payload: dict[str, Any]


class EventPage(BaseModel):
    athlete_id: str
    total: int = Field(..., description="Events matching the filters, on every page")
    events: list[EventOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")


TYPE_HELP = ("Event type, e.g. SetLogged (or TrainingSession.SetLogged); repeat the parameter "
             "or separate with commas for several. Types: " + ", ".join(TYPE_NAMES))
TypesQuery = Annotated[list[str] | None, Query(alias="type", description=TYPE_HELP)]
TIME_HELP = ("On the recorded time, inclusive: an ISO 8601 instant, or a date (in the athlete's "
             "time zone: its start for `since`, its end for `until`). A date-time without an "
             "offset is a local time there: refused if the clocks skipped it, the first "
             "occurrence if they went through it twice")


def _query(caller: CallerDep, athlete_id: str, types: list[str] | None, since: str | None,
           until: str | None) -> AuditQuery:
    caller.check_read(athlete_id)
    timezone = caller.runtime.app.athlete(athlete_id).profile["timezone"]
    bounds = []
    for value, field, end_of_day in ((since, "since", False), (until, "until", True)):
        try:
            bounds.append(parse_instant(value, field, timezone, end_of_day=end_of_day))
        except OverflowError:  # 9999-12-31, 0001-01-01T00:00+05:00: was a 500
            raise InvalidValue("out of the range of dates", field) from None
    return AuditQuery(parse_types(types), bounds[0], bounds[1])


@router.get("/athletes/{athlete_id}/events", response_model=EventPage,
            summary="The athlete's event history, across their aggregates, by recorded time",
            description="Every event of the athlete, their sessions, goals, plans and "
                        "observations: type, aggregate, version, when it happened and was "
                        "recorded, who recorded it (never a token) and its payload. Paged: "
                        "pass `next_cursor` back as `cursor`.")
def athlete_events(
    athlete_id: str,
    caller: CallerDep,
    types: TypesQuery = None,
    since: str | None = Query(None, description=TIME_HELP),
    until: str | None = Query(None, description=TIME_HELP),
    limit: int = Query(100, ge=1, le=MAX_LIMIT),
    cursor: str | None = Query(None, description="From the previous page's `next_cursor`"),
) -> dict[str, Any]:
    query = _query(caller, athlete_id, types, since, until)
    after = decode_cursor(cursor)
    entries = read_events(caller.runtime.app, owned_aggregates(caller.runtime, athlete_id),
                          query)
    chosen, next_cursor = page(entries, limit, after)
    return {"athlete_id": athlete_id, "total": len(entries),
            "events": [e.describe() for e in chosen], "next_cursor": next_cursor}


@router.get("/athletes/{athlete_id}/views/{view}/explain",
            summary="Why a view says what it says: the events behind its values",
            description="For `strength`: the set events (SetLogged, SetAmended) behind every "
                        "e1RM and record. For `readiness`: each criterion with its inputs "
                        "(sessions, observations, plans), each with its event ids "
                        "(`<aggregate_id>:<version>`). Same `as_of` as the view.")
def explain_view(athlete_id: str, view: str, caller: CallerDep,
                 as_of: str | None = Query(None, description=AS_OF)) -> dict[str, Any]:
    caller.check_read(athlete_id)
    if view not in EXPLAINERS:
        check_view(view)  # an unknown view says so; a known one has no explanation yet
        raise InvalidValue(f"no explanation for the {view} view yet; explained: "
                           f"{', '.join(EXPLAINERS)}", "view")
    day, history = athlete_history(caller.runtime, athlete_id, as_of)
    index = EventIndex(caller.runtime.app, history.recorded_by)
    return {"athlete_id": athlete_id, "view": view, "day": day.isoformat(),
            "recorded_by": history.recorded_by.isoformat() if history.recorded_by else None,
            **EXPLAINERS[view](history, day, index)}


def _attachment(athlete_id: str, name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{athlete_id}-{name}"'}


@router.get("/athletes/{athlete_id}/export/events.jsonl", response_class=StreamingResponse,
            summary="Export the athlete's events as JSON Lines (one event a line)",
            responses={200: {"content": {JSONL_MEDIA_TYPE: {}}}},
            description="Each line as an event of `GET /athletes/{id}/events`, in recorded "
                        "order; the same `type`, `since` and `until` filters.")
def export_events(
    athlete_id: str,
    caller: CallerDep,
    types: TypesQuery = None,
    since: str | None = Query(None, description=TIME_HELP),
    until: str | None = Query(None, description=TIME_HELP),
) -> StreamingResponse:
    query = _query(caller, athlete_id, types, since, until)
    entries = read_events(caller.runtime.app, owned_aggregates(caller.runtime, athlete_id),
                          query)
    return StreamingResponse(json_lines(entries), media_type=JSONL_MEDIA_TYPE,
                             headers=_attachment(athlete_id, "events.jsonl"))


@router.get("/athletes/{athlete_id}/export/{view}.csv", response_class=StreamingResponse,
            summary="Export a view's main table as CSV (with a header row)",
            responses={200: {"content": {"text/csv": {}}}},
            description="load: sessions; strength: exercises; fatigue: days; recovery: days "
                        "per marker; goals: goals; execution: weeks; readiness: criteria. "
                        "Nested objects become dotted columns. Same `as_of` as the view.")
def export_view(athlete_id: str, view: str, caller: CallerDep,
                as_of: str | None = Query(None, description=AS_OF)) -> StreamingResponse:
    caller.check_read(athlete_id)
    check_view(view)
    day, history = athlete_history(caller.runtime, athlete_id, as_of)
    columns, rows = table(view, VIEWS[view](HistoryFacts(history), day))
    return StreamingResponse(csv_chunks(columns, rows), media_type=CSV_MEDIA_TYPE,
                             headers=_attachment(athlete_id, f"{view}.csv"))
