"""Metric observations logged by hand: body mass, sleep, deep work, anything measurable."""

from __future__ import annotations

from fastapi import APIRouter, Query

from services.api import schemas as s
from services.api.security import CallerDep
from services.api.views import observation_out
from services.domain.observation import Observation

router = APIRouter(tags=["observations"])


@router.post(
    "/athletes/{athlete_id}/observations", status_code=201, response_model=s.ObservationOut
)
def record_observation(
    athlete_id: str, body: s.ObservationIn, caller: CallerDep
) -> s.ObservationOut:
    caller.check_write(athlete_id)
    return observation_out(
        caller.runtime.app.record_observation(
            caller.ctx,
            athlete_id,
            body.metric,
            body.value,
            body.unit,
            body.observed_at,
            body.note,
            access=caller.write_access,
        )
    )


@router.post(
    "/athletes/{athlete_id}/check-ins", status_code=201, response_model=s.CheckInOut,
    summary="A daily check-in: sleep, deep work, body mass, resting HR, HRV, any metric",
    description="One observation per value, all recorded or none (422 names the value at "
    "fault).",
)
def record_check_in(athlete_id: str, body: s.CheckInIn, caller: CallerDep) -> s.CheckInOut:
    caller.check_write(athlete_id)
    made = caller.runtime.app.record_check_in(
        caller.ctx, athlete_id, body.observed_at, [v.model_dump() for v in body.values],
        body.note, access=caller.write_access)
    return s.CheckInOut(observations=[observation_out(o) for o in made])


@router.get(
    "/athletes/{athlete_id}/observations",
    response_model=list[s.ObservationOut],
    summary="Observations, newest first",
)
def list_observations(
    athlete_id: str,
    caller: CallerDep,
    metric: str | None = None,
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=s.MAX_OFFSET),
) -> list[s.ObservationOut]:
    caller.check_read(athlete_id)
    app = caller.runtime.app
    rows = caller.runtime.directory.list(
        "observation", athlete_id, label=metric, limit=limit, offset=offset
    )
    return [observation_out(app.observation(r["entity_id"])) for r in rows]


def _readable(observation_id: str, caller: CallerDep) -> Observation:
    obs = caller.runtime.app.observation(observation_id)
    caller.check_read(obs.athlete_id, "observation")
    return obs


@router.get("/observations/{observation_id}", response_model=s.ObservationOut)
def get_observation(observation_id: str, caller: CallerDep) -> s.ObservationOut:
    return observation_out(_readable(observation_id, caller))


@router.patch(
    "/observations/{observation_id}",
    response_model=s.ObservationOut,
    summary="Correct an observation",
)
def correct_observation(
    observation_id: str, body: s.ObservationPatch, caller: CallerDep
) -> s.ObservationOut:
    caller.require_writer()
    return observation_out(
        caller.runtime.app.correct_observation(
            caller.ctx, observation_id, body.value, body.unit, body.note, access=caller.write_access
        )
    )


@router.delete(
    "/observations/{observation_id}",
    response_model=s.ObservationOut,
    summary="Retract an observation (a correction event)",
)
def retract_observation(
    observation_id: str, caller: CallerDep, reason: str | None = Query(None, max_length=2000)
) -> s.ObservationOut:
    caller.require_writer()
    return observation_out(
        caller.runtime.app.retract_observation(
            caller.ctx, observation_id, reason, access=caller.write_access
        )
    )
