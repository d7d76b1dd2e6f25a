"""Weekly plans: planned sessions, cancellations and volume-to-training conversions."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Response

from services import workouts
from services.api import schemas as s
from services.api.routes_views import answer
from services.api.security import CallerDep
from services.api.views import plan_out
from services.audit import describe
from services.domain.errors import InvalidValue
from services.domain.plan import WeeklyPlan, week_template

router = APIRouter(tags=["plans"])


@router.post(
    "/athletes/{athlete_id}/plans",
    status_code=201,
    response_model=s.PlanOut,
    summary="Plan a week (default: 3 training + 1 volume session)",
)
def plan_week(athlete_id: str, body: s.PlanIn, caller: CallerDep) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    slots = (None if body.sessions is None
             else [x.model_dump(exclude_none=True) for x in body.sessions])
    plan = caller.runtime.app.plan_week(
        caller.ctx,
        athlete_id,
        body.week_start,
        slots,
        body.objective_ids,
        access=access,
        repeat_from=body.repeat_from,
    )
    return plan_out(plan)


@router.get("/athletes/{athlete_id}/week-template", response_model=s.WeekTemplateOut,
            summary="The week a plan without sessions gets")
def get_week_template(athlete_id: str, caller: CallerDep) -> s.WeekTemplateOut:
    caller.check_read(athlete_id, "plan")
    athlete = caller.runtime.app.athlete(athlete_id)
    return s.WeekTemplateOut(athlete_id=athlete_id,
                             custom=bool(getattr(athlete, "week_template", None)),
                             sessions=week_template(athlete))


@router.put("/athletes/{athlete_id}/week-template", response_model=s.WeekTemplateOut,
            summary="Save the athlete's own week template (days, titles, sports, objectives)")
def save_week_template(athlete_id: str, body: s.WeekTemplateIn,
                       caller: CallerDep) -> s.WeekTemplateOut:
    access = caller.plan_access(athlete_id)
    athlete = caller.runtime.app.save_week_template(
        caller.ctx, athlete_id, [x.model_dump(exclude_none=True) for x in body.sessions],
        access=access)
    return s.WeekTemplateOut(athlete_id=athlete_id, custom=True,
                             sessions=week_template(athlete))


@router.get("/athletes/{athlete_id}/plans", response_model=list[s.PlanOut])
def list_plans(athlete_id: str, caller: CallerDep) -> list[s.PlanOut]:
    caller.check_read(athlete_id)
    app = caller.runtime.app
    rows = caller.runtime.directory.list("plan", athlete_id, limit=520)
    return [plan_out(app.load(WeeklyPlan, r["entity_id"], "plan")) for r in rows]


@router.get("/athletes/{athlete_id}/plans/{week_start}", response_model=s.PlanOut)
def get_plan(athlete_id: str, week_start: date, caller: CallerDep) -> s.PlanOut:
    caller.check_read(athlete_id, "plan")
    return plan_out(caller.runtime.app.plan(athlete_id, week_start))


@router.post(
    "/athletes/{athlete_id}/plans/{week_start}/sessions",
    status_code=201,
    response_model=s.PlanOut,
    summary="Add a planned session",
)
def add_planned_session(
    athlete_id: str, week_start: date, body: s.SlotIn, caller: CallerDep
) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    app = caller.runtime.app
    app.add_planned_session(
        caller.ctx, athlete_id, week_start, body.model_dump(exclude_none=True), access=access
    )
    return plan_out(app.plan(athlete_id, week_start))


@router.get(
    "/athletes/{athlete_id}/plans/{week_start}/workouts.zip",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}},
                     "description": "One FIT workout file per planned session"}},
    summary="The week's planned sessions as FIT workout files for the watch, in a zip",
    description="Cancelled sessions are left out.  A prescribed strength exercise is a "
    "repeat block (work step with reps and weight, rest step) repeated once per set; an "
    "endurance step keeps its duration or distance and target; a session without "
    "prescription is its sport, its title and one open step.  Importing such a file again "
    "answers `duplicate`: it is its planned session's.",
)
def week_workouts(athlete_id: str, week_start: date, caller: CallerDep) -> Response:
    caller.check_read(athlete_id, "plan")
    files = workouts.week_workouts(caller.runtime.app, athlete_id, week_start)
    return Response(workouts.as_zip(files), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="workouts-{week_start}.zip"'})


@router.get("/athletes/{athlete_id}/plans/{week_start}/history",
            response_model=list[s.PlanEventOut], summary="The week's plan events, in order")
def plan_history(athlete_id: str, week_start: date, caller: CallerDep) -> list[s.PlanEventOut]:
    caller.check_read(athlete_id, "plan")
    plan = caller.runtime.app.plan(athlete_id, week_start)
    return [s.PlanEventOut(**describe("plan", e))
            for e in caller.runtime.app.events.get(plan.id)]


@router.patch(
    "/athletes/{athlete_id}/plans/{week_start}/sessions/{planned_session_id}",
    response_model=s.PlanOut,
    summary="Move a planned session, retitle it, change its sport or objective",
)
def revise_planned_session(athlete_id: str, week_start: date, planned_session_id: str,
                           body: s.SlotPatch, caller: CallerDep) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    return plan_out(caller.runtime.app.revise_planned_session(
        caller.ctx, athlete_id, week_start, planned_session_id,
        body.model_dump(exclude_unset=True), access=access))


@router.put(
    "/athletes/{athlete_id}/plans/{week_start}/sessions/{planned_session_id}/prescription",
    response_model=s.PlanOut,
    summary="Prescribe a planned session's steps (strength: sets x reps at a load, rest; "
    "endurance: a duration or distance with an HR, pace or power target)",
    description="Replaces the slot's prescription (event SlotPrescribed); `steps: []` clears "
    "it.  Shown as `prescription` on the slot; exported to the watch by `.../workouts.zip`.",
)
def prescribe_planned_session(athlete_id: str, week_start: date, planned_session_id: str,
                              body: s.PrescriptionIn, caller: CallerDep) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    steps = [x.model_dump(exclude_none=True) for x in body.steps]
    return plan_out(caller.runtime.app.prescribe_planned_session(
        caller.ctx, athlete_id, week_start, planned_session_id, steps, access=access))


@router.post(
    "/athletes/{athlete_id}/plans/{week_start}/sessions/{planned_session_id}/cancel",
    response_model=s.PlanOut,
)
def cancel_planned_session(
    athlete_id: str, week_start: date, planned_session_id: str, body: s.ReasonIn, caller: CallerDep
) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    return plan_out(
        caller.runtime.app.cancel_planned_session(
            caller.ctx,
            athlete_id,
            week_start,
            planned_session_id,
            body.reason,
            access=access,
        )
    )


@router.post(
    "/athletes/{athlete_id}/plans/{week_start}/sessions/{planned_session_id}/convert",
    response_model=s.PlanOut,
    summary="Convert a planned volume session into a training session",
    description="Needs `objective_id` (422 without).  Refused (409, with the readiness "
    "verdict line) unless the readiness view says `ready` today, or `force` is sent with a "
    "`reason`, which the event keeps (audit trail, `conversion` on the slot).",
)
def convert_volume_session(
    athlete_id: str, week_start: date, planned_session_id: str, body: s.ConvertIn, caller: CallerDep
) -> s.PlanOut:
    access = caller.plan_access(athlete_id)
    if body.force and not (body.reason or "").strip():
        raise InvalidValue("a forced conversion needs a reason", "reason")
    view = answer(caller, "readiness", athlete_id, None, None)
    return plan_out(
        caller.runtime.app.convert_volume_session(
            caller.ctx,
            athlete_id,
            week_start,
            planned_session_id,
            body.objective_id,
            access=access,
            readiness=(view["verdict"], view["line"]),
            reason=body.reason if body.force else None,
        )
    )


@router.post("/athletes/{athlete_id}/plans/{week_start}/comments", status_code=201,
             response_model=s.PlanOut,
             summary="Comment on a planned week (the athlete, the admin, a coach with access)")
def comment_on_week(athlete_id: str, week_start: date, body: s.CommentIn,
                    caller: CallerDep) -> s.PlanOut:
    caller.check_comment(athlete_id, "plan")
    return plan_out(caller.runtime.app.comment_on_week(caller.ctx, athlete_id, week_start,
                                                       body.text))
