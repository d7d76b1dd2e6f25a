"""Goals (objectives)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from projections.facts import plain
from services.api import schemas as s
from services.api.routes_views import answer
from services.api.security import CallerDep
from services.api.views import goal_out
from services.application import Access
from services.domain.goal import Goal

router = APIRouter(tags=["goals"])


@router.post("/athletes/{athlete_id}/goals", status_code=201, response_model=s.GoalOut)
def set_goal(athlete_id: str, body: s.GoalIn, caller: CallerDep) -> s.GoalOut:
    access = caller.plan_access(athlete_id)
    fields = body.model_dump()
    fields["metric"] = body.metric.model_dump(exclude_none=True)
    goal = caller.runtime.app.set_goal(caller.ctx, athlete_id, access=access, **fields)
    return goal_out(goal)


@router.get("/athletes/{athlete_id}/goals", response_model=list[s.GoalOut])
def list_goals(
    athlete_id: str, caller: CallerDep, status: str | None = Query(None, examples=["active"])
) -> list[s.GoalOut]:
    caller.check_read(athlete_id)
    app = caller.runtime.app
    goals = [
        app.load(Goal, r["entity_id"], "goal")
        for r in caller.runtime.directory.list("goal", athlete_id, newest_first=False)
    ]
    return [goal_out(g) for g in goals if status is None or g.status == status]


def _goal_access(goal_id: str, caller: CallerDep) -> Access:
    """Who may change a goal: its athlete, the admin, a coach granted planning."""
    if caller.role != "coach":
        caller.require_writer()
        return caller.write_access
    return caller.plan_access(caller.runtime.app.load(Goal, goal_id, "goal").athlete_id,
                              "goal")


def _readable_goal(goal_id: str, caller: CallerDep) -> Goal:
    goal = caller.runtime.app.load(Goal, goal_id, "goal")
    caller.check_read(goal.athlete_id, "goal")
    return goal


@router.get("/goals/{goal_id}", response_model=s.GoalOut)
def get_goal(goal_id: str, caller: CallerDep) -> s.GoalOut:
    return goal_out(_readable_goal(goal_id, caller))


@router.patch("/goals/{goal_id}", response_model=s.GoalOut, summary="Revise a goal")
def revise_goal(goal_id: str, body: s.GoalPatch, caller: CallerDep) -> s.GoalOut:
    access = _goal_access(goal_id, caller)
    changes = body.model_dump(exclude_unset=True)
    has_values = False
    if body.metric is not None:
        changes["metric"] = body.metric.model_dump(exclude_none=True)
        goal = _readable_goal(goal_id, caller)
        view = answer(caller, "goals", goal.athlete_id, None, None)
        has_values = any(plain(g["values"]) for g in view["goals"] if g["goal_id"] == goal_id)
    return goal_out(
        caller.runtime.app.revise_goal(
            caller.ctx, goal_id, changes, access=access, has_values=has_values
        )
    )


@router.post("/goals/{goal_id}/achieve", response_model=s.GoalOut)
def achieve_goal(goal_id: str, body: s.AchieveIn, caller: CallerDep) -> s.GoalOut:
    access = _goal_access(goal_id, caller)
    return goal_out(
        caller.runtime.app.achieve_goal(
            caller.ctx, goal_id, body.value, body.note, access=access
        )
    )


@router.post("/goals/{goal_id}/abandon", response_model=s.GoalOut)
def abandon_goal(goal_id: str, body: s.ReasonIn, caller: CallerDep) -> s.GoalOut:
    access = _goal_access(goal_id, caller)
    return goal_out(
        caller.runtime.app.abandon_goal(
            caller.ctx, goal_id, body.reason, access=access
        )
    )
