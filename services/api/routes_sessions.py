"""Training sessions and their sets, with every correction as its own request."""

from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from services.api import schemas as s
from services.api.security import CallerDep
from services.api.views import laps_out, session_out, set_out, with_tss
from services.domain.session import TrainingSession

router = APIRouter(tags=["sessions"])


@router.post(
    "/athletes/{athlete_id}/sessions",
    status_code=201,
    response_model=s.SessionOut,
    summary="Start a session, or record a whole past one with its sets and end",
)
def start_session(athlete_id: str, body: s.SessionIn, caller: CallerDep) -> s.SessionOut:
    caller.check_write(athlete_id)
    session = caller.runtime.app.record_session(
        caller.ctx, athlete_id, s.session_command(body), access=caller.write_access
    )
    return session_out(session)


@router.get(
    "/athletes/{athlete_id}/sessions",
    response_model=list[s.SessionOut],
    summary="Sessions, newest first",
)
def list_sessions(
    athlete_id: str,
    caller: CallerDep,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=s.MAX_OFFSET),
    include_discarded: bool = False,
) -> list[s.SessionOut]:
    caller.check_read(athlete_id)
    app = caller.runtime.app
    rows = caller.runtime.directory.list("session", athlete_id, limit=limit, offset=offset)
    sessions = [app.session(r["entity_id"]) for r in rows]
    athlete = app.athlete(athlete_id) if sessions else None
    return [with_tss(session_out(x), athlete, x) for x in sessions
            if include_discarded or not x.discarded]


def _readable(session_id: str, caller: CallerDep) -> TrainingSession:
    session = caller.runtime.app.session(session_id)
    caller.check_read(session.athlete_id, "session")
    return session


@router.get("/sessions/{session_id}", response_model=s.SessionOut)
def get_session(session_id: str, caller: CallerDep) -> s.SessionOut:
    session = _readable(session_id, caller)
    out = with_tss(session_out(session), caller.runtime.app.athlete(session.athlete_id),
                   session)
    out.prescribed_steps = caller.runtime.app.prescribed_steps(session)
    return out


@router.get(
    "/sessions/{session_id}/laps",
    response_model=list[s.LapOut],
    summary="The laps of an imported session: start, timer and elapsed time, distance, HR, "
            "speed and pace, power",
)
def get_laps(session_id: str, caller: CallerDep) -> list[s.LapOut]:
    return laps_out(_readable(session_id, caller))


@router.patch(
    "/sessions/{session_id}",
    response_model=s.SessionOut,
    summary="Correct a session's details (RPE, duration, notes, heart rate…)",
)
def amend_session(session_id: str, body: s.SessionPatch, caller: CallerDep) -> s.SessionOut:
    caller.require_writer()
    return session_out(
        caller.runtime.app.amend_session(
            caller.ctx, session_id, body.model_dump(exclude_unset=True), access=caller.write_access
        )
    )


@router.post(
    "/sessions/{session_id}/end",
    response_model=s.SessionOut,
    summary="End the session with its CR-10 RPE",
)
def end_session(session_id: str, body: s.EndIn, caller: CallerDep) -> s.SessionOut:
    caller.require_writer()
    fields = body.model_dump(exclude={"ended_at", "session_rpe"})
    return session_out(
        caller.runtime.app.end_session(
            caller.ctx,
            session_id,
            body.ended_at,
            body.session_rpe,
            access=caller.write_access,
            **fields,
        )
    )


@router.post(
    "/sessions/{session_id}/link",
    response_model=s.SessionOut,
    summary="Tie the session to an objective or another planned session of its week "
            "(relink), or to neither (unlink: `{}`); its former slot is freed",
)
def link_session(session_id: str, body: s.LinkIn, caller: CallerDep) -> s.SessionOut:
    caller.require_writer()
    return session_out(
        caller.runtime.app.link_session(
            caller.ctx,
            session_id,
            body.objective_id,
            body.planned_session_id,
            access=caller.write_access,
        )
    )


@router.post("/sessions/{session_id}/discard", response_model=s.SessionOut)
def discard_session(session_id: str, body: s.ReasonIn, caller: CallerDep) -> s.SessionOut:
    caller.require_writer()
    return session_out(
        caller.runtime.app.discard_session(
            caller.ctx, session_id, body.reason, access=caller.write_access
        )
    )


@router.post(
    "/sessions/{session_id}/sets",
    status_code=201,
    response_model=s.SetLogged,
    summary="Log a set (send an Idempotency-Key so a retry never logs it twice)",
)
async def log_set(session_id: str, body: s.SetIn, caller: CallerDep) -> s.SetLogged:
    # The hot path: one hop to the thread pool for the store work, the rest on the loop.
    caller.require_writer()
    session, set_id = await run_in_threadpool(
        caller.runtime.app.log_set,
        caller.ctx, session_id, body.model_dump(exclude_none=True), access=caller.write_access,
    )
    return s.SetLogged(set=set_out(session.sets[set_id]), session_version=session.version)


@router.patch(
    "/sessions/{session_id}/sets/{set_id}",
    response_model=s.SessionOut,
    summary="Amend a set (a correction event)",
)
def amend_set(session_id: str, set_id: str, body: s.SetPatch, caller: CallerDep) -> s.SessionOut:
    caller.require_writer()
    changes = body.model_dump(exclude_unset=True, exclude={"load_unit"})
    return session_out(
        caller.runtime.app.amend_set(
            caller.ctx, session_id, set_id, changes, body.load_unit, access=caller.write_access
        )
    )


@router.delete(
    "/sessions/{session_id}/sets/{set_id}",
    response_model=s.SessionOut,
    summary="Remove a set (a correction event; history keeps it)",
)
def remove_set(
    session_id: str,
    set_id: str,
    caller: CallerDep,
    reason: str | None = Query(None, max_length=2000),
) -> s.SessionOut:
    caller.require_writer()
    return session_out(
        caller.runtime.app.remove_set(
            caller.ctx, session_id, set_id, reason, access=caller.write_access
        )
    )


@router.post("/sessions/{session_id}/comments", status_code=201, response_model=s.SessionOut,
             summary="Comment on a session (the athlete, the admin, a coach with access)")
def comment_on_session(session_id: str, body: s.CommentIn, caller: CallerDep) -> s.SessionOut:
    session = caller.runtime.app.session(session_id)
    caller.check_comment(session.athlete_id, "session")
    return session_out(caller.runtime.app.comment_on_session(caller.ctx, session_id, body.text))
